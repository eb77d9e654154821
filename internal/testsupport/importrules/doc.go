// Package importrules holds the test that keeps the rooms of docs/DESIGN.md
// apart: it reads the module's import graph with `go list -deps` and fails
// on an import that crosses a wall.
package importrules
