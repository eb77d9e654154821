package adnames

import (
	"strconv"
	"strings"
)

// nTDSDSA options bits (MS-ADTS 6.1.1.2.2.1.2.1.1).
const (
	NTDSOptIsGC                   uint32 = 0x1
	NTDSOptDisableInboundRepl     uint32 = 0x2
	NTDSOptDisableOutboundRepl    uint32 = 0x4
	NTDSOptDisableNTDSConnXlate   uint32 = 0x8
	NTDSOptDisableSPNRegistration uint32 = 0x10
)

// Trust directions, types and attribute bits (MS-ADTS 6.1.6.7.9,
// 6.1.6.7.12, 6.1.6.7.15).
const (
	TrustDirectionDisabled      = 0
	TrustDirectionInbound       = 1
	TrustDirectionOutbound      = 2
	TrustDirectionBidirectional = 3

	TrustTypeDownlevel = 1
	TrustTypeUplevel   = 2
	TrustTypeMIT       = 3
	TrustTypeDCE       = 4

	TrustAttrNonTransitive                        uint32 = 0x1
	TrustAttrUplevelOnly                          uint32 = 0x2
	TrustAttrQuarantinedDomain                    uint32 = 0x4
	TrustAttrForestTransitive                     uint32 = 0x8
	TrustAttrCrossOrganization                    uint32 = 0x10
	TrustAttrWithinForest                         uint32 = 0x20
	TrustAttrTreatAsExternal                      uint32 = 0x40
	TrustAttrUsesRC4Encryption                    uint32 = 0x80
	TrustAttrUsesAESKeys                          uint32 = 0x100
	TrustAttrCrossOrganizationNoTGTDelegation     uint32 = 0x200
	TrustAttrPIMTrust                             uint32 = 0x400
	TrustAttrCrossOrganizationEnableTGTDelegation uint32 = 0x800
	TrustAttrDisableAuthTargetValidation          uint32 = 0x1000
)

// trustAttrNames are the TRUST_ATTRIBUTE_* names without the prefix.
var trustAttrNames = []struct {
	bit  uint32
	name string
}{
	{TrustAttrNonTransitive, "NON_TRANSITIVE"},
	{TrustAttrUplevelOnly, "UPLEVEL_ONLY"},
	{TrustAttrQuarantinedDomain, "QUARANTINED_DOMAIN"},
	{TrustAttrForestTransitive, "FOREST_TRANSITIVE"},
	{TrustAttrCrossOrganization, "CROSS_ORGANIZATION"},
	{TrustAttrWithinForest, "WITHIN_FOREST"},
	{TrustAttrTreatAsExternal, "TREAT_AS_EXTERNAL"},
	{TrustAttrUsesRC4Encryption, "USES_RC4_ENCRYPTION"},
	{TrustAttrUsesAESKeys, "USES_AES_KEYS"},
	{TrustAttrCrossOrganizationNoTGTDelegation, "CROSS_ORGANIZATION_NO_TGT_DELEGATION"},
	{TrustAttrPIMTrust, "PIM_TRUST"},
	{TrustAttrCrossOrganizationEnableTGTDelegation, "CROSS_ORGANIZATION_ENABLE_TGT_DELEGATION"},
	{TrustAttrDisableAuthTargetValidation, "DISABLE_AUTH_TARGET_VALIDATION"},
}

// TrustAttributeNames names the set bits of trustAttributes; unknown bits
// come out as hex (0x2000).
func TrustAttributeNames(attrs uint32) []string {
	var out []string
	rest := attrs
	for _, a := range trustAttrNames {
		if attrs&a.bit != 0 {
			out = append(out, a.name)
			rest &^= a.bit
		}
	}
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if rest&bit != 0 {
			out = append(out, "0x"+strings.ToUpper(strconv.FormatUint(uint64(bit), 16)))
		}
	}
	return out
}

// TrustDirectionName is Inbound, Outbound, Bidirectional or Disabled.
func TrustDirectionName(direction int) string {
	switch direction {
	case TrustDirectionInbound:
		return "Inbound"
	case TrustDirectionOutbound:
		return "Outbound"
	case TrustDirectionBidirectional:
		return "Bidirectional"
	}
	return "Disabled"
}

// Optional feature names (CN=Optional Features,CN=Directory Service,...).
const (
	FeatureRecycleBin = "Recycle Bin Feature"
	FeaturePAM        = "Privileged Access Management Feature"
)
