# expect: command-line
# role: bootstrap
# Broken on purpose: the real bootstrap plus comments, too long once encoded.
# base: bootstrap (the real bootstrap.ps1 follows these lines)
# padding 01: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 02: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 03: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 04: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 05: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 06: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 07: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 08: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 09: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 10: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 11: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 12: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 13: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 14: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 15: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 16: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 17: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 18: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 19: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 20: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 21: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 22: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 23: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 24: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
# padding 25: a bootstrap this long no longer fits the 8191 characters cmd.exe allows.
