// Command bastion-lab runs the simulated bastion as its own process, for
// `make demo` and for trying the provider by hand: `bastion-lab help` lists
// the commands, `bastion-lab CMD -h` documents one, and docs/guides/lab.md
// walks through them. Every endpoint listens on 127.0.0.1 only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one sub-command: its synopsis, its help text and its flags.
// setup registers the flags on fs and returns what runs once they are parsed.
type command struct {
	name    string
	args    string // flags in the synopsis, e.g. "-host H -protocol P"
	summary string // one line for `bastion-lab help`
	detail  string // the rest of `bastion-lab CMD -h`
	setup   func(fs *flag.FlagSet) func(ctx context.Context, out io.Writer) error
}

// defaultDir is where serve writes lab.env, ca.pem and control.json, and
// where every other command finds the running lab.
const defaultDir = ".bastion-lab"

func commands() []command {
	return []command{serveCmd(), statusCmd(), faultCmd(), certCmd(), latencyCmd(), clearCmd(), downCmd(), upCmd(), backupCmd(), accountCmd(), failoverCmd(), requestCmd(), completeCmd()}
}

// usageError means the command line was wrong; run prints the usage and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		_, _ = fmt.Fprintf(stderr, "bastion-lab: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("bastion-lab "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	exec := cmd.setup(fs)
	// A wrong command line gets the synopsis; -h gets the whole page.
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "Usage: bastion-lab %s %s\n(\"bastion-lab help %s\" documents every flag)\n", cmd.name, cmd.args, cmd.name)
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			commandUsage(stdout, cmd, fs)
			return 0
		}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "bastion-lab %s: unexpected argument %q\n", cmd.name, fs.Arg(0))
		return 2
	}
	if err := exec(ctx, stdout); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			_, _ = fmt.Fprintf(stderr, "bastion-lab %s: %v\n", cmd.name, ue)
			fs.Usage()
			return 2
		}
		_, _ = fmt.Fprintf(stderr, "bastion-lab %s: %v\n", cmd.name, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`bastion-lab runs a simulated MIM PAM bastion on 127.0.0.1: the PRIV domain's
domain controllers (LDAP, WinRM), the SQL Server failover cluster instance
(TDS), the MIM hosts (WinRM) and a CORP forest. It answers as Windows does,
so the provider can be tried without Windows. Guide: docs/guides/lab.md.

Usage: bastion-lab COMMAND [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString(`  help      this text; "bastion-lab help COMMAND" (or "bastion-lab COMMAND -h") documents one command

Start with "bastion-lab serve", then in another shell "source ` + defaultDir + `/lab.env" and run terraform.
`)
	_, _ = io.WriteString(w, b.String())
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	_, _ = fmt.Fprintf(w, "Usage: bastion-lab %s %s\n\n%s\n\n%s\n\nFlags:\n", c.name, c.args, c.summary, strings.TrimSpace(c.detail))
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// dirFlag is every command's -dir.
func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", defaultDir, "the lab's directory: serve writes lab.env, ca.pem and control.json there; the other commands find the running lab through it")
}

// required reports a missing flag as a usage error.
func required(flagName, value string) error {
	if strings.TrimSpace(value) == "" {
		return usageError{"-" + flagName + " is required"}
	}
	return nil
}
