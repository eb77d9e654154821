package samba

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Where samba-lab.sh records which lab owns the fixed namespace names, and the
// lock it takes around that record.
const (
	registryPath = "/run/bastion-samba-lab"
	lockPath     = "/run/lock/bastion-samba-lab.lock"
)

// Leftovers lists what a torn-down lab left behind: its processes (pids, and any
// Samba or dnsmasq outside the root network namespace), namespaces, the host
// veth, mounts under stateDir, stateDir itself, scriptPath (when not "") and the
// registry. It holds the registry lock while it looks, so a lab that another test
// binary is waiting to bring up cannot start in between. When the registry names
// another lab (another binary got the namespaces after this one went down), the
// machine-wide checks are skipped: what is there is that lab's, and only this
// lab's own pids, mounts and files are checked.
func Leftovers(stateDir, scriptPath string, pids []int) []string {
	var left []string
	if f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX) == nil {
			defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway
		}
		defer func() { _ = f.Close() }()
	}
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && isLabDaemon(strings.TrimSpace(string(comm))) && alive(pid) {
			left = append(left, fmt.Sprintf("process %d (%s)", pid, strings.TrimSpace(string(comm))))
		}
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(mi), stateDir) {
		left = append(left, "mounts under "+stateDir)
	}
	if _, err := os.Stat(stateDir); !errors.Is(err, os.ErrNotExist) {
		left = append(left, "state directory "+stateDir)
	}
	if scriptPath != "" {
		if _, err := os.Stat(scriptPath); !errors.Is(err, os.ErrNotExist) {
			left = append(left, "script "+scriptPath)
		}
	}
	if owner, err := os.ReadFile(registryPath); err == nil {
		dir, _, _ := strings.Cut(string(owner), "\n")
		if dir != "" && dir != stateDir {
			return left // another lab owns the namespaces now
		}
		left = append(left, "registry "+registryPath)
	}
	// Any Samba or dnsmasq outside the root network namespace is ours too.
	self, _ := os.Readlink("/proc/self/ns/net")
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, err := os.ReadFile(p + "/comm")
		if err != nil || !isLabDaemon(strings.TrimSpace(string(comm))) {
			continue
		}
		if ns, err := os.Readlink(p + "/ns/net"); err == nil && ns != self {
			left = append(left, fmt.Sprintf("process %s (%s) in %s", filepath.Base(p), strings.TrimSpace(string(comm)), ns))
		}
	}
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bl-") {
			left = append(left, "network namespace "+e.Name())
		}
	}
	if _, err := net.InterfaceByName("bl-host"); err == nil {
		left = append(left, "veth bl-host")
	}
	return left
}

// alive reports whether pid runs: a zombie has exited and only waits for init
// (the daemons' parent) to reap it.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

func isLabDaemon(comm string) bool {
	switch comm {
	case "samba", "smbd", "nmbd", "winbindd", "dnsmasq", "samba-dcerpcd", "rpcd_lsad", "rpcd_classic":
		return true
	}
	return strings.HasPrefix(comm, "samba") || strings.HasPrefix(comm, "rpcd_")
}
