package validators

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestDNSDomainName(t *testing.T) {
	cases := []struct {
		value types.String
		ok    bool
	}{
		{types.StringValue("priv.contoso.test"), true},
		{types.StringValue("priv.contoso.test."), true},
		{types.StringValue("privilegedaccessbastion.contoso.com"), true}, // a first label longer than a computer name
		{types.StringValue("PRIV"), false},
		{types.StringValue("priv contoso.test"), false},
		{types.StringValue("priv.$(calc).test"), false},
		{types.StringValue("10.0.0.1"), false},
		{types.StringValue(""), false},
		{types.StringNull(), true},
		{types.StringUnknown(), true},
	}
	for _, c := range cases {
		errs := run(DNSDomainName(), c.value)
		if c.ok != (len(errs) == 0) {
			t.Errorf("%s: ok=%t, errors %v", c.value, c.ok, errs)
		}
	}
}
