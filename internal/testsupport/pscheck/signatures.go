package pscheck

import (
	"regexp"
	"strings"
)

// Kind is the kind of value a parameter takes.
type Kind string

// Parameter kinds. A check compares them with the kind of the argument the
// script passes (see acceptArg).
const (
	KString       Kind = "string"
	KStringArray  Kind = "string[]"
	KSwitch       Kind = "switch"
	KSecureString Kind = "SecureString"
	KCredential   Kind = "PSCredential" //nolint:gosec // G101: a PowerShell type name, not a credential
	// KSecretString is a plain string that carries a secret (the -String of
	// ConvertTo-SecureString, a password option of an external program): it
	// must come from $Params, never from the script text.
	KSecretString Kind = "secret string"
	KInt          Kind = "int"
	KBool         Kind = "bool"
	KScriptBlock  Kind = "scriptblock"
	KHashtable    Kind = "hashtable"
	// KEnum is a string restricted to Param.Values (case-insensitive).
	KEnum        Kind = "enum"
	KObject      Kind = "object"
	KObjectArray Kind = "object[]"
)

// CommandKind says how a command is invoked.
type CommandKind string

const (
	// Cmdlet is a cmdlet or advanced function: -Name value parameters.
	Cmdlet CommandKind = "cmdlet"
	// External is a program run from the script: /option[:=]value arguments.
	External CommandKind = "external"
)

// Output says when a command writes objects to the pipeline (which, at
// statement level in a script, would land in the script's result).
type Output string

const (
	OutputAlways   Output = "always"
	OutputPassThru Output = "passthru" // only with -PassThru
	OutputNever    Output = "never"
)

// Param is one documented parameter (or, for an external program, option).
type Param struct {
	Name    string
	Kind    Kind
	Aliases []string
	// Values lists the accepted literal values of a KEnum.
	Values []string
	// Pattern, for an external program's option, matches option names that
	// carry modifiers in the name itself (msiexec /l*v, /qn+).
	Pattern string
	// DocURL overrides the row's DocURL for this parameter.
	DocURL string
}

// Signature is one row of the table: a command the scripts may call.
type Signature struct {
	Name   string
	Kind   CommandKind
	Module string
	// DocURL is the Microsoft Learn page the row is taken from.
	DocURL string
	Params []Param
	// Positional names the parameters bound by position, in order.
	Positional []string
	// CommonParameters: the row accepts -ErrorAction, -Verbose, ...
	CommonParameters bool
	// ShouldProcess: the row accepts -WhatIf and -Confirm.
	ShouldProcess bool
	Output        Output
	// For an external program: the executable's base name without .exe and,
	// for a program with sub-commands (netdom trust), the sub-command.
	Program    string
	Subcommand string
	// Separator between an external option and its inline value.
	Separator string
	// Note records what the row's source says that a reader must know.
	Note string
}

// CommonParametersDoc is where the common parameters are documented.
const CommonParametersDoc = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_commonparameters?view=powershell-5.1"

// actionPreference excludes Inquire (it prompts, and powershell.exe runs
// -NonInteractive) and Suspend (workflows only).
var actionPreference = []string{"SilentlyContinue", "Stop", "Continue", "Ignore"}

// CommonParams are the parameters of every cmdlet and advanced function.
var CommonParams = []Param{
	{Name: "Debug", Kind: KSwitch, Aliases: []string{"db"}},
	{Name: "ErrorAction", Kind: KEnum, Aliases: []string{"ea"}, Values: actionPreference},
	{Name: "ErrorVariable", Kind: KString, Aliases: []string{"ev"}},
	{Name: "InformationAction", Kind: KEnum, Aliases: []string{"infa"}, Values: actionPreference},
	{Name: "InformationVariable", Kind: KString, Aliases: []string{"iv"}},
	{Name: "OutBuffer", Kind: KInt, Aliases: []string{"ob"}},
	{Name: "OutVariable", Kind: KString, Aliases: []string{"ov"}},
	{Name: "PipelineVariable", Kind: KString, Aliases: []string{"pv"}},
	{Name: "Verbose", Kind: KSwitch, Aliases: []string{"vb"}},
	{Name: "WarningAction", Kind: KEnum, Aliases: []string{"wa"}, Values: actionPreference},
	{Name: "WarningVariable", Kind: KString, Aliases: []string{"wv"}},
}

// RiskParams are -WhatIf and -Confirm, for commands that support ShouldProcess.
var RiskParams = []Param{
	{Name: "WhatIf", Kind: KSwitch, Aliases: []string{"wi"}},
	{Name: "Confirm", Kind: KSwitch, Aliases: []string{"cf"}},
}

// Denied lists commands the scripts must not call, with the reason. They are
// reported even though a row could be written for them.
var Denied = map[string]string{
	"invoke-expression":      "runs a string as code; configuration must reach scripts as data ($Params), never as code",
	"iex":                    "alias of Invoke-Expression: runs a string as code",
	"get-addomaincontroller": "domain controllers are read over LDAP (internal/directory), not with the AD module (domain-facts section 5)",
	"get-credential":         "prompts; powershell.exe runs -NonInteractive. Build the credential from $Params with New-Object PSCredential",
	"read-host":              "prompts; powershell.exe runs -NonInteractive",
	"write-host":             "writes to stdout around the result document; the bootstrap's single JSON reply must be the only output",
	"out-host":               "writes to stdout around the result document",
	"out-default":            "writes to stdout around the result document",
	"echo":                   "alias of Write-Output: writes into the script's result",
	"write":                  "alias of Write-Output: writes into the script's result",
	"powershell":             "starts a second PowerShell from a string: code built from text",
	"pwsh":                   "starts a second PowerShell from a string: code built from text",
	"set-executionpolicy":    "the bootstrap's -ExecutionPolicy Bypass applies to its own process only; never change the machine's policy",
	"new-pssession":          "scripts run on the target host itself; no second hop",
	"invoke-command":         "scripts run on the target host itself; no second hop",
	"enter-pssession":        "scripts run on the target host itself; no second hop",
}

// Aliases maps common aliases to their command, for clearer messages.
var Aliases = map[string]string{
	"%": "ForEach-Object", "foreach": "ForEach-Object", "?": "Where-Object", "where": "Where-Object",
	"gci": "Get-ChildItem", "ls": "Get-ChildItem", "dir": "Get-ChildItem", "gi": "Get-Item",
	"gp": "Get-ItemProperty", "gsv": "Get-Service", "sasv": "Start-Service", "spsv": "Stop-Service",
	"start": "Start-Process", "saps": "Start-Process", "ipmo": "Import-Module", "select": "Select-Object",
	"cat": "Get-Content", "gc": "Get-Content", "sleep": "Start-Sleep", "icm": "Invoke-Command",
}

const (
	docMgmt    = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.management/"
	docUtil    = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.utility/"
	docCore    = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/"
	docSec     = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.security/"
	docCim     = "https://learn.microsoft.com/en-us/powershell/module/cimcmdlets/"
	docADDS    = "https://learn.microsoft.com/en-us/powershell/module/addsdeployment/"
	docCluster = "https://learn.microsoft.com/en-us/powershell/module/failoverclusters/"
	docSM      = "https://learn.microsoft.com/en-us/powershell/module/servermanager/"
	docMIMPAM  = "https://learn.microsoft.com/en-us/powershell/module/mimpam/"
	v51        = "?view=powershell-5.1"
	mimView    = "?view=idm-ps-2016sp1"
	docPAMStep = "https://learn.microsoft.com/en-us/microsoft-identity-manager/pam/step-5-establish-trust-between-priv-corp-forests"
)

func p(name string, kind Kind, aliases ...string) Param {
	return Param{Name: name, Kind: kind, Aliases: aliases}
}

func enum(name string, values ...string) Param {
	return Param{Name: name, Kind: KEnum, Values: values}
}

// The scripts run under Windows PowerShell 5.1 (powershell.exe), so the rows
// follow the 5.1 documentation: a parameter added in PowerShell 7 (for
// example ConvertFrom-Json -AsHashtable) is absent on purpose.
var Table = []Signature{
	// Microsoft.PowerShell.Core
	{
		Name: "ForEach-Object", Kind: Cmdlet, Module: "Microsoft.PowerShell.Core",
		DocURL: docCore + "foreach-object" + v51,
		Params: []Param{
			p("Process", KScriptBlock), p("Begin", KScriptBlock), p("End", KScriptBlock),
			p("RemainingScripts", KScriptBlock), p("InputObject", KObject), p("MemberName", KString),
			p("ArgumentList", KObjectArray, "Args"),
		},
		Positional:       []string{"Process"},
		CommonParameters: true, ShouldProcess: true, Output: OutputAlways,
	},
	{
		Name: "Where-Object", Kind: Cmdlet, Module: "Microsoft.PowerShell.Core",
		DocURL: docCore + "where-object" + v51,
		Params: []Param{
			p("FilterScript", KScriptBlock), p("InputObject", KObject), p("Property", KString), p("Value", KObject),
		},
		Positional:       []string{"FilterScript"},
		CommonParameters: true, Output: OutputAlways,
		Note: "only the script-block form is listed; the comparison-operator switches (-EQ, -Like, ...) are left out on purpose",
	},
	{
		Name: "Set-StrictMode", Kind: Cmdlet, Module: "Microsoft.PowerShell.Core",
		DocURL: docCore + "set-strictmode" + v51,
		Params: []Param{
			{Name: "Version", Kind: KEnum, Aliases: []string{"v"}, Values: []string{"1.0", "2.0", "3.0", "Latest"}},
			p("Off", KSwitch),
		},
		CommonParameters: true, Output: OutputNever,
	},
	{
		Name: "Import-Module", Kind: Cmdlet, Module: "Microsoft.PowerShell.Core",
		DocURL: docCore + "import-module" + v51,
		Params: []Param{
			p("Name", KStringArray), p("FullyQualifiedName", KObjectArray), p("Assembly", KObjectArray),
			p("ModuleInfo", KObjectArray), p("Global", KSwitch), p("Prefix", KString),
			p("Function", KStringArray), p("Cmdlet", KStringArray), p("Variable", KStringArray), p("Alias", KStringArray),
			p("Force", KSwitch), p("PassThru", KSwitch), p("AsCustomObject", KSwitch),
			p("MinimumVersion", KString, "Version"), p("MaximumVersion", KString), p("RequiredVersion", KString),
			p("ArgumentList", KObjectArray, "Args"), p("DisableNameChecking", KSwitch), p("NoClobber", KSwitch),
			enum("Scope", "Local", "Global"), p("PSSession", KObject), p("CimSession", KObject),
			p("CimResourceUri", KString), p("CimNamespace", KString),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, Output: OutputPassThru,
	},
	// Microsoft.PowerShell.Management
	{
		Name: "Get-Service", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "get-service" + v51,
		Params: []Param{
			p("Name", KStringArray, "ServiceName"), p("DisplayName", KStringArray),
			p("Include", KStringArray), p("Exclude", KStringArray), p("InputObject", KObjectArray),
			p("DependentServices", KSwitch, "DS"), p("RequiredServices", KSwitch, "SDO", "ServicesDependedOn"),
			p("ComputerName", KStringArray, "Cn"),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Get-Process", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "get-process" + v51,
		Params: []Param{
			// Id is Int32[]; the table has no int-array kind and the scripts pass one.
			p("Name", KStringArray, "ProcessName"), p("Id", KInt, "PID"), p("InputObject", KObjectArray),
			p("ComputerName", KStringArray, "Cn"), p("Module", KSwitch), p("FileVersionInfo", KSwitch, "FV", "FVI"),
			p("IncludeUserName", KSwitch),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, Output: OutputAlways,
	},
	serviceRow("Start-Service", "start-service"),
	serviceRow("Stop-Service", "stop-service", p("Force", KSwitch), p("NoWait", KSwitch)),
	serviceRow("Restart-Service", "restart-service", p("Force", KSwitch)),
	{
		Name: "Get-Item", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "get-item" + v51,
		Params: []Param{
			p("Path", KStringArray), p("LiteralPath", KStringArray, "PSPath"), p("Filter", KString),
			p("Include", KStringArray), p("Exclude", KStringArray), p("Force", KSwitch),
			p("Credential", KCredential), p("Stream", KStringArray), p("UseTransaction", KSwitch, "usetx"),
		},
		Positional:       []string{"Path"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Get-ItemProperty", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "get-itemproperty" + v51,
		Params: []Param{
			p("Path", KStringArray), p("LiteralPath", KStringArray, "PSPath"), p("Name", KStringArray, "PSProperty"),
			p("Filter", KString), p("Include", KStringArray), p("Exclude", KStringArray),
			p("Credential", KCredential), p("UseTransaction", KSwitch, "usetx"),
		},
		Positional:       []string{"Path", "Name"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Get-ChildItem", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "get-childitem" + v51,
		Params: []Param{
			p("Path", KStringArray), p("LiteralPath", KStringArray, "PSPath"), p("Filter", KString),
			p("Include", KStringArray), p("Exclude", KStringArray), p("Recurse", KSwitch, "s"),
			p("Depth", KInt), p("Force", KSwitch), p("Name", KSwitch), p("Attributes", KString),
			p("Directory", KSwitch, "ad", "d"), p("File", KSwitch, "af"), p("Hidden", KSwitch, "ah", "h"),
			p("ReadOnly", KSwitch, "ar"), p("System", KSwitch, "as"), p("UseTransaction", KSwitch, "usetx"),
		},
		Positional:       []string{"Path", "Filter"},
		CommonParameters: true, Output: OutputAlways,
		Note: "-Name is a switch here (names only), unlike Get-ItemProperty -Name",
	},
	{
		Name: "Test-Path", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "test-path" + v51,
		Params: []Param{
			p("Path", KStringArray), p("LiteralPath", KStringArray, "PSPath"), p("Filter", KString),
			p("Include", KStringArray), p("Exclude", KStringArray),
			{Name: "PathType", Kind: KEnum, Aliases: []string{"Type"}, Values: []string{"Any", "Container", "Leaf"}},
			p("IsValid", KSwitch), p("Credential", KCredential), p("OlderThan", KObject), p("NewerThan", KObject),
			p("UseTransaction", KSwitch, "usetx"),
		},
		Positional:       []string{"Path"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Start-Process", Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + "start-process" + v51,
		Params: []Param{
			p("FilePath", KString, "PSPath"), p("ArgumentList", KStringArray, "Args"),
			p("Credential", KCredential, "RunAs"), p("WorkingDirectory", KString),
			p("LoadUserProfile", KSwitch, "Lup"), p("NoNewWindow", KSwitch, "nnw"), p("PassThru", KSwitch),
			p("RedirectStandardError", KString, "RSE"), p("RedirectStandardInput", KString, "RSI"),
			p("RedirectStandardOutput", KString, "RSO"), p("Verb", KString),
			enum("WindowStyle", "Normal", "Hidden", "Minimized", "Maximized"),
			p("Wait", KSwitch), p("UseNewEnvironment", KSwitch),
		},
		Positional:       []string{"FilePath", "ArgumentList"},
		CommonParameters: true, ShouldProcess: true, Output: OutputPassThru,
		Note: "Windows PowerShell 5.1 joins -ArgumentList elements with spaces and does not quote them: quote values yourself",
	},
	// Microsoft.PowerShell.Utility
	{
		Name: "New-Object", Kind: Cmdlet, Module: "Microsoft.PowerShell.Utility",
		DocURL: docUtil + "new-object" + v51,
		Params: []Param{
			p("TypeName", KString), p("ArgumentList", KObjectArray, "Args"), p("Property", KHashtable),
			p("ComObject", KString), p("Strict", KSwitch),
		},
		Positional:       []string{"TypeName", "ArgumentList"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "ConvertTo-Json", Kind: Cmdlet, Module: "Microsoft.PowerShell.Utility",
		DocURL:           docUtil + "convertto-json" + v51,
		Params:           []Param{p("InputObject", KObject), p("Depth", KInt), p("Compress", KSwitch)},
		Positional:       []string{"InputObject"},
		CommonParameters: true, Output: OutputAlways,
		Note: "5.1 has no -EnumsAsStrings, -AsArray or -EscapeHandling (PowerShell 7)",
	},
	{
		Name: "ConvertFrom-Json", Kind: Cmdlet, Module: "Microsoft.PowerShell.Utility",
		DocURL:           docUtil + "convertfrom-json" + v51,
		Params:           []Param{p("InputObject", KString)},
		Positional:       []string{"InputObject"},
		CommonParameters: true, Output: OutputAlways,
		Note: "5.1 has no -AsHashtable, -Depth or -NoEnumerate (PowerShell 7); objects come back as PSCustomObject",
	},
	{
		Name: "Out-String", Kind: Cmdlet, Module: "Microsoft.PowerShell.Utility",
		DocURL:           docUtil + "out-string" + v51,
		Params:           []Param{p("InputObject", KObject), p("Stream", KSwitch), p("Width", KInt)},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Out-Null", Kind: Cmdlet, Module: "Microsoft.PowerShell.Core",
		DocURL:           docCore + "out-null" + v51,
		Params:           []Param{p("InputObject", KObject)},
		CommonParameters: true, Output: OutputNever,
	},
	{
		Name: "Write-Output", Kind: Cmdlet, Module: "Microsoft.PowerShell.Utility",
		DocURL:           docUtil + "write-output" + v51,
		Params:           []Param{p("InputObject", KObjectArray), p("NoEnumerate", KSwitch)},
		Positional:       []string{"InputObject"},
		CommonParameters: true, Output: OutputAlways,
		Note: "only as a script's last statement: anything else it writes joins the result",
	},
	// Microsoft.PowerShell.Security
	{
		Name: "ConvertTo-SecureString", Kind: Cmdlet, Module: "Microsoft.PowerShell.Security",
		DocURL: docSec + "convertto-securestring" + v51,
		Params: []Param{
			p("String", KSecretString), p("AsPlainText", KSwitch), p("Force", KSwitch),
			p("SecureKey", KSecureString), p("Key", KObjectArray),
		},
		Positional:       []string{"String"},
		CommonParameters: true, Output: OutputAlways,
		Note: "-String is the secret itself: it must come from $Params, never from the script text",
	},
	// CimCmdlets
	{
		Name: "Get-CimInstance", Kind: Cmdlet, Module: "CimCmdlets",
		DocURL: docCim + "get-ciminstance" + v51,
		Params: []Param{
			p("ClassName", KString), p("Filter", KString), p("Property", KStringArray, "SelectProperties"),
			p("Namespace", KString), p("ComputerName", KStringArray, "CN", "ServerName"), p("CimSession", KObjectArray),
			p("KeyOnly", KSwitch), p("OperationTimeoutSec", KInt, "OT"), p("Shallow", KSwitch),
			p("Query", KString), p("QueryDialect", KString), p("InputObject", KObject, "CimInstance"),
			p("ResourceUri", KString),
		},
		Positional:       []string{"ClassName"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Invoke-CimMethod", Kind: Cmdlet, Module: "CimCmdlets",
		DocURL: docCim + "invoke-cimmethod" + v51,
		Params: []Param{
			p("ClassName", KString), p("CimClass", KObject), p("InputObject", KObject, "CimInstance"),
			p("Query", KString), p("QueryDialect", KString), p("MethodName", KString, "Name"),
			p("Arguments", KHashtable), p("Namespace", KString), p("ComputerName", KStringArray, "CN", "ServerName"),
			p("CimSession", KObjectArray), p("ResourceUri", KString), p("OperationTimeoutSec", KInt, "OT"),
		},
		Positional:       []string{"ClassName", "MethodName"},
		CommonParameters: true, ShouldProcess: true, Output: OutputAlways,
	},
	// ServerManager
	{
		Name: "Install-WindowsFeature", Kind: Cmdlet, Module: "ServerManager",
		DocURL: docSM + "install-windowsfeature",
		Params: []Param{
			p("Name", KStringArray), p("Vhd", KString), p("IncludeAllSubFeature", KSwitch),
			p("IncludeManagementTools", KSwitch), p("Source", KStringArray), p("Restart", KSwitch),
			p("ComputerName", KString, "Cn"), p("Credential", KCredential), p("LogPath", KString),
			p("ConfigurationFilePath", KString),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, ShouldProcess: true, Output: OutputAlways,
		Note: "AD DS promotion needs the AD-Domain-Services feature first (domain-facts section 5); -Restart reboots the host under the WinRM call",
	},
	{
		Name: "Get-WindowsFeature", Kind: Cmdlet, Module: "ServerManager",
		DocURL: docSM + "get-windowsfeature",
		Params: []Param{
			p("Name", KStringArray), p("Vhd", KString), p("ComputerName", KString, "Cn"),
			p("Credential", KCredential), p("LogPath", KString),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, Output: OutputAlways,
	},
	// ADDSDeployment
	{
		Name: "Install-ADDSDomainController", Kind: Cmdlet, Module: "ADDSDeployment",
		DocURL: docADDS + "install-addsdomaincontroller",
		Params: []Param{
			p("SkipPreChecks", KSwitch), p("DomainName", KString), p("SafeModeAdministratorPassword", KSecureString),
			p("SiteName", KString), p("ADPrepCredential", KCredential), p("AllowDomainControllerReinstall", KSwitch),
			p("AllowPasswordReplicationAccountName", KStringArray), p("ApplicationPartitionsToReplicate", KStringArray),
			p("CreateDnsDelegation", KSwitch), p("Credential", KCredential), p("CriticalReplicationOnly", KSwitch),
			p("DatabasePath", KString), p("DelegatedAdministratorAccountName", KString),
			p("DenyPasswordReplicationAccountName", KStringArray), p("DnsDelegationCredential", KCredential),
			p("NoDnsOnNetwork", KSwitch), p("NoGlobalCatalog", KSwitch), p("InstallationMediaPath", KString),
			p("InstallDns", KSwitch), p("LogPath", KString), p("MoveInfrastructureOperationMasterRoleIfNecessary", KSwitch),
			p("NoRebootOnCompletion", KSwitch), p("ReadOnlyReplica", KSwitch), p("ReplicationSourceDC", KString),
			p("SkipAutoConfigureDns", KSwitch), p("SystemKey", KSecureString), p("SysvolPath", KString),
			p("UseExistingAccount", KSwitch), p("Force", KSwitch),
		},
		CommonParameters: true, ShouldProcess: true, Output: OutputAlways,
		Note: "the server reboots when done unless -NoRebootOnCompletion",
	},
	{
		Name: "Uninstall-ADDSDomainController", Kind: Cmdlet, Module: "ADDSDeployment",
		DocURL: docADDS + "uninstall-addsdomaincontroller",
		Params: []Param{
			p("SkipPreChecks", KSwitch), p("LocalAdministratorPassword", KSecureString), p("Credential", KCredential),
			p("DemoteOperationMasterRole", KSwitch), p("DnsDelegationRemovalCredential", KCredential),
			p("ForceRemoval", KSwitch), p("IgnoreLastDCInDomainMismatch", KSwitch), p("IgnoreLastDnsServerForZone", KSwitch),
			p("LastDomainControllerInDomain", KSwitch), p("NoRebootOnCompletion", KSwitch),
			p("RemoveApplicationPartitions", KSwitch), p("RemoveDnsDelegation", KSwitch), p("RetainDCMetadata", KSwitch),
			p("Force", KSwitch),
		},
		CommonParameters: true, ShouldProcess: true, Output: OutputAlways,
	},
	// FailoverClusters (on every node of a Windows Server failover cluster)
	{
		Name: "Get-ClusterNode", Kind: Cmdlet, Module: "FailoverClusters",
		DocURL: docCluster + "get-clusternode",
		Params: []Param{
			p("Name", KStringArray), p("InputObject", KObjectArray), p("Cluster", KString),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, Output: OutputAlways,
	},
	{
		Name: "Remove-ClusterNode", Kind: Cmdlet, Module: "FailoverClusters",
		DocURL: docCluster + "remove-clusternode",
		Params: []Param{
			p("Name", KStringArray), p("InputObject", KObjectArray), p("Cluster", KString),
			p("Force", KSwitch), p("Wait", KInt), p("CleanupDisks", KSwitch), p("IgnoreStorageConnectivityLoss", KSwitch),
		},
		Positional:       []string{"Name"},
		CommonParameters: true, ShouldProcess: true, Output: OutputNever,
		Note: "evicts the node; -Force skips the cleanup that would need the node itself (a lost server)",
	},
	// MIMPAM (module MIMPAM.psd1 on the MIM Service host, domain-facts section 2)
	pamRow("New-PAMTrust", "new-pamtrust", "SourceForest",
		[]Param{p("SourceForest", KString), p("Credentials", KCredential), p("Bidirectional", KSwitch)}, ""),
	pamRow("Test-PAMTrust", "test-pamtrust", "SourceForest",
		[]Param{p("SourceForest", KString), p("CorpCredentials", KCredential), p("PrivCredentials", KCredential), p("Bidirectional", KSwitch)},
		"the syntax block names -CorpCredentials (and -PrivCredentials); the page's example, and the 2016 edition's syntax, say -Credentials. This row records the syntax block: a script using -Credentials fails this check until the difference is settled on a real PRIV host"),
	pamRow("Remove-PAMTrust", "remove-pamtrust", "SourceForest",
		[]Param{p("SourceForest", KString), p("Credentials", KCredential)}, ""),
	pamRow("New-PAMDomainConfiguration", "new-pamdomainconfiguration", "SourceDomain",
		[]Param{p("SourceDomain", KString), p("Credentials", KCredential)}, "run after New-PAMTrust; -SourceDomain is the CORP NetBIOS name"),
	pamRow("Test-PAMDomainConfiguration", "test-pamdomainconfiguration", "SourceDomain",
		[]Param{p("SourceDomain", KString), p("Credentials", KCredential)}, ""),
	pamRow("Remove-PAMDomainConfiguration", "remove-pamdomainconfiguration", "SourceDomain",
		[]Param{p("SourceDomain", KString), p("Credentials", KCredential)}, ""),
	// External programs.
	{
		Name: "msiexec", Kind: External, Program: "msiexec",
		DocURL: "https://learn.microsoft.com/en-us/windows/win32/msi/command-line-options",
		Params: []Param{
			p("i", KString), p("package", KString), p("a", KString), p("x", KString), p("uninstall", KString),
			p("j", KString), p("ju", KString), p("jm", KString), p("t", KString), p("g", KString),
			{Name: "f", Kind: KString, Pattern: `^f[pecdaumsv]*$`},
			p("p", KString), p("update", KString), p("quiet", KSwitch), p("passive", KSwitch),
			{Name: "q", Kind: KSwitch, Pattern: `^q[nbrf]?[+!-]{0,2}$`},
			p("norestart", KSwitch), p("promptrestart", KSwitch), p("forcerestart", KSwitch),
			{Name: "l", Kind: KString, Pattern: `^l[iwearucmopvx+!*]*$`},
			p("log", KString), p("help", KSwitch), p("?", KSwitch),
		},
		Output: OutputAlways,
		Note:   "options take their value as the next argument; PROPERTY=value arguments (no slash) are public properties, not options",
	},
	{
		Name: "setup.exe (SQL Server)", Kind: External, Program: "setup", Separator: "=",
		DocURL: "https://learn.microsoft.com/en-us/sql/database-engine/install-windows/install-sql-server-from-the-command-prompt",
		Params: []Param{
			enum("ACTION", "Install", "InstallFailoverCluster", "AddNode", "RemoveNode", "PrepareFailoverCluster",
				"CompleteFailoverCluster", "Uninstall", "Upgrade", "Repair", "RebuildDatabase", "PrepareImage", "CompleteImage",
				"EditionUpgrade", "Patch", "RemovePatch"),
			p("Q", KSwitch, "QUIET"), p("QS", KSwitch, "QUIETSIMPLE"), p("IACCEPTSQLSERVERLICENSETERMS", KSwitch),
			p("SUPPRESSPRIVACYSTATEMENTNOTICE", KSwitch), p("IACCEPTPYTHONLICENSETERMS", KSwitch), p("IACCEPTROPENLICENSETERMS", KSwitch),
			p("ENU", KSwitch), p("UpdateEnabled", KString), p("UpdateSource", KString), p("CONFIGURATIONFILE", KString),
			p("ERRORREPORTING", KString), p("SQMREPORTING", KString), p("FEATURES", KString), p("ROLE", KString),
			p("HELP", KSwitch), p("INDICATEPROGRESS", KSwitch), p("HIDECONSOLE", KSwitch),
			p("INSTALLSHAREDDIR", KString), p("INSTALLSHAREDWOWDIR", KString), p("INSTANCEDIR", KString),
			p("INSTANCEID", KString), p("INSTANCENAME", KString), p("PID", KSecretString), p("PRODUCTCOVEREDBYSA", KString),
			p("FAILOVERCLUSTERDISKS", KStringArray), p("FAILOVERCLUSTERGROUP", KString),
			p("FAILOVERCLUSTERIPADDRESSES", KStringArray), p("FAILOVERCLUSTERNETWORKNAME", KString),
			p("FAILOVERCLUSTERROLLOWNERSHIP", KString), p("CONFIRMIPDEPENDENCYCHANGE", KString),
			p("AGTSVCACCOUNT", KString), p("AGTSVCPASSWORD", KSecretString), p("AGTSVCSTARTUPTYPE", KString),
			p("SQLSVCACCOUNT", KString), p("SQLSVCPASSWORD", KSecretString), p("SQLSVCSTARTUPTYPE", KString),
			p("SQLSVCINSTANTFILEINIT", KString), p("SQLSYSADMINACCOUNTS", KStringArray), p("SECURITYMODE", KString),
			p("SAPWD", KSecretString), p("SQLCOLLATION", KString), p("INSTALLSQLDATADIR", KString),
			p("SQLBACKUPDIR", KString), p("SQLUSERDBDIR", KString), p("SQLUSERDBLOGDIR", KString),
			p("SQLTEMPDBDIR", KStringArray), p("SQLTEMPDBLOGDIR", KString), p("SQLTEMPDBFILECOUNT", KString),
			p("SQLTEMPDBFILESIZE", KString), p("SQLTEMPDBFILEGROWTH", KString), p("SQLTEMPDBLOGFILESIZE", KString),
			p("SQLTEMPDBLOGFILEGROWTH", KString), p("FILESTREAMLEVEL", KString), p("FILESTREAMSHARENAME", KString),
			p("FTSVCACCOUNT", KString), p("FTSVCPASSWORD", KSecretString),
			p("ASSVCACCOUNT", KString), p("ASSVCPASSWORD", KSecretString), p("ASSYSADMINACCOUNTS", KStringArray),
			p("ISSVCACCOUNT", KString), p("ISSVCPASSWORD", KSecretString), p("BROWSERSVCSTARTUPTYPE", KString),
			p("PBENGSVCACCOUNT", KString), p("PBENGSVCPASSWORD", KSecretString), p("PBDMSSVCACCOUNT", KString),
			p("PBDMSSVCPASSWORD", KSecretString), p("USESQLRECOMMENDEDMEMORYLIMITS", KSwitch),
			p("SQLMINMEMORY", KString), p("SQLMAXMEMORY", KString), p("SQLMAXDOP", KString), p("TCPENABLED", KString),
			p("NPENABLED", KString),
		},
		Output: OutputAlways,
		Note:   "a service account ending in $ is a (g)MSA and takes no password (domain-facts section 4); passwords on the command line are visible in the process list: prefer /CONFIGURATIONFILE for them where setup allows",
	},
	{
		Name: "ntdsutil", Kind: External, Program: "ntdsutil",
		DocURL: "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/cc754363(v=ws.10)",
		Params: nil,
		Output: OutputAlways,
		Note:   "ntdsutil takes quoted menu commands, not /options (\"set dsrm password\" \"sync from domain account NAME\" q q); \"reset password on server\" prompts for the password, which fails under WinRM and must never be scripted",
	},
	{
		Name: "netdom trust", Kind: External, Program: "netdom", Subcommand: "trust", Separator: ":",
		DocURL: "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/cc835085(v=ws.11)",
		Params: []Param{
			p("domain", KString, "d"), p("userd", KString, "ud"), p("passwordd", KSecretString, "pd"),
			p("usero", KString, "uo"), p("passwordo", KSecretString, "po"), p("verify", KSwitch), p("reset", KSwitch),
			p("passwordt", KSecretString), p("add", KSwitch), p("realm", KSwitch), p("remove", KSwitch),
			p("force", KSwitch), p("twoway", KSwitch), p("kerberos", KSwitch),
			enum("transitive", "yes", "no"), enum("oneside", "trusted", "trusting"), enum("quarantine", "yes", "no"),
			p("namesuffixes", KString), p("togglesuffix", KString), enum("EnableSIDHistory", "yes", "no"),
			enum("ForestTRANsitive", "yes", "no"), enum("SelectiveAUTH", "yes", "no"), p("AddTLN", KString),
			p("AddTLNEX", KString), p("RemoveTLN", KString), p("RemoveTLNEX", KString), p("SecurePasswordPrompt", KSwitch),
			enum("EnableTgtDelegation", "yes", "no"),
			{Name: "EnablePIMTrust", Kind: KEnum, Values: []string{"yes", "no"}, DocURL: docPAMStep},
			p("help", KSwitch), p("?", KSwitch),
		},
		Output: OutputAlways,
		Note:   "/EnablePIMTrust is documented in the MIM PAM deployment guide (step 5), not on the netdom page; a password value of * prompts, which fails under WinRM",
	},
}

func serviceRow(name, page string, extra ...Param) Signature {
	params := []Param{
		p("Name", KStringArray, "ServiceName"), p("DisplayName", KStringArray), p("InputObject", KObjectArray),
		p("Include", KStringArray), p("Exclude", KStringArray), p("PassThru", KSwitch),
	}
	return Signature{
		Name: name, Kind: Cmdlet, Module: "Microsoft.PowerShell.Management",
		DocURL: docMgmt + page + v51, Params: append(params, extra...),
		Positional:       []string{"Name"},
		CommonParameters: true, ShouldProcess: true, Output: OutputPassThru,
	}
}

func pamRow(name, page, first string, params []Param, note string) Signature {
	return Signature{
		Name: name, Kind: Cmdlet, Module: "MIMPAM", DocURL: docMIMPAM + page + mimView,
		Params: params, Positional: []string{first, params[1].Name},
		CommonParameters: true, Output: OutputAlways, Note: note,
	}
}

// Lookup finds the row for a command name as written in a script (any case;
// for programs with or without .exe and path). Sub-commands are resolved by
// LookupExternal.
func Lookup(name string) (*Signature, bool) {
	n := strings.ToLower(name)
	for i := range Table {
		s := &Table[i]
		if s.Kind == Cmdlet && strings.ToLower(s.Name) == n {
			return s, true
		}
	}
	return nil, false
}

// ProgramName reduces a command name or path to a program's base name
// without extension: "C:\x\Setup.EXE" -> "setup".
func ProgramName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexAny(n, `\/`); i >= 0 {
		n = n[i+1:]
	}
	return strings.TrimSuffix(n, ".exe")
}

// LookupExternal finds an external program's rows by program base name;
// several rows mean sub-commands.
func LookupExternal(name string) []*Signature {
	prog := ProgramName(name)
	var out []*Signature
	for i := range Table {
		s := &Table[i]
		if s.Kind == External && s.Program == prog {
			out = append(out, s)
		}
	}
	return out
}

// FindParam finds a parameter of the row by exact name or alias, any case.
// Common and risk-mitigation parameters are included when the row has them.
func (s *Signature) FindParam(name string) (*Param, bool) {
	lists := [][]Param{s.Params}
	if s.CommonParameters {
		lists = append(lists, CommonParams)
	}
	if s.ShouldProcess {
		lists = append(lists, RiskParams)
	}
	for _, list := range lists {
		for i := range list {
			prm := &list[i]
			if strings.EqualFold(prm.Name, name) {
				return prm, true
			}
			for _, a := range prm.Aliases {
				if strings.EqualFold(a, name) {
					return prm, true
				}
			}
			if prm.Pattern != "" && regexp.MustCompile(prm.Pattern).MatchString(strings.ToLower(name)) {
				return prm, true
			}
		}
	}
	return nil, false
}

// PrefixMatches lists the parameters a name abbreviates, for the message
// that tells to spell it out.
func (s *Signature) PrefixMatches(name string) []string {
	var out []string
	lists := [][]Param{s.Params}
	if s.CommonParameters {
		lists = append(lists, CommonParams)
	}
	if s.ShouldProcess {
		lists = append(lists, RiskParams)
	}
	for _, list := range lists {
		for _, prm := range list {
			if len(name) > 0 && strings.HasPrefix(strings.ToLower(prm.Name), strings.ToLower(name)) {
				out = append(out, prm.Name)
			}
		}
	}
	return out
}
