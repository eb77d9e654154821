package winrmsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Handlers for the MIM Service node scripts. Each emulates what its script
// does on Windows, with the errors PowerShell would raise there.

func init() {
	Register("mim_read", mimRead)
	RegisterRunAs("mim_install", mimInstall)
	Register("mim_write_config", mimWriteConfig)
	Register("mim_services", mimServices)
	Register("mim_set_service_account", mimSetServiceAccount)
	Register("mim_uninstall", mimUninstall)
}

var mimServiceNames = []string{model.FIMService, model.PamMonitoring, model.PamComponent}

func invalidOperation(msg string) error {
	return &ScriptError{Type: "System.InvalidOperationException", Message: msg, Category: "NotSpecified", ID: "System.InvalidOperationException"}
}

func argumentError(msg string) error {
	return &ScriptError{Type: "System.ArgumentException", Message: msg, Category: "NotSpecified", ID: "System.ArgumentException"}
}

func serviceStates(h *model.Host) map[string]any {
	out := map[string]any{}
	for _, name := range mimServiceNames {
		if s := h.Service(name); s != nil {
			// Get-Process StartTime, converted to UTC and written with ToString('o').
			var started any
			if s.Status == "Running" && !s.StartedAt.IsZero() {
				started = s.StartedAt.UTC().Format("2006-01-02T15:04:05.0000000Z")
			}
			out[name] = map[string]any{"status": s.Status, "start_type": s.StartType, "started_at": started}
		}
	}
	return out
}

func mimImagePath(h *model.Host) (string, bool) {
	v, ok := h.RegValue(model.FIMServiceKey, "ImagePath")
	if !ok {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(v), `"`), true
}

func mimRead(env *model.Env, h *model.Host, _ json.RawMessage) (any, error) {
	image, ok := mimImagePath(h)
	if !ok {
		return map[string]any{"installed": false, "computer_name": h.ComputerName, "services": serviceStates(h)}, nil
	}
	cfgPath := image + ".config"
	b, ok := h.ReadFile(cfgPath)
	if !ok {
		return nil, &ScriptError{Type: "System.IO.FileNotFoundException", Message: fmt.Sprintf("Could not find file '%s'.", cfgPath), Category: "NotSpecified", ID: "FileNotFoundException"}
	}
	reg := func(name string) string { v, _ := h.RegValue(model.FIMServiceKey, name); return v }
	version := ""
	if p := h.Products[model.MIMProductCode]; p != nil {
		version = p.Version
	}
	return map[string]any{
		"installed":     true,
		"computer_name": h.ComputerName,
		"image_path":    image,
		"config_path":   cfgPath,
		"config_base64": base64.StdEncoding.EncodeToString(b),
		"version":       version,
		"database":      reg("DatabaseServer"),
		"database_name": reg("DatabaseName"),
		"logon_account": reg("ObjectName"),
		"services":      serviceStates(h),
	}, nil
}

var (
	msiPropertyName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	// secretLine is what the script's Get-RedactedTail cuts after the name.
	secretLine = regexp.MustCompile(`^(.*?\b[A-Z0-9_]*(PASSWORD|PWD)\b\s*[=:])`)
)

// redactedTail is the script's Get-RedactedTail: the last n lines, every
// secret replaced by ********, a line naming a *PASSWORD or *PWD setting
// cut after the name.
func redactedTail(lines []string, n int, secrets []string) string {
	if n < 0 {
		n = 0
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		for _, s := range secrets {
			if s != "" {
				l = strings.ReplaceAll(l, s, "********")
			}
		}
		if m := secretLine.FindStringSubmatch(l); m != nil {
			l = m[1] + " ********"
		}
		out[i] = l
	}
	return strings.Join(out, "\n")
}

// msiProperties reads one property group of mim_install's input as the
// script does.
func msiProperties(raw json.RawMessage, group string) (map[string]string, error) {
	props := map[string]string{}
	if err := json.Unmarshal(raw, &props); err != nil || raw == nil {
		return nil, &ScriptError{Type: "System.Management.Automation.PropertyNotFoundException",
			Message: "The property '" + group + "' cannot be found on this object. Verify that the property exists.", Category: "NotSpecified", ID: "PropertyNotFoundStrict"}
	}
	for name, value := range props {
		if !msiPropertyName.MatchString(name) {
			return nil, argumentError("Invalid MSI property name: " + name)
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, argumentError("MSI property " + name + " must not contain a line break.")
		}
	}
	return props, nil
}

// mimInstall emulates mim_install.ps1: the install through the Windows
// Installer automation object (no installer process of ours; the Windows
// Installer service, msiexec /V as LocalSystem, does the work), a verbose
// log in a private directory that is read, redacted and deleted.
func mimInstall(env *model.Env, h *model.Host, logon model.Identity, raw json.RawMessage) (any, error) {
	var in struct {
		InstallerPath    string          `json:"installer_path"`
		Properties       json.RawMessage `json:"properties"`
		SecretProperties json.RawMessage `json:"secret_properties"`
		LogTailLines     int             `json:"log_tail_lines"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	if _, ok := mimImagePath(h); ok {
		return nil, invalidOperation("The MIM Service is already installed on this computer.")
	}
	if strings.ContainsAny(in.InstallerPath, "\"\r\n") {
		return nil, argumentError("installer_path must not contain a double quote or a line break.")
	}
	// Test-Path on a UNC path is a second hop (SMB as the running logon).
	if _, err := env.ReadPath(h, logon, in.InstallerPath); err != nil {
		if !model.IsFileNotFound(err) {
			return nil, hopError(err)
		}
		return nil, &ScriptError{Type: "System.IO.FileNotFoundException", Message: "MIM installer not found: " + in.InstallerPath, Category: "NotSpecified", ID: "System.IO.FileNotFoundException"}
	}
	props, err := msiProperties(in.Properties, "properties")
	if err != nil {
		return nil, err
	}
	secretProps, err := msiProperties(in.SecretProperties, "secret_properties")
	if err != nil {
		return nil, err
	}
	var secrets []string
	for name, value := range secretProps {
		props[name] = value
		secrets = append(secrets, value)
		env.NoteSecret(value)
	}
	env.StartProcess(h.FQDN, `nt authority\system`, `C:\Windows\system32\msiexec.exe /V`)
	// The installer creates its database on SQL Server with Windows
	// authentication as the installing logon: from a WinRM network logon that
	// is the second hop, and the install ends with 1603.
	var (
		code   int
		reason string
		log    []string
	)
	if herr := env.Reach(h, logon, model.Hop{Kind: model.HopSQL, Target: props["SQLSERVER_SERVER"]}); herr != nil {
		code, reason = model.MSIInstallFailure, herr.Error()
		log = []string{
			"Entering MsiInstallProduct. Package: " + in.InstallerPath,
			"Product: " + model.MIMProductName + " -- Cannot connect to SQL Server " + props["SQLSERVER_SERVER"] + ": " + herr.Error(),
			"Product: " + model.MIMProductName + " -- Installation failed.",
			fmt.Sprintf("MainEngineThread is returning %d", code),
		}
	} else {
		code, reason, log = env.RunMIMInstaller(h, in.InstallerPath, props)
	}
	// The log lives in the private directory only while the script reads it.
	dir := privateDir(h, "bastion-msi-")
	h.WriteFile(dir+`\install.log`, []byte(strings.Join(log, "\r\n")))
	tail := ""
	if code != model.MSISuccess {
		tail = redactedTail(log, in.LogTailLines, secrets)
		env.Record(h.FQDN, "msi-exit", fmt.Sprintf("%d: %s", code, reason))
	}
	removePrivateDir(env, h, dir)
	return map[string]any{"exit_code": code, "reboot_required": code == model.MSIRebootRequired, "log_tail": tail}, nil
}

// privateDir emulates New-PrivateDirectory: a new folder in the running
// account's temp folder that only the account and LocalSystem may read.
func privateDir(h *model.Host, prefix string) string {
	return `C:\Users\Administrator\AppData\Local\Temp\` + prefix + newUUID()
}

// removePrivateDir emulates Remove-PrivateDirectory.
func removePrivateDir(env *model.Env, h *model.Host, dir string) {
	prefix := model.FileKey(dir + `\`)
	for k := range h.Files {
		if strings.HasPrefix(k, prefix) {
			delete(h.Files, k)
		}
	}
	env.Record(h.FQDN, "private-dir-removed", dir)
}

func restartService(env *model.Env, h *model.Host, name string) error {
	s := h.Service(name)
	if s == nil {
		return &ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException", Message: fmt.Sprintf("Cannot find any service with service name '%s'.", name), Category: "ObjectNotFound", ID: "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.RestartServiceCommand"}
	}
	s.Status = "Stopped"
	if name == model.FIMService {
		if acct, ok := h.RegValue(model.FIMServiceKey, "ObjectName"); ok && h.Products[model.MIMProductCode] != nil {
			if pw, ok := h.Registry[model.RegKey(model.FIMServiceKey)]["lab:password"]; ok && env.Credentials[strings.ToLower(acct)] != pw {
				env.Record(h.FQDN, "service-start-failed", name+": logon failure")
				return &ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException", Message: fmt.Sprintf("Failed to start service '%s (%s)'.", s.DisplayName, name), Category: "OpenError", ID: "StartServiceFailed,Microsoft.PowerShell.Commands.RestartServiceCommand"}
			}
		}
	}
	s.Status = "Running"
	s.Starts++
	s.StartedAt = env.Now()
	env.Record(h.FQDN, "service-restart", name)
	return nil
}

func mimWriteConfig(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	var in struct {
		ExpectedSHA256 string `json:"expected_sha256"`
		ContentBase64  string `json:"content_base64"`
		Restart        bool   `json:"restart"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	image, ok := mimImagePath(h)
	if !ok {
		return nil, invalidOperation("The MIM Service is not installed on this computer.")
	}
	path := image + ".config"
	current, ok := h.ReadFile(path)
	if !ok {
		return nil, &ScriptError{Type: "System.IO.FileNotFoundException", Message: fmt.Sprintf("Could not find file '%s'.", path), Category: "NotSpecified", ID: "FileNotFoundException"}
	}
	if got := sha256Hex(current); got != in.ExpectedSHA256 {
		return nil, invalidOperation("The config file " + path + " changed since it was read (sha256 " + got + ").")
	}
	b, err := base64.StdEncoding.DecodeString(in.ContentBase64)
	if err != nil {
		return nil, &ScriptError{Type: "System.FormatException", Message: "The input is not a valid Base-64 string.", Category: "NotSpecified", ID: "FormatException"}
	}
	h.WriteFile(path+".bastion-previous", current)
	h.WriteFile(path, b)
	env.Record(h.FQDN, "config-write", path)
	if in.Restart {
		if err := restartService(env, h, model.FIMService); err != nil {
			return nil, err
		}
	}
	return map[string]any{"config_path": path, "sha256": sha256Hex(b), "restarted": in.Restart}, nil
}

func mimServices(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	var in struct {
		Action string   `json:"action"`
		Names  []string `json:"names"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	if in.Action != "start" && in.Action != "stop" && in.Action != "restart" {
		return nil, argumentError("Unknown service action: " + in.Action)
	}
	out := map[string]any{}
	for _, name := range in.Names {
		allowed := false
		for _, a := range mimServiceNames {
			allowed = allowed || strings.EqualFold(a, name)
		}
		if !allowed {
			return nil, argumentError("Service not managed by this provider: " + name)
		}
		s := h.Service(name)
		if s == nil {
			return nil, &ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException", Message: fmt.Sprintf("Cannot find any service with service name '%s'.", name), Category: "ObjectNotFound", ID: "NoServiceFoundForGivenName"}
		}
		switch in.Action {
		case "start":
			if s.Status != "Running" {
				if err := restartService(env, h, name); err != nil {
					return nil, err
				}
			}
		case "stop":
			s.Status = "Stopped"
			env.Record(h.FQDN, "service-stop", name)
		case "restart":
			if err := restartService(env, h, name); err != nil {
				return nil, err
			}
		}
		out[s.Name] = s.Status
	}
	return map[string]any{"services": out}, nil
}

func mimSetServiceAccount(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	var in struct {
		Account  string `json:"account"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	if h.Service(model.FIMService) == nil {
		return nil, invalidOperation("The MIM Service is not installed on this computer.")
	}
	h.SetRegValue(model.FIMServiceKey, "ObjectName", in.Account)
	// The service control manager keeps the password; the lab keeps it only to
	// decide whether the next start logs on.
	h.SetRegValue(model.FIMServiceKey, "lab:password", in.Password)
	env.Record(h.FQDN, "service-account-change", model.FIMService+" logon account "+in.Account)
	if err := restartService(env, h, model.FIMService); err != nil {
		return nil, err
	}
	return map[string]any{"restarted": true}, nil
}

func mimUninstall(env *model.Env, h *model.Host, _ json.RawMessage) (any, error) {
	if p := h.Products[model.MIMProductCode]; p != nil {
		env.StartProcess(h.FQDN, "", "msiexec.exe /x "+p.Code+" /qn /norestart")
	}
	removed := env.UninstallMIM(h)
	return map[string]any{"removed": removed, "exit_code": 0}, nil
}
