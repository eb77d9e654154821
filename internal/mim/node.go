package mim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Windows service names of a MIM PAM node.
const (
	ServiceFIM           = "FIMService"
	ServicePAMMonitoring = "PamMonitoringService"
	ServicePAMComponent  = "PrivilegeManagementComponentService"
)

// Executor runs an embedded script on a host (winrmexec.Client).
type Executor = winrmexec.Runner

// Service is the state of one Windows service.
type Service struct {
	Status    string `json:"status"`
	StartType string `json:"start_type"`
	// StartedAt is when the service's process started, in UTC; zero when
	// the service is not running.
	StartedAt time.Time `json:"started_at"`
}

// StartedBefore reports whether the node's FIMService has been running since
// before at (when its SQL Server instance last came online, say), holding a
// connection opened before then. A stopped service, or an unknown time,
// reports false.
func (n *Node) StartedBefore(at time.Time) bool {
	s, ok := n.Services[ServiceFIM]
	return ok && !s.StartedAt.IsZero() && !at.IsZero() && s.StartedAt.Before(at)
}

// Node is what a refresh learns about a MIM Service node.
type Node struct {
	Installed    bool
	ComputerName string
	ImagePath    string
	ConfigPath   string
	// Config is the config file's exact bytes and ConfigSHA256 their digest,
	// the precondition of the next write.
	Config       []byte
	ConfigSHA256 string
	// Names as written in the file; Effective applies MIM's defaults.
	Names          Names
	Effective      Names
	Version        string
	DatabaseServer string
	DatabaseName   string
	LogonAccount   string
	Services       map[string]Service
}

// PAMComponents reports whether the PAM services are installed.
func (n *Node) PAMComponents() bool {
	_, ok := n.Services[ServicePAMMonitoring]
	return ok
}

type readReply struct {
	Installed    bool               `json:"installed"`
	ComputerName string             `json:"computer_name"`
	ImagePath    string             `json:"image_path"`
	ConfigPath   string             `json:"config_path"`
	ConfigBase64 string             `json:"config_base64"`
	Version      string             `json:"version"`
	Database     string             `json:"database"`
	DatabaseName string             `json:"database_name"`
	LogonAccount string             `json:"logon_account"`
	Services     map[string]Service `json:"services"`
}

// Read refreshes a node with one script run (mim_read). A host without the
// MIM Service gives Installed false and no error.
func Read(ctx context.Context, x Executor, host string) (*Node, error) {
	var r readReply
	if err := x.Run(ctx, host, scripts.Get("mim_read"), struct{}{}, &r, winrmexec.Idempotent()); err != nil {
		return nil, err
	}
	n := &Node{Installed: r.Installed, ComputerName: r.ComputerName, Services: r.Services}
	if n.Services == nil {
		n.Services = map[string]Service{}
	}
	if !r.Installed {
		return n, nil
	}
	b, err := base64.StdEncoding.DecodeString(r.ConfigBase64)
	if err != nil {
		return nil, fmt.Errorf("config file from %s: %w", host, err)
	}
	names, err := ParseNames(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s on %s: %w", r.ConfigPath, host, err)
	}
	sum := sha256.Sum256(b)
	n.ImagePath, n.ConfigPath, n.Config, n.ConfigSHA256 = r.ImagePath, r.ConfigPath, b, hex.EncodeToString(sum[:])
	n.Names, n.Effective = names, names.Effective(r.ComputerName)
	n.Version, n.DatabaseServer, n.DatabaseName, n.LogonAccount = r.Version, r.Database, r.DatabaseName, r.LogonAccount
	return n, nil
}

// InstallSpec is what the MIM Service and Portal MSI needs.
type InstallSpec struct {
	InstallerPath          string
	ServiceAccount         string // DOMAIN\name
	ServiceAccountPassword string
	ServiceAccountEmail    string
	SQLServer              string
	SQLDatabase            string
	MailServer             string
	ExternalHostName       string
	PAMComponents          bool
}

// Features the install selects (ADDLOCAL): the MIM Service is the
// CommonServices feature of the MIM Service and Portal MSI, the PAM
// components PAMServices. There is no FIMService feature (FIMService is the
// Windows service's name).
const (
	FeatureMIMService = "CommonServices"
	FeaturePAM        = "PAMServices"
)

// MSIProperties maps the spec to the MSI's public properties, the names
// public automation uses (xMIMDsc, MIMUnattendedInstallGenerator), split
// into the plain ones and the passwords. No property sets serviceName or
// servicePartitionName: the provider writes them into the config file
// after the install (WriteNames). The PAM services run as the MIM Service
// account. REBOOT=ReallySuppress: the installer never restarts the server
// itself (see Install for what a 3010 means).
func (s InstallSpec) MSIProperties() (props, secrets map[string]string, err error) {
	domain, name, ok := strings.Cut(s.ServiceAccount, `\`)
	if !ok || domain == "" || name == "" {
		return nil, nil, fmt.Errorf("service account %q: want DOMAIN\\name", s.ServiceAccount)
	}
	features := []string{FeatureMIMService}
	props = map[string]string{
		"ACCEPT_EULA":            "1",
		"REBOOT":                 "ReallySuppress",
		"SQMOPTINSETTING":        "0",
		"SERVICE_ACCOUNT_NAME":   name,
		"SERVICE_ACCOUNT_DOMAIN": domain,
		"SQLSERVER_SERVER":       s.SQLServer,
		"SQLSERVER_DATABASE":     s.SQLDatabase,
		"EXISTINGDATABASE":       "0",
		"SERVICEADDRESS":         s.ExternalHostName,
	}
	secrets = map[string]string{"SERVICE_ACCOUNT_PASSWORD": s.ServiceAccountPassword}
	if s.ServiceAccountEmail != "" {
		props["SERVICE_ACCOUNT_EMAIL"] = s.ServiceAccountEmail
	}
	if s.MailServer != "" {
		props["MAIL_SERVER"] = s.MailServer
	}
	if s.PAMComponents {
		features = append(features, FeaturePAM)
		for _, prefix := range []string{"PAM_MONITORING_SERVICE_ACCOUNT_", "PAM_COMPONENT_SERVICE_ACCOUNT_", "PAM_REST_API_APPPOOL_ACCOUNT_"} {
			props[prefix+"DOMAIN"], props[prefix+"NAME"] = domain, name
			secrets[prefix+"PASSWORD"] = s.ServiceAccountPassword
		}
	}
	props["ADDLOCAL"] = strings.Join(features, ",")
	return props, secrets, nil
}

// Windows Installer exit codes Install tells apart
// (learn.microsoft.com/windows/win32/msi/error-codes).
const (
	ExitSuccess        = 0
	ExitInstallFailure = 1603 // ERROR_INSTALL_FAILURE
	ExitAlreadyRunning = 1618 // ERROR_INSTALL_ALREADY_RUNNING
	ExitRebootRequired = 3010 // ERROR_SUCCESS_REBOOT_REQUIRED
)

var exitMeaning = map[int]string{
	ExitInstallFailure: "ERROR_INSTALL_FAILURE, a fatal error during installation",
	ExitAlreadyRunning: "ERROR_INSTALL_ALREADY_RUNNING, another installation is in progress",
	1619:               "ERROR_INSTALL_PACKAGE_OPEN_FAILED, the package could not be opened",
	1638:               "ERROR_PRODUCT_VERSION, another version of this product is already installed",
	1639:               "ERROR_INVALID_COMMAND_LINE, invalid property settings",
}

// LogTailLines is how many of the verbose log's last lines a failed install reports.
const LogTailLines = 40

// InstallerBusyWait is the pause before trying again after a 1618.
var InstallerBusyWait = 30 * time.Second

// InstallError is a failed install: Windows Installer's exit code and the
// last lines of its verbose log, with every secret redacted.
type InstallError struct {
	Host    string
	Code    int
	LogTail string
}

func (e *InstallError) Error() string {
	meaning := exitMeaning[e.Code]
	if meaning == "" {
		meaning = "see Windows Installer's error codes"
	}
	msg := fmt.Sprintf("the MIM Service and Portal installer on %s ended with exit code %d (%s)", e.Host, e.Code, meaning)
	if e.LogTail != "" {
		msg += "; last lines of its verbose log, passwords redacted:\n" + e.LogTail
	}
	return msg
}

// InstallResult is a successful install.
type InstallResult struct {
	// RebootRequired: exit code 3010. The product is installed and its
	// services run; Windows finishes replacing files in use at the next
	// restart, which the provider leaves to the operator (the other node
	// serves meanwhile).
	RebootRequired bool
	// Attempts counts the installer runs (more than one after 1618s).
	Attempts int
}

// Progress receives progress messages (the provider passes tflog).
type Progress func(msg string, fields map[string]any)

type installReply struct {
	ExitCode       int    `json:"exit_code"`
	RebootRequired bool   `json:"reboot_required"`
	LogTail        string `json:"log_tail"`
}

// Install runs the MSI (mim_install) with its verbose log in a private
// folder. Exit code 0 and 3010 are success (3010 sets RebootRequired);
// 1618, another installation in progress, is waited out: it tries again
// every InstallerBusyWait until ctx ends; anything else is an
// *InstallError. A script failure is not retried. It runs under the WinRM
// account's own logon (winrmexec.AsAccount): the installer creates its
// database on SQL Server with Windows authentication, a second hop the
// session cannot make.
func Install(ctx context.Context, x Executor, host string, spec InstallSpec, progress Progress) (InstallResult, error) {
	props, secrets, err := spec.MSIProperties()
	if err != nil {
		return InstallResult{}, err
	}
	if progress == nil {
		progress = func(string, map[string]any) {}
	}
	input := map[string]any{"installer_path": spec.InstallerPath, "properties": props, "secret_properties": secrets, "log_tail_lines": LogTailLines}
	for attempt := 1; ; attempt++ {
		progress("running the MIM Service and Portal installer", map[string]any{"host": host, "attempt": attempt, "features": props["ADDLOCAL"]})
		var out installReply
		if err := x.Run(ctx, host, scripts.Get("mim_install"), input, &out, winrmexec.AsAccount()); err != nil {
			return InstallResult{Attempts: attempt}, err
		}
		switch out.ExitCode {
		case ExitSuccess:
			return InstallResult{Attempts: attempt}, nil
		case ExitRebootRequired:
			progress("the installer finished and asks for a restart (3010); the server is not restarted", map[string]any{"host": host})
			return InstallResult{RebootRequired: true, Attempts: attempt}, nil
		case ExitAlreadyRunning:
			progress("another installation is in progress on the server (1618); waiting to try again", map[string]any{"host": host, "wait": InstallerBusyWait.String()})
			t := time.NewTimer(InstallerBusyWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return InstallResult{Attempts: attempt}, fmt.Errorf("%w: %w", ctx.Err(), &InstallError{Host: host, Code: out.ExitCode, LogTail: redact(out.LogTail, secrets)})
			case <-t.C:
			}
		default:
			return InstallResult{Attempts: attempt}, &InstallError{Host: host, Code: out.ExitCode, LogTail: redact(out.LogTail, secrets)}
		}
	}
}

// redact replaces every secret value in s, whatever the script already did.
func redact(s string, secrets map[string]string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "********")
		}
	}
	return s
}

// WriteNames sets the three names in the node's config file, keeping every
// other byte, and restarts FIMService when restart is set. It refuses if the
// file changed since n was read. It returns whether the file changed.
func WriteNames(ctx context.Context, x Executor, host string, n *Node, want Names, restart bool) (bool, error) {
	set := map[string]string{}
	if want.ExternalHostName != "" {
		set[AttrExternalHostName] = want.ExternalHostName
	}
	if want.ServiceName != "" {
		set[AttrServiceName] = want.ServiceName
	}
	if want.ServicePartitionName != "" {
		set[AttrServicePartitionName] = strings.ToUpper(want.ServicePartitionName)
	}
	content, err := SetAttributes(n.Config, set)
	if err != nil {
		return false, fmt.Errorf("config file %s on %s: %w", n.ConfigPath, host, err)
	}
	if string(content) == string(n.Config) {
		return false, nil
	}
	input := map[string]any{
		"expected_sha256": n.ConfigSHA256,
		"content_base64":  base64.StdEncoding.EncodeToString(content),
		"restart":         restart,
	}
	var out struct {
		SHA256 string `json:"sha256"`
	}
	if err := x.Run(ctx, host, scripts.Get("mim_write_config"), input, &out); err != nil {
		return false, err
	}
	return true, nil
}

// ControlServices starts, stops or restarts services in the order given.
func ControlServices(ctx context.Context, x Executor, host, action string, names ...string) (map[string]string, error) {
	var out struct {
		Services map[string]string `json:"services"`
	}
	err := x.Run(ctx, host, scripts.Get("mim_services"), map[string]any{"action": action, "names": names}, &out)
	return out.Services, err
}

// SetServiceAccountPassword gives FIMService the account's new password and restarts it.
func SetServiceAccountPassword(ctx context.Context, x Executor, host, account, password string) error {
	return x.Run(ctx, host, scripts.Get("mim_set_service_account"), map[string]any{"account": account, "password": password}, nil)
}

// Uninstall removes the product; removed is false when it was not installed.
func Uninstall(ctx context.Context, x Executor, host string) (removed bool, err error) {
	var out struct {
		Removed bool `json:"removed"`
	}
	err = x.Run(ctx, host, scripts.Get("mim_uninstall"), struct{}{}, &out)
	return out.Removed, err
}
