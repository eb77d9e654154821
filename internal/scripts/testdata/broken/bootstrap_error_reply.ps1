# expect: bootstrap
# role: bootstrap
# Broken on purpose: the error reply lacks error.type and the catch block exits 0.
# base: bootstrap (the real bootstrap.ps1 follows these lines, edited as below)
# drop: type     = $err.Exception.GetType().FullName
# replace: exit 1 => exit 0
