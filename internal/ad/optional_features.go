package ad

import (
	"fmt"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

// OptionalFeatureNames are the forest optional features the provider
// enables, as Microsoft names them (the cn under CN=Optional Features):
// the Active Directory Recycle Bin, which "Back up and restore Active
// Directory" points to for restoring deleted objects, and the Privileged
// Access Management feature that MIM PAM's time-limited group memberships
// need (MIM PAM deployment step 2).
func OptionalFeatureNames() []string {
	return []string{directory.FeatureRecycleBin, directory.FeaturePAM}
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
		directory.ErrFunctionalLevel, st.Name, st.RequiredForestLevel, LevelName(st.RequiredForestLevel), st.ForestLevel, LevelName(st.ForestLevel))
}

// LevelName is the Windows Server release of an msDS-Behavior-Version value
// ([MS-ADTS] 6.1.4.4).
func LevelName(level int) string {
	switch {
	case level <= 0:
		return "Windows 2000"
	case level <= 2:
		return "Windows Server 2003"
	case level == 3:
		return "Windows Server 2008"
	case level == 4:
		return "Windows Server 2008 R2"
	case level == 5:
		return "Windows Server 2012"
	case level == 6:
		return "Windows Server 2012 R2"
	case level == 7:
		return "Windows Server 2016"
	}
	return "newer than Windows Server 2016"
}
