package model

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
)

// Paths and names a MIM Service and Portal install creates, as on Windows.
const (
	MIMServiceDir     = `C:\Program Files\Microsoft Forefront Identity Manager\2010\Service`
	MIMImagePath      = MIMServiceDir + `\Microsoft.ResourceManagement.Service.exe`
	MIMConfigPath     = MIMImagePath + `.config`
	FIMServiceKey     = `HKLM:\System\CurrentControlSet\Services\FIMService`
	UninstallKey      = `HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	MIMProductCode    = `{A9A8A1C3-5B1E-4B8C-9D9B-2C1E0F1A6E42}`
	MIMProductName    = `Microsoft Identity Manager Service and Portal`
	MIMProductVersion = `4.6.607.0`
	DefaultMIMMSIPath = `C:\Sources\MIM\Service and Portal\Service and Portal.msi`
	FIMService        = "FIMService"
	PamMonitoring     = "PamMonitoringService"
	PamComponent      = "PrivilegeManagementComponentService"
)

// MSIError is a failed install: Windows Installer's exit code, why, and
// the verbose log the install wrote (raw: secrets included, as a package
// that does not list them in MsiHiddenProperties logs them).
type MSIError struct {
	Code   int
	Reason string
	Log    []string
}

func (e MSIError) Error() string { return fmt.Sprintf("msiexec exit code %d: %s", e.Code, e.Reason) }

// Windows Installer's exit codes the lab models ("MsiExec.exe and
// InstMsi.exe Error Messages", learn.microsoft.com/windows/win32/msi/error-codes).
const (
	MSISuccess        = 0
	MSIInstallFailure = 1603 // ERROR_INSTALL_FAILURE
	MSIAlreadyRunning = 1618 // ERROR_INSTALL_ALREADY_RUNNING
	MSIRebootRequired = 3010 // ERROR_SUCCESS_REBOOT_REQUIRED
)

// MIMFeatures is the Feature table of the MIM Service and Portal MSI as
// public automation uses it (xMIMDsc, MIMUnattendedInstallGenerator): the
// MIM Service is CommonServices; there is no FIMService feature.
var MIMFeatures = []string{"CommonServices", "WebPortals", "RegistrationPortal", "ResetPortal", "PAMServices", "FIMReporting"}

// MIMProperties are the public properties the package reads (same
// sources). Windows Installer itself accepts any property name; the lab
// refuses one the package does not read, because a misspelt property is
// silently ignored on Windows and the install then misses a setting.
var MIMProperties = []string{
	"ADDLOCAL", "REMOVE", "ACCEPT_EULA", "SQMOPTINSETTING", "REBOOT",
	"SQLSERVER_SERVER", "SQLSERVER_DATABASE", "EXISTINGDATABASE",
	"SERVICE_ACCOUNT_NAME", "SERVICE_ACCOUNT_DOMAIN", "SERVICE_ACCOUNT_PASSWORD", "SERVICE_ACCOUNT_EMAIL",
	"USE_MANAGED_ACCOUNT_FOR_SERVICE", "MAIL_SERVER", "MAIL_SERVER_USE_SSL", "MAIL_SERVER_IS_EXCHANGE",
	"POLL_EXCHANGE_ENABLED", "SERVICEADDRESS", "SYNCHRONIZATION_SERVER", "SYNCHRONIZATION_SERVER_ACCOUNT",
	"PAM_MONITORING_SERVICE_ACCOUNT_NAME", "PAM_MONITORING_SERVICE_ACCOUNT_DOMAIN", "PAM_MONITORING_SERVICE_ACCOUNT_PASSWORD",
	"PAM_COMPONENT_SERVICE_ACCOUNT_NAME", "PAM_COMPONENT_SERVICE_ACCOUNT_DOMAIN", "PAM_COMPONENT_SERVICE_ACCOUNT_PASSWORD",
	"PAM_REST_API_APPPOOL_ACCOUNT_NAME", "PAM_REST_API_APPPOOL_ACCOUNT_DOMAIN", "PAM_REST_API_APPPOOL_ACCOUNT_PASSWORD",
	"MIMPAM_REST_API_PORT", "FIREWALL_CONF",
}

func knownName(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// msiLog builds the verbose log lines the lab writes for an install.
type msiLog struct{ lines []string }

func (l *msiLog) add(side, format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf("MSI (%s) (A0:B4) [12:00:00:000]: ", side)+fmt.Sprintf(format, args...))
}

// SetInstallerBusy makes the next n installs on host find another
// installation in progress (exit code 1618), as while Windows Update or
// another MSI holds the installer's execution mutex.
func (e *Env) SetInstallerBusy(host string, n int) error {
	return e.onHost(host, func(h *Host) error {
		h.installerBusy = n
		return nil
	})
}

// SetInstallRebootRequired makes installs on host end with 3010: done, but
// files in use are replaced only at the next restart.
func (e *Env) SetInstallRebootRequired(host string, on bool) error {
	return e.onHost(host, func(h *Host) error {
		h.installReboot = on
		return nil
	})
}

var configTemplate = template.Must(template.New("cfg").Parse(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="resourceManagementService" type="Microsoft.ResourceManagement.Service.ResourceManagementServiceSection, Microsoft.ResourceManagement.Service, Version=4.1.3419.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" />
    <section name="resourceManagementClient" type="Microsoft.ResourceManagement.WebServices.ResourceManagementClientSection, Microsoft.ResourceManagement, Version=4.1.3419.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" />
  </configSections>
  <!--
    externalHostName is the address clients use (the load-balancer alias).
    serviceName defaults to the computer name when absent.
  -->
  <resourceManagementService externalHostName="{{.External}}" dataReadTimeoutInSeconds="58" dataWriteTimeoutInSeconds="58" servicePartitionName="{{.Partition}}" />
  <resourceManagementClient resourceManagementServiceBaseAddress="http://{{.External}}:5725" timeoutInMilliseconds="60000" />
  <system.serviceModel>
    <bindings>
      <wsHttpBinding>
        <binding name="ServiceBinding" maxReceivedMessageSize="9223372036854775807">
          <security mode="Message"><message clientCredentialType="Windows" /></security>
        </binding>
      </wsHttpBinding>
    </bindings>
  </system.serviceModel>
  <system.diagnostics>
    <sources>
      <source name="Microsoft.ResourceManagement" switchValue="Error"><listeners><add name="EventLogListener" /></listeners></source>
    </sources>
  </system.diagnostics>
</configuration>
`))

// Request is a MIM request bound to the partition and service name of the
// MIM Service that accepted it (seed 000, "MIM Service"): only a service with
// the same servicePartitionName may act on it, and a workflow instance can only
// be completed by a service with the same partition AND service name.
type Request struct {
	ID          string
	Partition   string
	ServiceName string
	Status      string // Pending | Completed
	CompletedBy string
}

// MIMNames are the three names in a node's config file, effective values
// (serviceName falls back to the computer name).
type MIMNames struct {
	ExternalHostName     string
	ServiceName          string
	ServicePartitionName string
}

// InstallMIM runs the MIM Service and Portal MSI on h with the given
// properties (RunMIMInstaller) and returns an MSIError unless it succeeded
// (0 or 3010). Callers hold the lock.
func (e *Env) InstallMIM(h *Host, msiPath string, props map[string]string) error {
	code, reason, log := e.RunMIMInstaller(h, msiPath, props)
	if code != MSISuccess && code != MSIRebootRequired {
		return MSIError{Code: code, Reason: reason, Log: log}
	}
	return nil
}

// RunMIMInstaller emulates Windows Installer installing the MIM Service and
// Portal MSI on h: the exit code, why it failed, and the verbose log.
// Callers hold the lock.
func (e *Env) RunMIMInstaller(h *Host, msiPath string, props map[string]string) (code int, reason string, log []string) {
	var l msiLog
	l.add("c", "Entering MsiInstallProduct. Package: %s", msiPath)
	fail := func(code int, reason string) (int, string, []string) {
		l.add("s", "Product: %s -- Installation failed.", MIMProductName)
		l.add("s", "Windows Installer installed the product. Product Name: %s. Product Version: %s. Installation success or error status: %d.", MIMProductName, MIMProductVersion, code)
		l.add("c", "MainEngineThread is returning %d", code)
		return code, reason, l.lines
	}
	if h.installerBusy > 0 {
		h.installerBusy--
		l.add("c", "Failed to grab execution mutex. System error 258.")
		l.add("c", "Another installation is already in progress. Complete that installation before proceeding with this install.")
		l.add("c", "MainEngineThread is returning %d", MSIAlreadyRunning)
		return MSIAlreadyRunning, "another installation is in progress", l.lines
	}
	// The handler checked that the installing logon reaches a UNC package.
	if _, ok := e.openPath(h, msiPath); !ok {
		l.add("c", "Note: 1: 1309 2: 2 3: %s", msiPath)
		return fail(MSIInstallFailure, "installation package could not be opened: "+msiPath)
	}
	names := slices.Sorted(maps.Keys(props))
	for _, k := range names {
		// The property dump of a verbose log: a package that does not list a
		// property in MsiHiddenProperties shows its value.
		l.add("s", "Command Line: %s=%s", k, props[k])
	}
	if _, ok := h.RegValue(FIMServiceKey, "ImagePath"); ok {
		return fail(1638, "another version of this product is already installed")
	}
	for _, k := range names {
		if !knownName(MIMProperties, k) {
			l.add("s", "Note: the package reads no property %s (bastion lab: unknown properties are refused).", k)
			return fail(MSIInstallFailure, "the package has no property "+k)
		}
	}
	for _, f := range strings.Split(props["ADDLOCAL"], ",") {
		if !knownName(MIMFeatures, strings.TrimSpace(f)) {
			l.add("s", "Product: %s -- Error 2711. An internal error has occurred. (%s )", MIMProductName, f)
			l.add("s", "DEBUG: Error 2711:  The specified Feature name ('%s') not found in Feature table.", f)
			return fail(MSIInstallFailure, "feature "+f+" not found in the Feature table")
		}
	}
	if props["ACCEPT_EULA"] != "1" {
		l.add("s", "Product: %s -- The license terms were not accepted: set ACCEPT_EULA=1 for a quiet install.", MIMProductName)
		return fail(MSIInstallFailure, "license terms not accepted (ACCEPT_EULA)")
	}
	need := []string{"SERVICE_ACCOUNT_NAME", "SERVICE_ACCOUNT_DOMAIN", "SERVICE_ACCOUNT_PASSWORD", "SQLSERVER_SERVER", "SQLSERVER_DATABASE", "SERVICEADDRESS"}
	for _, p := range need {
		if strings.TrimSpace(props[p]) == "" {
			l.add("s", "Product: %s -- Required property %s is not set.", MIMProductName, p)
			return fail(MSIInstallFailure, "required property "+p+" is missing")
		}
	}
	account := props["SERVICE_ACCOUNT_DOMAIN"] + `\` + props["SERVICE_ACCOUNT_NAME"]
	if want, ok := e.Credentials[strings.ToLower(account)]; !ok || want != props["SERVICE_ACCOUNT_PASSWORD"] {
		e.Record(h.FQDN, "msi-failed", "service account logon failed for "+account)
		l.add("s", "Product: %s -- The service account credentials for %s could not be verified: the user name or password is incorrect.", MIMProductName, account)
		return fail(MSIInstallFailure, "the service account credentials could not be verified")
	}
	if e.Domain != nil && e.Domain.IsDC(h.FQDN) {
		// MIM itself installs on a DC; the provider's plan-time rule is what refuses it.
		e.Record(h.FQDN, "msi-warning", "MIM Service installed on a domain controller")
	}
	sql := e.SQL[Key(props["SQLSERVER_SERVER"])]
	if sql == nil || !e.sqlReachable(sql) {
		l.add("s", "Product: %s -- Cannot connect to SQL Server %s.", MIMProductName, props["SQLSERVER_SERVER"])
		return fail(MSIInstallFailure, "cannot connect to SQL Server "+props["SQLSERVER_SERVER"])
	}
	sql.EnsureDatabase(props["SQLSERVER_DATABASE"])

	external := props["SERVICEADDRESS"]
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, struct{ External, Partition string }{xmlEscape(external), xmlEscape(strings.ToUpper(external))}); err != nil {
		return fail(MSIInstallFailure, err.Error())
	}
	h.WriteFile(MIMImagePath, []byte("MZ simulated Microsoft.ResourceManagement.Service.exe"))
	h.WriteFile(MIMConfigPath, buf.Bytes())
	h.SetRegValue(FIMServiceKey, "ImagePath", `"`+MIMImagePath+`"`)
	h.SetRegValue(FIMServiceKey, "DatabaseServer", props["SQLSERVER_SERVER"])
	h.SetRegValue(FIMServiceKey, "DatabaseName", props["SQLSERVER_DATABASE"])
	h.SetRegValue(FIMServiceKey, "ObjectName", account)
	// The service control manager keeps the logon password; the lab keeps it
	// only to decide whether the next start of FIMService logs on.
	h.SetRegValue(FIMServiceKey, "lab:password", props["SERVICE_ACCOUNT_PASSWORD"])
	stored := map[string]string{}
	for k, v := range props {
		if !strings.Contains(k, "PASSWORD") {
			stored[k] = v
		}
	}
	h.Products[MIMProductCode] = &Product{Code: MIMProductCode, DisplayName: MIMProductName, Version: MIMProductVersion, Properties: stored}
	h.Services[Key(FIMService)] = &Service{Name: FIMService, DisplayName: "Forefront Identity Manager Service", StartType: "Automatic", Status: "Running", Starts: 1, StartedAt: e.Now()}
	if strings.Contains(props["ADDLOCAL"], "PAMServices") {
		h.Services[Key(PamMonitoring)] = &Service{Name: PamMonitoring, DisplayName: "PAM Monitoring service", StartType: "Automatic", Status: "Running", Starts: 1, StartedAt: e.Now()}
		h.Services[Key(PamComponent)] = &Service{Name: PamComponent, DisplayName: "PAM Component service", StartType: "Automatic", Status: "Running", Starts: 1, StartedAt: e.Now()}
	}
	code = MSISuccess
	if h.installReboot {
		code = MSIRebootRequired
		l.add("s", "Product: %s. Restart required. The installation or update for the product required a restart for all changes to take effect. The restart was deferred to a later time.", MIMProductName)
		e.Record(h.FQDN, "restart-pending", "MIM Service and Portal install needs a restart")
	}
	l.add("s", "Product: %s -- Installation completed successfully.", MIMProductName)
	l.add("s", "Windows Installer installed the product. Product Name: %s. Product Version: %s. Installation success or error status: %d.", MIMProductName, MIMProductVersion, code)
	l.add("c", "MainEngineThread is returning %d", code)
	e.Record(h.FQDN, "msi-install", "MIM Service and Portal "+MIMProductVersion+" ADDLOCAL="+props["ADDLOCAL"])
	return code, "", l.lines
}

// UninstallMIM emulates msiexec /x; it reports whether anything was removed.
func (e *Env) UninstallMIM(h *Host) bool {
	if _, ok := h.Products[MIMProductCode]; !ok {
		return false
	}
	delete(h.Products, MIMProductCode)
	delete(h.Files, FileKey(MIMImagePath))
	delete(h.Files, FileKey(MIMConfigPath))
	h.DeleteRegKey(FIMServiceKey)
	for _, s := range []string{FIMService, PamMonitoring, PamComponent} {
		delete(h.Services, Key(s))
	}
	e.Record(h.FQDN, "msi-uninstall", "MIM Service and Portal removed")
	return true
}

// ReadMIMNames parses the names from a host's config file the way the MIM
// Service does at start. Callers hold the lock.
func (h *Host) ReadMIMNames() (MIMNames, error) {
	b, ok := h.ReadFile(MIMConfigPath)
	if !ok {
		return MIMNames{}, fmt.Errorf("no MIM config file on %s", h.FQDN)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return MIMNames{}, fmt.Errorf("config file on %s: %w", h.FQDN, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "resourceManagementService" {
			continue
		}
		n := MIMNames{ServiceName: h.ComputerName}
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "externalHostName":
				n.ExternalHostName = a.Value
			case "serviceName":
				n.ServiceName = a.Value
			case "servicePartitionName":
				n.ServicePartitionName = a.Value
			}
		}
		if n.ServicePartitionName == "" {
			n.ServicePartitionName = n.ExternalHostName
		}
		return n, nil
	}
}

// AddRequest records a pending MIM request accepted by the MIM Service on host.
func (e *Env) AddRequest(host, id string) error {
	return e.onHost(host, func(h *Host) error {
		n, err := h.ReadMIMNames()
		if err != nil {
			return err
		}
		e.Requests = append(e.Requests, &Request{ID: id, Partition: strings.ToUpper(n.ServicePartitionName), ServiceName: n.ServiceName, Status: "Pending"})
		return nil
	})
}

// CompleteRequests lets the MIM Service on host finish every pending request
// whose workflow it may complete (same partition and service name), as the
// running service would. It returns the IDs completed. The service must be
// running: a stopped FIMService completes nothing.
func (e *Env) CompleteRequests(host string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	if h == nil || !h.Reachable {
		return nil, fmt.Errorf("model: host %q is not available", host)
	}
	svc := h.Service(FIMService)
	if svc == nil || svc.Status != "Running" {
		return nil, fmt.Errorf("model: FIMService is not running on %s", host)
	}
	n, err := h.ReadMIMNames()
	if err != nil {
		return nil, err
	}
	var done []string
	for _, r := range e.Requests {
		if r.Status == "Pending" && strings.EqualFold(r.Partition, n.ServicePartitionName) && strings.EqualFold(r.ServiceName, n.ServiceName) {
			r.Status = "Completed"
			r.CompletedBy = h.FQDN
			done = append(done, r.ID)
		}
	}
	return done, nil
}

// PendingRequests returns the IDs of requests not completed yet.
func (e *Env) PendingRequests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.Requests {
		if r.Status == "Pending" {
			out = append(out, r.ID)
		}
	}
	return out
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}
