package winrmsim

import (
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// adminBatch is the logon the provider's run-as task gives a script: the
// PRIV administrator's own batch logon.
var adminBatch = model.Identity{Account: `priv\administrator`, Kind: model.AccountDomain, Logon: model.LogonBatch}
