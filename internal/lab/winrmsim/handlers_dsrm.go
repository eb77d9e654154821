package winrmsim

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// ad_sync_dsrm: ntdsutil "set dsrm password" "sync from domain account NAME"
// copies the account's password, as the DC's copy of the directory holds it,
// to the DC's DSRM administrator.
// https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/cc754363(v=ws.10)

func init() { Register("ad_sync_dsrm", adSyncDSRM) }

var samAccountNameForNtdsutil = regexp.MustCompile(`^[A-Za-z0-9._-]{1,20}$`)

func adSyncDSRM(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	var in struct {
		Account string `json:"account"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, argumentError(err.Error())
	}
	if !samAccountNameForNtdsutil.MatchString(in.Account) {
		return nil, argumentError("Not a sAMAccountName ntdsutil can take (letters, digits, dot, underscore, hyphen; at most 20): " + in.Account)
	}
	d, dc := env.DirectoryOf(h.FQDN)
	if dc == nil {
		// ntdsutil.exe comes with the AD DS role: a member server has none.
		return nil, &ScriptError{Type: "System.InvalidOperationException", Message: "This command cannot be run due to the error: The system cannot find the file specified.",
			Category: "InvalidOperation", ID: "InvalidOperationException,Microsoft.PowerShell.Commands.StartProcessCommand"}
	}
	env.StartProcess(h.FQDN, "", fmt.Sprintf(`"C:\Windows\system32\ntdsutil.exe" "set dsrm password" "sync from domain account %s" q q`, in.Account))
	prompt := "ntdsutil: set dsrm password\r\nReset DSRM Administrator Password: sync from domain account " + in.Account + "\r\n"
	pw, ok := env.UserPassword(d, in.Account)
	if !ok {
		// ERROR_NO_SUCH_USER (1317, 0x525).
		text := prompt + "Setting password failed.\r\n        WIN32 Error Code: 0x525\r\n        Error Message: The specified account does not exist.\r\nReset DSRM Administrator Password: q\r\nntdsutil: q"
		return nil, invalidOperation(fmt.Sprintf("ntdsutil did not synchronize the DSRM password with %s (exit code 0): %s", in.Account, text))
	}
	dc.DSRMPassword = pw
	env.NoteSecret(pw)
	env.Record(h.FQDN, "dsrm-password-sync", in.Account)
	return map[string]any{"synchronized": true,
		"output": prompt + "Password has been synchronized successfully.\r\nReset DSRM Administrator Password: q\r\nntdsutil: q"}, nil
}
