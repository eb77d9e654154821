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

// MSIProperties maps the spec to the MSI's properties (the names public
// automation such as xMIMDsc uses). The PAM services run as the MIM Service
// account unless a later version adds separate accounts.
func (s InstallSpec) MSIProperties() (map[string]string, error) {
	domain, name, ok := strings.Cut(s.ServiceAccount, `\`)
	if !ok || domain == "" || name == "" {
		return nil, fmt.Errorf("service account %q: want DOMAIN\\name", s.ServiceAccount)
	}
	features := "CommonServices,FIMService"
	p := map[string]string{
		"SERVICE_ACCOUNT_NAME":     name,
		"SERVICE_ACCOUNT_DOMAIN":   domain,
		"SERVICE_ACCOUNT_PASSWORD": s.ServiceAccountPassword,
		"SQLSERVER_SERVER":         s.SQLServer,
		"SQLSERVER_DATABASE":       s.SQLDatabase,
		"EXISTINGDATABASE":         "0",
		"SERVICEADDRESS":           s.ExternalHostName,
		"SQMOPTINSETTING":          "0",
	}
	if s.ServiceAccountEmail != "" {
		p["SERVICE_ACCOUNT_EMAIL"] = s.ServiceAccountEmail
	}
	if s.MailServer != "" {
		p["MAIL_SERVER"] = s.MailServer
	}
	if s.PAMComponents {
		features += ",PAMServices"
		for _, prefix := range []string{"PAM_MONITORING_SERVICE_ACCOUNT_", "PAM_COMPONENT_SERVICE_ACCOUNT_", "PAM_REST_API_APPPOOL_ACCOUNT_"} {
			p[prefix+"DOMAIN"], p[prefix+"NAME"], p[prefix+"PASSWORD"] = domain, name, s.ServiceAccountPassword
		}
	}
	p["ADDLOCAL"] = features
	return p, nil
}

// Install runs the MSI (mim_install). It runs at most once: a failure after
// the command started is not retried.
func Install(ctx context.Context, x Executor, host string, spec InstallSpec) error {
	props, err := spec.MSIProperties()
	if err != nil {
		return err
	}
	input := map[string]any{"installer_path": spec.InstallerPath, "properties": props}
	return x.Run(ctx, host, scripts.Get("mim_install"), input, nil)
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
