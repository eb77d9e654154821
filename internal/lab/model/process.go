package model

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// ProcessStart is one process a simulated host started, with its command
// line as anyone allowed to list processes reads it on Windows
// (Win32_Process.CommandLine, Task Manager, Sysmon event 1). A secret on a
// command line is a leaked secret, so the lab keeps every one for tests to
// scan (CommandLineLeaks).
type ProcessStart struct {
	Time time.Time
	Host string
	// Account is the Credentials key the process runs as ("" when the
	// starting handler does not know the session).
	Account     string
	CommandLine string
}

// StartProcess records a process start on host. Callers hold the lock.
func (e *Env) StartProcess(host, account, commandLine string) {
	e.processes = append(e.processes, ProcessStart{Time: e.Now(), Host: Key(host), Account: account, CommandLine: commandLine})
}

// ProcessStarts returns every process start so far, oldest first.
func (e *Env) ProcessStarts() []ProcessStart {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ProcessStart(nil), e.processes...)
}

// NoteSecret records values the lab received as secrets (passwords in a
// script's input), so CommandLineLeaks looks for them too even when no
// account has that password. Callers hold the lock.
func (e *Env) NoteSecret(values ...string) {
	if e.secrets == nil {
		e.secrets = map[string]bool{}
	}
	for _, v := range values {
		if v != "" {
			e.secrets[v] = true
		}
	}
}

// Secrets returns every secret the lab has seen: the passwords of all
// accounts (Credentials), the passwords demotions set, and those noted
// from script input. Sorted, without duplicates.
func (e *Env) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := map[string]bool{}
	for _, v := range e.Credentials {
		set[v] = true
	}
	for _, list := range e.DemotionPasswords {
		for _, v := range list {
			set[v] = true
		}
	}
	for v := range e.secrets {
		set[v] = true
	}
	delete(set, "")
	return slices.Sorted(maps.Keys(set))
}

// Leak is a secret found on a recorded command line.
type Leak struct {
	Process ProcessStart
	// Secret is the leaked value; callers print only its length.
	Secret string
}

// CommandLineLeaks returns every (process, secret) pair where the secret
// appears on the process's command line, or in the text of a PowerShell
// -EncodedCommand on it (base64 of UTF-16LE hides nothing from a reader).
func CommandLineLeaks(starts []ProcessStart, secrets []string) []Leak {
	var out []Leak
	for _, p := range starts {
		texts := append([]string{p.CommandLine}, decodedCommands(p.CommandLine)...)
		for _, s := range secrets {
			for _, t := range texts {
				if strings.Contains(t, s) {
					out = append(out, Leak{Process: p, Secret: s})
					break
				}
			}
		}
	}
	return out
}

// decodedCommands decodes the argument after each -EncodedCommand (or a
// prefix of it PowerShell accepts, such as -enc or -e).
func decodedCommands(commandLine string) []string {
	f := strings.Fields(commandLine)
	var out []string
	for i := 0; i+1 < len(f); i++ {
		a := strings.ToLower(f[i])
		if len(a) < 2 || a[0] != '-' || !strings.HasPrefix("-encodedcommand", a) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.Trim(f[i+1], `"`))
		if err != nil || len(raw)%2 != 0 {
			continue
		}
		out = append(out, utf16le.Decode(raw))
	}
	return out
}
