package ad

import (
	"fmt"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

// OptionalFeatureNames are the forest optional features the provider
// enables, as Microsoft names them (the cn under CN=Optional Features):
// the Active Directory Recycle Bin, which "Back up and restore Active
// Directory" points to for restoring deleted objects, and the Privileged
// Access Management feature that MIM PAM's time-limited group memberships
// need (MIM PAM deployment step 2).
func OptionalFeatureNames() []string {
	return []string{adnames.FeatureRecycleBin, adnames.FeaturePAM}
}

// FeatureBlocked says why a feature cannot be enabled in the forest as read,
// or nil when it can (or already is). The forest functional level must be
// at the feature's msDS-RequiredForestBehaviorVersion ([MS-ADTS] 3.1.1.9):
// 4 (Windows Server 2008 R2) for the Recycle Bin, 7 (2016) for PAM.
func FeatureBlocked(st directory.OptionalFeatureState) error {
	if st.Enabled || st.ForestLevel >= st.RequiredForestLevel {
		return nil
	}
	return fmt.Errorf("%w: %q needs forest functional level %d (%s) or higher; the forest is at %d (%s). Raise the forest functional level first (Set-ADForestMode)",
		directory.ErrFunctionalLevel, st.Name, st.RequiredForestLevel, adnames.LevelName(st.RequiredForestLevel), st.ForestLevel, adnames.LevelName(st.ForestLevel))
}
