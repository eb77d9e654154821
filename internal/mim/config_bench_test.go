package mim

import (
	"strings"
	"testing"
)

// realisticConfig is a MIM Service config file of realistic size: the real
// one has dozens of sections and bindings (tens of KB) before the
// resourceManagementService element.
func realisticConfig() []byte {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <configSections>\r\n")
	for i := 0; i < 60; i++ {
		b.WriteString(`    <section name="section` + strings.Repeat("x", i%7) + `" type="Microsoft.ResourceManagement.Section, Microsoft.ResourceManagement, Version=4.1.3419.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" />` + "\r\n")
	}
	b.WriteString("  </configSections>\r\n  <system.serviceModel>\r\n")
	for i := 0; i < 200; i++ {
		b.WriteString(`    <!-- binding note --><binding name="b" maxReceivedMessageSize="9223372036854775807"><security mode="Message"><message clientCredentialType="Windows" /></security></binding>` + "\r\n")
	}
	b.WriteString("  </system.serviceModel>\r\n")
	b.WriteString(`  <resourceManagementService externalHostName="pam.priv.contoso.com" dataReadTimeoutInSeconds="58" dataWriteTimeoutInSeconds="58" serviceName="PRIV-APP1" servicePartitionName="PAM.PRIV.CONTOSO.COM" />` + "\r\n</configuration>\r\n")
	return []byte(b.String())
}

// BenchmarkParseNames is the config-file parse every MIM node read does.
func BenchmarkParseNames(b *testing.B) {
	cfg := realisticConfig()
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := ParseNames(cfg)
		if err != nil || n.ServiceName != "PRIV-APP1" {
			b.Fatalf("ParseNames = %+v, %v", n, err)
		}
	}
}
