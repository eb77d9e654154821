package winrmsim

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// The run-as mechanism of the scripts that reach a second machine
// (internal/scripts/include/runas.ps1). Such a script, given
// input.run_as = {username, password}, does not do its work in the WinRM
// session: it registers a one-shot scheduled task for that account through
// the Schedule.Service COM API with TASK_LOGON_PASSWORD (the password is an
// argument of RegisterTaskDefinition, never on a command line or in a
// file), whose action is cmd.exe running the constant bootstrap with stdin
// and stdout on two named pipes only that account may open. The script
// writes itself and its input without run_as into the first pipe, reads the
// reply from the second, and deletes the task in a finally block. The task
// runs in a batch logon (LOGON32_LOGON_BATCH): the account's own logon,
// which reaches other machines as that account (model.Reach).
//
// Packer's elevated provisioner (hashicorp/packer-plugin-sdk
// guestexec/elevated.go) and Ansible's become (runas: LogonUser +
// CreateProcessWithTokenW) run steps the same way; here nothing secret
// touches the disk or a command line.

// SessionHandler simulates a script that runs its step under the logon it
// is given: the WinRM session's own, or the run-as task's.
type SessionHandler func(env *model.Env, host *model.Host, logon model.Identity, input json.RawMessage) (any, error)

var runAsRegistry = handlerTable[SessionHandler]{what: "run-as handler"}

// RegisterRunAs installs the handler of a script that includes runas.ps1.
// Call it from init(); it panics on a duplicate, as Register does.
func RegisterRunAs(name string, h SessionHandler) {
	if name == "" || name == bootstrapName || h == nil {
		panic(fmt.Sprintf("winrmsim: RegisterRunAs(%q): bad name or nil handler", name))
	}
	runAsRegistry.add(name, h)
	// The plain registry knows the name too, so one script has one handler.
	Register(name, func(*model.Env, *model.Host, json.RawMessage) (any, error) {
		return nil, errors.New("winrmsim: " + name + " runs through its run-as handler")
	})
}

func runAsHandlerFor(name string) SessionHandler { return runAsRegistry.get(name) }

// RunAsTaskCommandLine is the command line of the run-as task's action,
// as the lab records it: the constant bootstrap (accepted by digest), the
// two pipe names (random, not secret), nothing else.
func RunAsTaskCommandLine(token string) string {
	return `C:\Windows\System32\cmd.exe /d /c "C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <bootstrap>` +
		` < \\.\pipe\bastion-runas-` + token + `-in > \\.\pipe\bastion-runas-` + token + `-out"`
}

// runWithLogon runs a run-as script's handler the way the script runs:
// in the WinRM session's logon without input.run_as, else in a one-shot
// task under the named account's batch logon. Callers hold the model lock.
func runWithLogon(env *model.Env, host *model.Host, session model.Identity, h SessionHandler, input json.RawMessage) (any, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil || fields == nil {
		return h(env, host, session, input)
	}
	raw, ok := fields["run_as"]
	if !ok || string(raw) == "null" {
		return h(env, host, session, input)
	}
	var as struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeStrict(raw, &as, "username", "password"); err != nil {
		return nil, err
	}
	env.NoteSecret(as.Password)
	logon, err := env.BatchLogonHeld(host.FQDN, as.Username, as.Password)
	if err != nil {
		// RegisterTaskDefinition checks the password of a TASK_LOGON_PASSWORD
		// task: ERROR_LOGON_FAILURE (0x8007052E) through COM.
		return nil, thrown("System.Runtime.InteropServices.COMException",
			"The user name or password is incorrect. (Exception from HRESULT: 0x8007052E)")
	}
	delete(fields, "run_as")
	inner, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	token := newUUID()
	task := `\bastion-runas-` + token
	host.ScheduledTasks = append(host.ScheduledTasks, task)
	env.Record(host.FQDN, "task-registered", task+" as "+logon.Account)
	// Task Scheduler starts the action in the account's batch logon.
	env.StartProcess(host.FQDN, logon.Account, RunAsTaskCommandLine(token))
	defer func() {
		// The script's finally block: the task goes, whatever happened.
		for i, t := range host.ScheduledTasks {
			if t == task {
				host.ScheduledTasks = append(host.ScheduledTasks[:i], host.ScheduledTasks[i+1:]...)
				break
			}
		}
		env.Record(host.FQDN, "task-deleted", task)
	}()
	result, err := h(env, host, logon, inner)
	return result, rethrown(err)
}

// unconstructible are exception types New-Object cannot build from a
// message (no public constructor, or an assembly PowerShell has not loaded).
var unconstructible = map[string]bool{
	"System.Data.SqlClient.SqlException":                                                     true,
	"Microsoft.SqlServer.Configuration.RulesEngineExtension.RulesEngineRuleFailureException": true,
}

// rethrown is the task's error as the WinRM session's script rethrows it
// (Invoke-AsAccount): the same type built from the message where it can be,
// else a RuntimeException naming the type; PowerShell files a thrown
// exception under OperationStopped with its message as id.
func rethrown(err error) error {
	var se *ScriptError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	if unconstructible[se.Type] {
		return thrown("System.Management.Automation.RuntimeException", se.Type+": "+se.Message)
	}
	return thrown(se.Type, se.Message)
}
