package adnames

// Functional levels: msDS-Behavior-Version values (MS-ADTS 6.1.4.2).
const (
	LevelWindows2000        = 0
	LevelWindows2003Interim = 1
	LevelWindows2003        = 2
	LevelWindows2008        = 3
	LevelWindows2008R2      = 4
	LevelWindows2012        = 5
	LevelWindows2012R2      = 6
	LevelWindows2016        = 7
)

// ModernForestLevel is msDS-Behavior-Version 7, Windows Server 2016: AD then
// expires PAM's time-limited memberships itself.
const ModernForestLevel = LevelWindows2016

var levelNames = []string{
	LevelWindows2000:        "Windows 2000",
	LevelWindows2003Interim: "Windows Server 2003 interim",
	LevelWindows2003:        "Windows Server 2003",
	LevelWindows2008:        "Windows Server 2008",
	LevelWindows2008R2:      "Windows Server 2008 R2",
	LevelWindows2012:        "Windows Server 2012",
	LevelWindows2012R2:      "Windows Server 2012 R2",
	LevelWindows2016:        "Windows Server 2016",
}

// LevelName names a msDS-Behavior-Version value; above 7, Windows Server
// 2025's level included, it says "newer than Windows Server 2016".
func LevelName(level int) string {
	switch {
	case level > LevelWindows2016:
		return "newer than Windows Server 2016"
	case level >= 0:
		return levelNames[level]
	}
	return "unknown"
}
