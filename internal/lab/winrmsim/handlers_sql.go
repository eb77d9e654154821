package winrmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Handler for sql_setup.ps1: it validates its input exactly as the script
// does, then emulates setup.exe against the model (model.RunSQLSetup), which
// checks the settings as setup does and writes Summary.txt on the host.

func init() {
	RegisterRunAs("sql_setup", sqlSetup)
}

var (
	sqlSettingName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	sqlMediaVer    = regexp.MustCompile(`version=([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)`)
	sqlReserved    = map[string]bool{"ACTION": true, "Q": true, "QS": true, "QUIET": true, "QUIETSIMPLE": true,
		"IACCEPTSQLSERVERLICENSETERMS": true, "CONFIGURATIONFILE": true, "UIMODE": true, "HELP": true, "INDICATEPROGRESS": true}
)

// setupArgument quotes one value for setup.exe's command line as the
// script's ConvertTo-NativeArgument does (CommandLineToArgvW rules):
// backslashes are doubled only before a double quote or the closing quote.
func setupArgument(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for _, r := range v {
		if r == '\\' {
			n++
			continue
		}
		if r == '"' {
			b.WriteString(strings.Repeat(`\`, 2*n+1))
		} else {
			b.WriteString(strings.Repeat(`\`, n))
		}
		b.WriteRune(r)
		n = 0
	}
	b.WriteString(strings.Repeat(`\`, 2*n))
	b.WriteByte('"')
	return b.String()
}

// setupValues turns one JSON setting value (string, boolean, number or an
// array of them) into setup's values, as [string] casts them in the script.
func setupValues(raw json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		var v any
		if err := json.Unmarshal(item, &v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, map[bool]string{true: "True", false: "False"}[x])
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		case nil:
			out = append(out, "")
		default:
			return nil, fmt.Errorf("unsupported value %s", item)
		}
	}
	return out, nil
}

// reachCluster is setup's cluster rule: it checks and changes the Windows
// failover cluster through WMI and the cluster API on the nodes, as the
// logon running setup, even when the cluster has this node only (its
// network name is another computer object).
func reachCluster(env *model.Env, h *model.Host, logon model.Identity) error {
	return env.Reach(h, logon, model.Hop{Kind: model.HopCluster})
}

func sqlSetup(env *model.Env, h *model.Host, logon model.Identity, raw json.RawMessage) (any, error) {
	var in struct {
		MediaPath        string                     `json:"media_path"`
		Action           string                     `json:"action"`
		Parameters       map[string]json.RawMessage `json:"parameters"`
		SummaryTailLines int                        `json:"summary_tail_lines"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	switch in.Action {
	case "InstallFailoverCluster", "AddNode", "RemoveNode":
	default:
		return nil, argumentError("Unknown SQL Server setup action: " + in.Action)
	}
	if in.MediaPath == "" || strings.ContainsAny(in.MediaPath, "\"\r\n") {
		return nil, argumentError("media_path must be a folder path without double quotes or line breaks.")
	}
	setupPath := in.MediaPath + `\setup.exe`
	if strings.HasSuffix(in.MediaPath, `\`) || strings.HasSuffix(in.MediaPath, "/") {
		setupPath = in.MediaPath + "setup.exe"
	}
	media, err := env.ReadPath(h, logon, setupPath)
	if err != nil && !model.IsFileNotFound(err) {
		return nil, hopError(err)
	}
	if err != nil {
		return nil, &ScriptError{Type: "System.IO.FileNotFoundException", Message: "SQL Server setup not found: " + setupPath, Category: "NotSpecified", ID: "System.IO.FileNotFoundException"}
	}
	if in.Parameters == nil {
		return nil, argumentError("parameters is required.")
	}
	params := model.SQLSetupParams{}
	for rawName, rawValue := range in.Parameters {
		name := strings.ToUpper(rawName)
		if !sqlSettingName.MatchString(name) {
			return nil, argumentError("Invalid SQL Server setup setting name: " + name)
		}
		if sqlReserved[name] {
			return nil, argumentError("The setup setting " + name + " is set by the provider, not by parameters.")
		}
		values, err := setupValues(rawValue)
		if err != nil {
			return nil, argumentError("The setup setting " + name + ": " + err.Error())
		}
		for i, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, argumentError("The setup setting " + name + " must not contain a line break.")
			}
			if i > 0 && strings.HasPrefix(v, "/") {
				return nil, argumentError("A further value of the setup setting " + name + " must not start with /.")
			}
		}
		params[name] = values
	}
	for name, v := range params {
		if prefix, ok := strings.CutSuffix(name, "SVCACCOUNT"); ok && prefix != "" && len(v) > 0 && model.IsManagedServiceAccount(v[0]) {
			delete(params, prefix+"SVCPASSWORD")
		}
	}

	version := model.DefaultSQLVersion
	if m := sqlMediaVer.FindSubmatch(media); m != nil {
		version = string(m[1])
	}

	names := slices.Sorted(maps.Keys(params))
	fixed := []string{"/ACTION=" + in.Action, "/Q", "/IACCEPTSQLSERVERLICENSETERMS"}
	shown := append([]string(nil), fixed...)
	args := append([]string(nil), fixed...)
	ini := []string{"[OPTIONS]"}
	var secrets []string
	for _, name := range names {
		if model.IsSecretSetting(name) {
			secret := ""
			if len(params[name]) > 0 {
				secret = params[name][0]
			}
			if strings.Contains(secret, `"`) {
				return nil, argumentError("The setup setting " + name + " must not contain a double quote: setup reads it from a configuration file.")
			}
			ini = append(ini, name+`="`+secret+`"`)
			secrets = append(secrets, secret)
			shown = append(shown, "/"+name+"=********")
			continue
		}
		quoted := make([]string, len(params[name]))
		for i, v := range params[name] {
			quoted[i] = setupArgument(v)
		}
		args = append(args, "/"+name+"="+strings.Join(quoted, " "))
		shown = append(shown, "/"+name+"="+strings.Join(quoted, " "))
	}
	env.NoteSecret(secrets...)
	// The script's private folder holds the configuration file (and setup's
	// redirected output) while setup runs.
	dir := privateDir(h, "bastion-sql-setup-")
	if len(secrets) > 0 {
		file := dir + `\ConfigurationFile.ini`
		h.WriteFile(file, []byte(strings.Join(ini, "\r\n")+"\r\n"))
		args = append(args, "/CONFIGURATIONFILE="+setupArgument(file))
	}
	env.StartProcess(h.FQDN, logon.Account, setupArgument(setupPath)+" "+strings.Join(args, " "))
	// Setup's cluster actions check and change every node through WMI and
	// the cluster API as the logon running setup: from a WinRM network
	// logon its rule fails before anything changes.
	if err := reachCluster(env, h, logon); err != nil {
		removePrivateDir(env, h, dir)
		var he *model.HopError
		if errors.As(err, &he) {
			return nil, invalidOperation(fmt.Sprintf("SQL Server setup failed with exit code %d: %s", he.Code, he.Message))
		}
		return nil, err
	}
	res := env.RunSQLSetup(h, in.Action, version, params)
	removePrivateDir(env, h, dir)
	if res.ExitCode != 0 && res.ExitCode != 3010 {
		summary, _ := h.ReadFile(res.SummaryLog)
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(summary), "\r\n", "\n"), "\n"), "\n")
		return nil, invalidOperation(fmt.Sprintf("SQL Server setup failed with exit code %d: %s See %s. Its last lines:\n%s",
			res.ExitCode, res.Message, res.SummaryLog, redactedTail(lines, in.SummaryTailLines, secrets)))
	}
	return map[string]any{
		"action":          in.Action,
		"exit_code":       res.ExitCode,
		"reboot_required": res.ExitCode == 3010,
		"summary_log":     res.SummaryLog,
		"arguments":       shown,
	}, nil
}
