package model

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"text/template"
)

// Paths and names a MIM Service and Portal install creates, as on Windows.
const (
	MIMServiceDir      = `C:\Program Files\Microsoft Forefront Identity Manager\2010\Service`
	MIMImagePath       = MIMServiceDir + `\Microsoft.ResourceManagement.Service.exe`
	MIMConfigPath      = MIMImagePath + `.config`
	FIMServiceKey      = `HKLM:\System\CurrentControlSet\Services\FIMService`
	UninstallKey       = `HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	MIMProductCode     = `{A9A8A1C3-5B1E-4B8C-9D9B-2C1E0F1A6E42}`
	MIMProductName     = `Microsoft Identity Manager Service and Portal`
	MIMProductVersion  = `4.6.607.0`
	DefaultMIMMSIPath  = `C:\Sources\MIM\Service and Portal\Service and Portal.msi`
	FIMService         = "FIMService"
	PamMonitoring      = "PamMonitoringService"
	PamComponent       = "PrivilegeManagementComponentService"
	msiFatalError      = 1603
	msiInvalidArgument = 87
)

// MSIError is what msiexec returns: an exit code.
type MSIError struct {
	Code   int
	Reason string
}

func (e MSIError) Error() string { return fmt.Sprintf("msiexec exit code %d: %s", e.Code, e.Reason) }

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

// InstallMIM emulates msiexec /i of the MIM Service and Portal MSI on h with
// the given properties. Callers hold the lock.
func (e *Env) InstallMIM(h *Host, msiPath string, props map[string]string) error {
	if _, ok := h.ReadFile(msiPath); !ok {
		return MSIError{Code: msiFatalError, Reason: "installation package could not be opened: " + msiPath}
	}
	if _, ok := h.RegValue(FIMServiceKey, "ImagePath"); ok {
		return MSIError{Code: 1638, Reason: "another version of this product is already installed"}
	}
	need := []string{"SERVICE_ACCOUNT_NAME", "SERVICE_ACCOUNT_DOMAIN", "SERVICE_ACCOUNT_PASSWORD", "SQLSERVER_SERVER", "SQLSERVER_DATABASE", "SERVICEADDRESS"}
	for _, p := range need {
		if strings.TrimSpace(props[p]) == "" {
			return MSIError{Code: msiInvalidArgument, Reason: "required property " + p + " is missing"}
		}
	}
	account := props["SERVICE_ACCOUNT_DOMAIN"] + `\` + props["SERVICE_ACCOUNT_NAME"]
	if want, ok := e.Credentials[strings.ToLower(account)]; !ok || want != props["SERVICE_ACCOUNT_PASSWORD"] {
		e.Record(h.FQDN, "msi-failed", "service account logon failed for "+account)
		return MSIError{Code: msiFatalError, Reason: "the service account credentials could not be verified"}
	}
	if e.Domain != nil && e.Domain.IsDC(h.FQDN) {
		// MIM itself installs on a DC; the provider's plan-time rule is what refuses it.
		e.Record(h.FQDN, "msi-warning", "MIM Service installed on a domain controller")
	}
	sql := e.SQL[Key(props["SQLSERVER_SERVER"])]
	if sql == nil || !e.sqlReachable(sql) {
		return MSIError{Code: msiFatalError, Reason: "cannot connect to SQL Server " + props["SQLSERVER_SERVER"]}
	}
	sql.EnsureDatabase(props["SQLSERVER_DATABASE"])

	external := props["SERVICEADDRESS"]
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, struct{ External, Partition string }{xmlEscape(external), xmlEscape(strings.ToUpper(external))}); err != nil {
		return err
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
	e.Record(h.FQDN, "msi-install", "MIM Service and Portal "+MIMProductVersion+" ADDLOCAL="+props["ADDLOCAL"])
	return nil
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
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	if h == nil {
		return fmt.Errorf("model: no host %q", host)
	}
	n, err := h.ReadMIMNames()
	if err != nil {
		return err
	}
	e.Requests = append(e.Requests, &Request{ID: id, Partition: strings.ToUpper(n.ServicePartitionName), ServiceName: n.ServiceName, Status: "Pending"})
	return nil
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
