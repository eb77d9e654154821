package ad

import (
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

func TestFeatureBlocked(t *testing.T) {
	f := func(name string, required, forest int, enabled bool) directory.OptionalFeatureState {
		return directory.OptionalFeatureState{OptionalFeature: directory.OptionalFeature{Name: name, RequiredForestLevel: required, Enabled: enabled}, ForestLevel: forest}
	}
	for _, tc := range []struct {
		name string
		st   directory.OptionalFeatureState
		want string // substring of the error; "" = allowed
	}{
		{"recycle bin at 2008 R2", f(adnames.FeatureRecycleBin, 4, 4, false), ""},
		{"recycle bin at 2008", f(adnames.FeatureRecycleBin, 4, 3, false), "needs forest functional level 4 (Windows Server 2008 R2) or higher; the forest is at 3 (Windows Server 2008)"},
		{"PAM at 2012 R2", f(adnames.FeaturePAM, 7, 6, false), "level 7 (Windows Server 2016)"},
		{"PAM at 2016", f(adnames.FeaturePAM, 7, 7, false), ""},
		{"already enabled below the level", f(adnames.FeaturePAM, 7, 6, true), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := FeatureBlocked(tc.st)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("blocked: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, directory.ErrFunctionalLevel) {
				t.Fatalf("err = %v, want ErrFunctionalLevel containing %q", err, tc.want)
			}
		})
	}
}
