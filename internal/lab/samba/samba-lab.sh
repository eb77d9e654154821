#!/usr/bin/env bash
# samba-lab.sh: real Active Directory for the bastion provider's tests.
#
# Samba AD domain controllers, each in its own network + mount + UTS namespace,
# on a bridge in a hub namespace (10.77.0.0/24) with no default route anywhere:
#   PRIV.CONTOSO.TEST (PRIV): priv-dc1, priv-dc2 (replicating), priv-dc3 (prepared, not a DC)
#   CORP.CONTOSO.TEST (CORP): corp-dc1
#   forest trust PRIV <-> CORP, lab CA with per-DC SAN certificates for LDAPS,
#   dnsmasq in the hub for cross-forest DNS, and a veth from the root namespace
#   (10.77.0.254) so processes there (go test) reach the DCs.
# See README.md beside this file. Needs root.
#
# BASTION_SAMBA_ROOT=DIR runs every Samba tool from a Debian root in DIR (chroot inside
# each DC's namespaces) instead of the system's packages; `install` builds it with
# debootstrap when missing (BASTION_SAMBA_ROOT_SUITE, default bookworm-backports).
#
# Usage:
#   samba-lab.sh install
#   samba-lab.sh up STATE_DIR
#   samba-lab.sh down STATE_DIR
#   samba-lab.sh status STATE_DIR
#   samba-lab.sh join-dc STATE_DIR NAME
#   samba-lab.sh demote-dc STATE_DIR NAME
#   samba-lab.sh exec STATE_DIR NAME -- CMD...     (NAME: a DC name, or "hub")
set -euo pipefail
shopt -s nullglob

export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

readonly SCHEMA_VERSION=1
readonly NET_CIDR=10.77.0.0/24
readonly HUB_NS=bl-hub
readonly BRIDGE=blbr0
readonly HUB_IP=10.77.0.1
readonly HOST_IF=bl-host     # root-namespace end of the host veth
readonly HOST_PEER=bl-host-p # hub end of the host veth, on the bridge
readonly HOST_IP=10.77.0.254
readonly REGISTRY=/run/bastion-samba-lab # which lab owns the fixed namespaces (see other_lab_live)
readonly LOCK=/run/lock/bastion-samba-lab.lock
readonly EXIT_BUSY=75 # another live lab owns the namespaces: wait and retry
readonly MARKER=.bastion-samba-lab       # only a STATE_DIR holding this file is ever deleted

readonly -a ALL_DCS=(priv-dc1 priv-dc2 priv-dc3 corp-dc1)
declare -rA DC_IP=([priv-dc1]=10.77.0.11 [priv-dc2]=10.77.0.12 [priv-dc3]=10.77.0.13 [corp-dc1]=10.77.0.21)
declare -rA DC_FOREST=([priv-dc1]=priv [priv-dc2]=priv [priv-dc3]=priv [corp-dc1]=corp)
declare -rA REALM=([priv]=PRIV.CONTOSO.TEST [corp]=CORP.CONTOSO.TEST)
declare -rA DNSDOM=([priv]=priv.contoso.test [corp]=corp.contoso.test)
declare -rA NETBIOS=([priv]=PRIV [corp]=CORP)
declare -rA BASEDN=([priv]="DC=priv,DC=contoso,DC=test" [corp]="DC=corp,DC=contoso,DC=test")
readonly -a NAMING_CONTEXTS=(domain config schema domaindns forestdns)
readonly -a PACKAGES=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind
	smbclient ldb-tools krb5-user ldap-utils dnsutils dnsmasq-base iproute2 openssl
	python3-cryptography python3-dnspython)
# What the root namespace needs when Samba itself comes from BASTION_SAMBA_ROOT.
readonly -a HOST_PACKAGES=(krb5-user ldap-utils dnsutils dnsmasq-base iproute2 openssl)

# A Debian root holding the Samba to test, or empty for the system's. An up lab records
# its root in STATE_DIR/samba_root, which later commands on that lab follow.
SAMBA_ROOT=${BASTION_SAMBA_ROOT:-}
SAMBA_ROOT=${SAMBA_ROOT%/}
readonly ROOT_SUITE=${BASTION_SAMBA_ROOT_SUITE:-bookworm-backports}
readonly ROOT_MARKER=.bastion-samba-root # written last: a root without it is rebuilt

T0=${EPOCHREALTIME/./}
log() {
	local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
	printf '[samba-lab %4d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}
die() {
	log "ERROR: $*"
	exit 1
}

# Tests of the teardown make `up` fail on purpose at a named step.
fail_point() {
	if [[ ${BASTION_LAB_FAIL_AT:-} == "$1" ]]; then die "failure injected at step $1 (BASTION_LAB_FAIL_AT)"; fi
}

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (sudo make test, or sudo go test ./internal/lab/samba/...)"; }

ns_of() { echo "bl-$1"; }
fqdn_of() { echo "$1.${DNSDOM[${DC_FOREST[$1]}]}"; }
is_dc_name() {
	local n
	for n in "${ALL_DCS[@]}"; do [[ $n == "$1" ]] && return 0; done
	return 1
}

# ---------------------------------------------------------------- install

APT_LOCK=/run/lock/bastion-apt.lock

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The first configured deb822 or one-line source that serves Debian's main archive.
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		uri=$(awk '/^URIs:/{print $2; exit}' "$f")
		if [[ $uri == */debian && -n $(grep -E '^Suites:.*\bbookworm\b' "$f") ]]; then
			echo "$uri"
			return 0
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' "$f")
		[[ -n $uri ]] && {
			echo "$uri"
			return 0
		}
	done
	return 1
}

backports_configured() { apt-cache policy 2>/dev/null | grep -q 'bookworm-backports'; }

cmd_install() {
	need_root
	if [[ -n $SAMBA_ROOT ]]; then
		install_host "${HOST_PACKAGES[@]}"
		install_root
	else
		install_host "${PACKAGES[@]}"
	fi
}

# install_host PACKAGES...: apt-get install the missing ones on this machine.
install_host() {
	local wanted=("$@") missing=() p
	for p in "${wanted[@]}"; do pkg_installed "$p" || missing+=("$p"); done
	if ((${#missing[@]} == 0)); then
		log "install: all packages present ($(host_samba_note))"
		return 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	# One apt installer at a time across the project's tests (internal/lab/aptpkg takes the
	# same lock); dpkg's own lock, held by anything else, is waited for.
	local lockfd
	exec {lockfd}>"$APT_LOCK"
	flock "$lockfd"
	missing=()
	for p in "${wanted[@]}"; do pkg_installed "$p" || missing+=("$p"); done
	if ((${#missing[@]} == 0)); then
		log "install: all packages present ($(host_samba_note)), installed by another process"
		exec {lockfd}>&-
		return 0
	fi
	log "install: missing ${missing[*]}"
	apt-get update -qq
	local target=()
	if . /etc/os-release && [[ ${VERSION_CODENAME:-} == bookworm ]]; then
		if ! backports_configured; then
			# Backports lives on the same Debian mirror the machine is configured with; add the
			# suite only when that mirror answers for it.
			local mirror tmp
			if mirror=$(debian_mirror); then
				tmp=$(mktemp -d)
				printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
					"$mirror" >"$tmp/bookworm-backports.sources"
				if apt-get update -qq -o Dir::Etc::SourceParts="$tmp" -o Dir::Etc::sourcelist=/dev/null \
					-o APT::Get::List-Cleanup=0 2>/dev/null; then
					cp "$tmp/bookworm-backports.sources" /etc/apt/sources.list.d/bookworm-backports.sources
					apt-get update -qq
				else
					log "install: bookworm-backports not reachable on $mirror; using bookworm's Samba"
				fi
				rm -rf "$tmp"
			fi
		fi
		if backports_configured && apt-cache policy samba 2>/dev/null | grep -q 'bookworm-backports'; then
			target=(-t bookworm-backports)
		fi
	fi
	apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${target[@]}" "${wanted[@]}" >/dev/null
	exec {lockfd}>&-
	# A package's init script must not leave a Samba running in the root namespace.
	local d pids=""
	for d in samba smbd nmbd winbindd; do pids+=$(pgrep -x "$d" | tr '\n' ' ' || true); done
	[[ -z $pids ]] || log "install: warning: Samba daemons running in the root namespace: $pids"
	log "install: done (samba $(samba_version)${target[*]:+ from bookworm-backports})"
}

host_samba_note() {
	if [[ -n $SAMBA_ROOT ]]; then echo "the host's tools; Samba from $SAMBA_ROOT"; else echo "samba $(samba_version)"; fi
}

# install_root builds SAMBA_ROOT when it lacks its marker: a minimal Debian bookworm from
# the configured Debian mirror (debootstrap), then PACKAGES from ROOT_SUITE inside it. The
# system's packages are not touched. Built in DIR.partial and renamed, so an interrupted
# build is started again rather than used.
install_root() {
	local r=$SAMBA_ROOT lockfd
	if [[ -e $r/$ROOT_MARKER ]]; then
		log "install: Samba root $r present (samba $(samba_version))"
		return 0
	fi
	[[ $r == /* && $r != / ]] || die "BASTION_SAMBA_ROOT must be an absolute path other than /: $r"
	if [[ -e $r ]]; then die "$r exists but is not a finished Samba root (no $ROOT_MARKER): remove it or choose another BASTION_SAMBA_ROOT"; fi
	command -v debootstrap >/dev/null || install_host debootstrap
	mkdir -p "$(dirname "$r")"
	exec {lockfd}>"$r.lock"
	flock "$lockfd"
	if [[ -e $r/$ROOT_MARKER ]]; then
		log "install: Samba root $r built by another process (samba $(samba_version))"
		exec {lockfd}>&-
		return 0
	fi
	local mirror tmp=$r.partial
	mirror=$(debian_mirror) || mirror=http://deb.debian.org/debian
	rm -rf --one-file-system "$tmp"
	log "install: debootstrap bookworm into $tmp from $mirror"
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$r.build.log" 2>&1 || {
		tail -n 20 "$r.build.log" >&2
		die "debootstrap of $tmp failed (log: $r.build.log)"
	}
	printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" "$ROOT_SUITE" >"$tmp/etc/apt/sources.list.d/debian.sources"
	: >"$tmp/etc/apt/sources.list" # debootstrap's one-line bookworm source, now in debian.sources
	# Packages' maintainer scripts must not start daemons in the root namespace.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	local target=()
	[[ $ROOT_SUITE == *-backports ]] && target=(-t "$ROOT_SUITE")
	log "install: ${PACKAGES[*]} ${target[*]} into $tmp"
	# A private mount namespace holds the root's /proc while apt runs and drops it after.
	unshare --mount --propagation private -- bash -euc '
		r=$1; shift
		mount -t proc proc "$r/proc"
		chroot "$r" apt-get update -qq
		chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
		chroot "$r" apt-get clean
	' _ "$tmp" "${target[@]}" "${PACKAGES[@]}" >>"$r.build.log" 2>&1 || {
		tail -n 20 "$r.build.log" >&2
		die "installing Samba into $tmp failed (log: $r.build.log)"
	}
	rm -f "$tmp/etc/samba/smb.conf" "$tmp/etc/resolv.conf"
	chroot "$tmp" samba --version >"$tmp/$ROOT_MARKER"
	mv "$tmp" "$r"
	exec {lockfd}>&-
	log "install: Samba root $r built (samba $(samba_version))"
}

# in_root CMD...: run a Samba tool from SAMBA_ROOT when one is set, else the system's.
in_root() {
	if [[ -n $SAMBA_ROOT ]]; then chroot "$SAMBA_ROOT" "$@"; else "$@"; fi
}

samba_version() { in_root samba --version 2>/dev/null | sed 's/^Version //' || echo unknown; }

# Samba >= 4.19 can run at the 2016 functional level; older stops at 2008 R2.
functional_level() {
	local v major minor
	v=$(in_root samba --version | sed -E 's/^Version ([0-9]+)\.([0-9]+).*/\1 \2/')
	read -r major minor <<<"$v"
	if ((major > 4 || (major == 4 && minor >= 19))); then echo 2016; else echo 2008_R2; fi
}

# ---------------------------------------------------------------- namespaces

S=""  # state dir (absolute)
nsdir() { echo "$S/ns"; }
dcdir() { echo "$S/dc/$1"; }

# Run a command inside a DC's network, mount and UTS namespaces.
dc_exec() {
	local name=$1
	shift
	[[ -e $(nsdir)/$name.mnt ]] || die "namespace of $name not found in $S"
	local root=()
	[[ -z $SAMBA_ROOT ]] || root=(chroot "$SAMBA_ROOT")
	nsenter --net="/run/netns/$(ns_of "$name")" --mount="$(nsdir)/$name.mnt" --uts="$(nsdir)/$name.uts" -- "${root[@]}" "$@"
}
hub_exec() { ip netns exec "$HUB_NS" "$@"; }

make_hub() {
	ip netns add "$HUB_NS"
	ip netns exec "$HUB_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$HUB_NS" link set lo up
	ip -n "$HUB_NS" link add "$BRIDGE" type bridge
	ip -n "$HUB_NS" addr add "$HUB_IP/24" dev "$BRIDGE"
	ip -n "$HUB_NS" link set "$BRIDGE" up
	# Root namespace -> hub: one veth, one address in the lab /24, no other route.
	ip link add "$HOST_IF" type veth peer name "$HOST_PEER" netns "$HUB_NS"
	sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1"
	ip addr add "$HOST_IP/24" dev "$HOST_IF"
	ip link set "$HOST_IF" up
	ip -n "$HUB_NS" link set "$HOST_PEER" master "$BRIDGE" up
}

make_dc_ns() {
	local name=$1 ns d forest
	ns=$(ns_of "$name")
	d=$(dcdir "$name")
	forest=${DC_FOREST[$name]}
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
	ip link add "v-$name" netns "$HUB_NS" type veth peer name eth0 netns "$ns"
	ip -n "$ns" addr add "${DC_IP[$name]}/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$HUB_NS" link set "v-$name" master "$BRIDGE" up

	mkdir -p "$d"/{etc,lib,cache,run,log,tls}
	printf 'search %s\nnameserver %s\n' "${DNSDOM[$forest]}" "$HUB_IP" >"$d/resolv.conf"
	{
		printf '127.0.0.1 localhost\n%s %s %s\n' "${DC_IP[$name]}" "$(fqdn_of "$name")" "$name"
		local n
		for n in "${ALL_DCS[@]}"; do
			[[ $n == "$name" ]] || printf '%s %s %s\n' "${DC_IP[$n]}" "$(fqdn_of "$n")" "$n"
		done
	} >"$d/hosts"
	write_krb5_conf "$d/krb5.conf" "${REALM[$forest]}"

	# Persistent mount + UTS namespaces, bound to files in $S/ns. Inside, the DC sees its own
	# /etc/samba, /var/lib/samba, /var/cache/samba, /var/log/samba, /run/samba (smbd looks for
	# winbindd at the compiled-in /run/samba/winbindd), resolv.conf, hosts and krb5.conf.
	# With a SAMBA_ROOT those paths are bound inside the root, which also gets /proc, /dev
	# and this namespace's /sys; dc_exec then chroots into it.
	touch "$(nsdir)/$name.mnt" "$(nsdir)/$name.uts"
	nsenter --net="/run/netns/$ns" -- unshare --mount="$(nsdir)/$name.mnt" --uts="$(nsdir)/$name.uts" \
		--propagation private -- /bin/bash -euc '
			d=$1 r=$3
			hostname "$2"
			mount --bind "$d/etc" "$r/etc/samba"
			mount --bind "$d/lib" "$r/var/lib/samba"
			mount --bind "$d/cache" "$r/var/cache/samba"
			mount --bind "$d/log" "$r/var/log/samba"
			mount --bind "$d/run" "$r/run/samba"
			mount --bind "$d/resolv.conf" "$r/etc/resolv.conf"
			mount --bind "$d/hosts" "$r/etc/hosts"
			mount --bind "$d/krb5.conf" "$r/etc/krb5.conf"
			if [[ -n $r ]]; then
				mount -t proc proc "$r/proc"
				mount --rbind /dev "$r/dev"
				mount -t sysfs sysfs "$r/sys"
			else
				umount -l /sys && mount -t sysfs sysfs /sys
			fi
		' _ "$d" "$name" "$SAMBA_ROOT"
	echo prepared >"$d/role"
}

write_krb5_conf() {
	local file=$1 default_realm=$2 f
	{
		printf '[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_realm = false\n\tdns_lookup_kdc = false\n\trdns = false\n\n[realms]\n' "$default_realm"
		for f in priv corp; do
			printf '\t%s = {\n' "${REALM[$f]}"
			local n
			for n in "${ALL_DCS[@]}"; do
				[[ ${DC_FOREST[$n]} == "$f" && $n != priv-dc3 ]] && printf '\t\tkdc = %s\n' "${DC_IP[$n]}"
			done
			printf '\t}\n'
		done
		printf '\n[domain_realm]\n'
		for f in priv corp; do printf '\t.%s = %s\n\t%s = %s\n' "${DNSDOM[$f]}" "${REALM[$f]}" "${DNSDOM[$f]}" "${REALM[$f]}"; done
	} >"$file"
}

# Mountpoints the DC namespaces bind over must exist in the root mount namespace.
ensure_mountpoints() {
	local p r=$SAMBA_ROOT
	for p in /etc/samba /var/lib/samba /var/cache/samba /var/log/samba /run/samba; do mkdir -p "$r$p"; done
	for p in /etc/krb5.conf /etc/resolv.conf /etc/hosts; do [[ -e $r$p ]] || touch "$r$p"; done
}

# ---------------------------------------------------------------- CA

make_ca() {
	local ca=$S/ca
	mkdir -p "$ca"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj "/O=Bastion Samba Lab/CN=Bastion Samba Lab CA" \
		-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
		-keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
	local n d forest
	for n in "${ALL_DCS[@]}"; do
		d=$(dcdir "$n")/tls
		forest=${DC_FOREST[$n]}
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$(fqdn_of "$n")" \
			-keyout "$d/key.pem" -out "$d/req.pem" 2>/dev/null
		printf 'subjectAltName=DNS:%s,DNS:%s,DNS:%s,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' \
			"$(fqdn_of "$n")" "$n" "${DNSDOM[$forest]}" "${DC_IP[$n]}" >"$d/ext.cnf"
		openssl x509 -req -in "$d/req.pem" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
			-days 30 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
		cp "$ca/ca.pem" "$d/ca.pem"
		chmod 600 "$d/key.pem"
		rm -f "$d/req.pem" "$d/ext.cnf"
	done
}

# ---------------------------------------------------------------- DNS hub

start_dnsmasq() {
	local args=(--conf-file=/dev/null --no-resolv --no-hosts --no-poll --bind-interfaces
		--listen-address="$HUB_IP" --except-interface=lo --cache-size=0 --no-negcache --all-servers
		--user=root --group=root --pid-file="$S/hub/dnsmasq.pid" --log-facility="$S/hub/dnsmasq.log")
	local n
	for n in "${ALL_DCS[@]}"; do
		[[ $n == priv-dc3 ]] && continue
		args+=(--server="/${DNSDOM[${DC_FOREST[$n]}]}/${DC_IP[$n]}")
	done
	mkdir -p "$S/hub"
	hub_exec dnsmasq "${args[@]}" </dev/null >>"$S/hub/dnsmasq.log" 2>&1 # daemonizes, writes its pid file
	wait_for "dnsmasq" 10 dnsmasq_answers
}

dnsmasq_answers() { hub_exec dig +short +time=1 +tries=1 @"$HUB_IP" version.bind chaos txt 2>/dev/null | grep -q dnsmasq; }

# ---------------------------------------------------------------- Samba

password() { printf 'Lab-%s-%s9x' "$1" "$(openssl rand -hex 10)"; }
admin_pass() { cat "$S/secrets/${1}.admin"; }

smb_options() {
	local name=$1 level=$2
	local opts=(
		"interfaces=lo eth0" "bind interfaces only=yes"
		"pid directory=/run/samba" "ncalrpc dir=/run/samba/ncalrpc"
		"winbindd socket directory=/run/samba/winbindd" "ntp signd socket directory=/var/lib/samba/ntp_signd"
		"log file=/var/log/samba/log.%m" "netbios name=${name^^}"
	)
	[[ $level == 2016 ]] && opts+=("ad dc functional level=2016")
	local o
	for o in "${opts[@]}"; do printf -- '--option=%s\n' "$o"; done
}

# Simple bind on plain 389 is refused by default ("Strong(er) authentication required"), as
# LDAPS is what the tests use; BASTION_LAB_LDAP_PLAIN_BIND=1 allows it for a test that needs 389.
# Before 4.21, "yes" also refuses a GSSAPI bind inside TLS without a SASL signing layer
# ("Sign or Seal are required"), which Windows accepts (and refuses the layer inside TLS);
# allow_sasl_over_tls keeps every other "yes" rule and accepts it, as Windows does.
plain_bind_setting() {
	if [[ $(cat "$S/plain_bind" 2>/dev/null) == 1 ]]; then
		echo no
	elif samba_before 4 21; then
		echo allow_sasl_over_tls
	else
		echo yes
	fi
}

samba_before() {
	local major minor
	read -r major minor < <(in_root samba --version | sed -E 's/^Version ([0-9]+)\.([0-9]+).*/\1 \2/')
	((major < $1 || (major == $1 && minor < $2)))
}

# samba-tool provision/join drop these: add them to [global] afterwards.
patch_smb_conf() {
	local name=$1 conf
	conf=$(dcdir "$name")/etc/smb.conf
	local tls=/var/lib/samba/lab-tls
	sed -i '/^[[:space:]]*dns forwarder/d' "$conf"
	sed -i "/^\[global\]/a\\
\tdns forwarder = $HUB_IP\\
\tldap server require strong auth = $(plain_bind_setting)\\
\ttls enabled = yes\\
\ttls keyfile = $tls/key.pem\\
\ttls certfile = $tls/cert.pem\\
\ttls cafile = $tls/ca.pem" "$conf"
	mkdir -p "$(dcdir "$name")/lib/lab-tls"
	cp -p "$(dcdir "$name")"/tls/{key,cert,ca}.pem "$(dcdir "$name")/lib/lab-tls/"
}

provision_dc() {
	local name=$1 forest=${DC_FOREST[$1]} level
	level=$(cat "$S/functional_level")
	local opts
	mapfile -t opts < <(smb_options "$name" "$level")
	dc_exec "$name" samba-tool domain provision --server-role=dc --use-rfc2307 --dns-backend=SAMBA_INTERNAL \
		--realm="${REALM[$forest]}" --domain="${NETBIOS[$forest]}" --adminpass="$(admin_pass "$forest")" \
		--host-name="$name" --host-ip="${DC_IP[$name]}" --function-level="$level" "${opts[@]}" \
		>"$(dcdir "$name")/log/provision.log" 2>&1 || {
		tail -n 30 "$(dcdir "$name")/log/provision.log" >&2
		die "provision of $name failed"
	}
	patch_smb_conf "$name"
}

# PID of the DC's master samba process, if it runs.
samba_pid() {
	local pid p pp
	pid=$(tr -dc 0-9 <"$(dcdir "$1")/run/samba.pid" 2>/dev/null || true)
	if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == samba &&
		$(ip netns identify "$pid" 2>/dev/null) == "$(ns_of "$1")" ]]; then
		echo "$pid"
		return 0
	fi
	# No pid file (yet): the samba in the DC's namespace whose parent is not a samba.
	for p in $(ip netns pids "$(ns_of "$1")" 2>/dev/null); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == samba ]] || continue
		pp=$(awk '/^PPid:/{print $2}' "/proc/$p/status" 2>/dev/null)
		[[ $(cat "/proc/$pp/comm" 2>/dev/null) == samba ]] && continue
		echo "$p"
		return 0
	done
	return 1
}

start_samba() {
	local name=$1
	dc_exec "$name" setsid samba -D </dev/null >>"$(dcdir "$name")/log/samba.stdout" 2>&1
	wait_dc_ready "$name"
	echo dc >"$(dcdir "$name")/role"
}

# A DC is ready when LDAPS answers with a certificate the lab CA verifies, and the
# Kerberos, SMB and DNS ports answer.
dc_ready() {
	local name=$1 ip=${DC_IP[$1]}
	LDAPTLS_CACERT=$S/ca/ca.pem LDAPTLS_REQCERT=demand hub_exec ldapsearch -x -LLL -o nettimeout=2 \
		-H "ldaps://$ip" -s base -b '' dsServiceName >/dev/null 2>&1 || return 1
	hub_exec bash -c "exec 3<>/dev/tcp/$ip/88 && exec 4<>/dev/tcp/$ip/445" 2>/dev/null || return 1
	hub_exec dig +short +time=1 +tries=1 @"$ip" "$(fqdn_of "$name")" A | grep -qx "$ip" || return 1
}

wait_dc_ready() {
	local name=$1
	if ! wait_for "$name ready" 120 dc_ready "$name"; then
		tail -n 40 "$(dcdir "$name")"/log/log.samba >&2 || true
		die "$name did not become ready"
	fi
}

redact() { printf '%s ' "$@" | sed -E 's/(password=)[^ ]*/\1***/g'; }

# retry SECONDS CMD...: run CMD until it succeeds (a DC just started may answer NT_STATUS_DS_BUSY).
retry() {
	local secs=$1 out n=0
	shift
	local deadline=$((SECONDS + secs))
	until out=$("$@" 2>&1); do
		n=$((n + 1))
		if ((SECONDS >= deadline)); then
			printf '%s\n' "$out" | grep -v 'passwords on command line' >&2
			log "gave up after ${secs}s: $(redact "$@")"
			return 1
		fi
		if ((n == 1)) && [[ -n ${BASTION_LAB_DEBUG:-} ]]; then
			log "retrying $(redact "$@"): $(printf '%s' "$out" | grep -v 'passwords on command line' | tail -n1)"
		fi
		sleep 0.5
	done
	((n == 0)) || [[ -z ${BASTION_LAB_DEBUG:-} ]] || log "ok after $n retries: $(redact "$@")"
}

# wait_for WHAT SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < deadline)) || {
			log "timed out after ${secs}s waiting for $what"
			return 1
		}
		sleep 0.2
	done
}

stop_ns_processes() {
	local ns=$1 pids
	ip netns list | awk '{print $1}' | grep -qx "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[[ -n $pids ]] || return 0
	kill -TERM $pids 2>/dev/null || true
	ns_emptied "$ns" 100 && return 0
	log "killing leftover processes in $ns: $pids"
	kill -KILL $pids 2>/dev/null || true
	ns_emptied "$ns" 50 && return 0
	die "processes in $ns survive SIGKILL: $pids"
}

# ns_emptied NS TRIES: polls NS every 0.1 s, TRIES times, until it has no
# process; the caller's pids holds what is left.
ns_emptied() {
	local ns=$1 tries=$2 i
	for ((i = 0; i < tries; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[[ -z $pids ]] && return 0
		sleep 0.1
	done
	return 1
}

# Processes that entered a DC's mount namespace without its network namespace (defensive).
stop_mntns_processes() {
	local file=$1 ino p
	ino=$(stat -Lc %i "$file" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/mnt" 2>/dev/null) == "mnt:[$ino]" ]] && kill -KILL "${p#/proc/}" 2>/dev/null || true
	done
}

admin_args() { printf -- '-U\n%s\\Administrator\n--password=%s\n' "${NETBIOS[$1]}" "$(admin_pass "$1")"; }

nc_dn() {
	local forest=$1 nc=$2 base=${BASEDN[$1]}
	case $nc in
	domain) echo "$base" ;;
	config) echo "CN=Configuration,$base" ;;
	schema) echo "CN=Schema,CN=Configuration,$base" ;;
	domaindns) echo "DC=DomainDnsZones,$base" ;;
	forestdns) echo "DC=ForestDnsZones,$base" ;;
	esac
}

running_dcs() {
	local forest=$1 n
	for n in "${ALL_DCS[@]}"; do
		[[ ${DC_FOREST[$n]} == "$forest" && $(cat "$(dcdir "$n")/role" 2>/dev/null) == dc ]] && echo "$n"
	done
	return 0
}

# drs_sync RUNNER DEST SRC NC CREDS...: DEST pulls NC from SRC now. When DEST has no
# repsFrom for SRC yet (WERR_FILE_NOT_FOUND), run DEST's KCC before failing, so a retry works.
drs_sync() {
	local runner=$1 dest=$2 src=$3 nc=$4
	shift 4
	dc_exec "$runner" samba-tool drs replicate "$(fqdn_of "$dest")" "$(fqdn_of "$src")" "$nc" "$@" && return 0
	dc_exec "$runner" samba-tool drs kcc "$(fqdn_of "$dest")" "$@" >/dev/null 2>&1 || true
	return 1
}

# pull_ncs RUNNER DEST SRC CREDS...: start DEST pulling every naming context from SRC,
# each retried, in the background; their PIDs join the caller's pids for wait_all.
pull_ncs() {
	local runner=$1 dest=$2 src=$3 nc
	shift 3
	for nc in "${NAMING_CONTEXTS[@]}"; do
		retry 60 drs_sync "$runner" "$dest" "$src" "$(nc_dn "${DC_FOREST[$runner]}" "$nc")" "$@" &
		pids+=($!)
	done
}

# wait_all PID...: wait for background steps; fail if any failed.
wait_all() {
	local p rc=0
	for p in "$@"; do wait "$p" || rc=1; done
	return $rc
}

# The partner only pulls from a new DC on its own schedule (over a minute): make every other
# DC learn the new nTDSDSA from the partner the join wrote it to, run the KCC everywhere, then
# replicate every naming context both ways, now. Independent calls run in parallel.
force_replication() {
	local name=$1 partner=$2 forest=${DC_FOREST[$1]} creds other pids=()
	mapfile -t creds < <(admin_args "$forest")
	for other in $(running_dcs "$forest"); do
		[[ $other == "$name" || $other == "$partner" ]] && continue
		retry 60 drs_sync "$name" "$other" "$partner" "$(nc_dn "$forest" config)" "${creds[@]}" &
		pids+=($!)
	done
	wait_all "${pids[@]}" || die "replication of the new nTDSDSA from $partner failed"
	pids=()
	for other in $(running_dcs "$forest"); do
		retry 60 dc_exec "$name" samba-tool drs kcc "$(fqdn_of "$other")" "${creds[@]}" &
		pids+=($!)
	done
	# The KCC run only speeds things up: the forced replication below runs each
	# DC's KCC again whenever a replicate finds no link, and it is what must succeed.
	# Samba's KCC sometimes answers {Device Timeout} for a minute; that alone is no failure.
	wait_all "${pids[@]}" || log "KCC run did not finish on every DC; the forced replication retries it"
	[[ -z ${BASTION_LAB_DEBUG:-} ]] || log "kcc done"
	# Phase 1: the new DC and its join partner replicate both ways. Phase 2: every
	# other DC pulls from the partner (which now holds the new DC's changes) and
	# the new DC pulls from it. Replication is transitive, so no DC waits for its
	# KCC to build a direct link to the new DC, which Samba sometimes takes
	# minutes to do (WERR_FILE_NOT_FOUND).
	pids=()
	pull_ncs "$name" "$partner" "$name" "${creds[@]}"
	pull_ncs "$name" "$name" "$partner" "${creds[@]}"
	wait_all "${pids[@]}" || die "forced replication between $name and $partner failed"
	pids=()
	for other in $(running_dcs "$forest"); do
		[[ $other == "$name" || $other == "$partner" ]] && continue
		pull_ncs "$name" "$other" "$partner" "${creds[@]}"
		pull_ncs "$name" "$name" "$other" "${creds[@]}"
	done
	wait_all "${pids[@]}" || die "forced replication of $name through $partner failed"
}

join_dc() {
	local name=$1 forest=${DC_FOREST[$1]} level partner opts creds
	level=$(cat "$S/functional_level")
	partner=$(running_dcs "$forest" | grep -vx "$name" | head -n1)
	[[ -n $partner ]] || die "join-dc $name: no running DC in ${REALM[$forest]}"
	mapfile -t opts < <(smb_options "$name" "$level")
	mapfile -t creds < <(admin_args "$forest")
	local rejoin=0
	[[ -e $(dcdir "$name")/joined-before ]] && rejoin=1
	log "join $name to ${REALM[$forest]} via $partner"
	dc_exec "$name" samba-tool domain join "${DNSDOM[$forest]}" DC --server="$(fqdn_of "$partner")" \
		--dns-backend=SAMBA_INTERNAL "${creds[@]}" "${opts[@]}" \
		>"$(dcdir "$name")/log/join.log" 2>&1 || {
		tail -n 30 "$(dcdir "$name")/log/join.log" >&2
		die "join of $name failed"
	}
	touch "$(dcdir "$name")/joined-before"
	patch_smb_conf "$name"
	[[ -z ${BASTION_LAB_DEBUG:-} ]] || log "joined; starting $name"
	start_samba "$name"
	if ((rejoin)); then
		# The partners still hold a ticket for the old machine key ("Decrypt integrity check failed").
		local other
		for other in $(running_dcs "$forest"); do
			[[ $other == "$name" ]] && continue
			log "restart $other (rejoin of $name)"
			stop_ns_processes "$(ns_of "$other")"
			start_samba "$other"
		done
	fi
	log "force replication $name <-> $(running_dcs "$forest" | grep -vx "$name" | tr '\n' ' ')"
	force_replication "$name" "$partner"
}

# Empty a DC's directories (they stay mounted in its namespace); keep its logs aside.
wipe_dc_data() {
	local d sub keep
	d=$(dcdir "$1")
	if [[ -n $(ls -A "$d/log") ]]; then
		keep=$d/old-logs/$(date -u +%Y%m%dT%H%M%S.%N)
		mkdir -p "$keep"
		cp -a "$d/log/." "$keep/"
	fi
	for sub in etc lib cache run log; do
		find "$d/$sub" -mindepth 1 -delete 2>/dev/null || rm -rf "${d:?}/$sub/"* "${d:?}/$sub/".[!.]* 2>/dev/null || true
	done
}

# ---------------------------------------------------------------- lab.json

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

write_lab_json() {
	local out=$S/lab.json.tmp n forest first=1 f
	{
		printf '{\n  "schema_version": %d,\n' "$SCHEMA_VERSION"
		printf '  "state_dir": %s,\n' "$(json_str "$S")"
		printf '  "created_at": %s,\n' "$(json_str "$(cat "$S/created_at")")"
		printf '  "samba_version": %s,\n' "$(json_str "$(samba_version)")"
		printf '  "functional_level": %s,\n' "$(json_str "$(cat "$S/functional_level")")"
		printf '  "samba_root": %s,\n' "$(json_str "$SAMBA_ROOT")"
		printf '  "ca_cert": %s,\n' "$(json_str "$S/ca/ca.pem")"
		printf '  "krb5_conf": %s,\n' "$(json_str "$S/krb5.conf")"
		printf '  "ldap_plain_simple_bind": %s,\n' "$([[ $(plain_bind_setting) == no ]] && echo true || echo false)"
		printf '  "network": {\n    "cidr": "%s",\n    "hub_netns": "%s",\n    "bridge": "%s",\n    "bridge_ip": "%s",\n    "dns_server": "%s",\n    "dnsmasq_pid": %s\n  },\n' \
			"$NET_CIDR" "$HUB_NS" "$BRIDGE" "$HUB_IP" "$HUB_IP" "$(cat "$S/hub/dnsmasq.pid" 2>/dev/null || echo 0)"
		printf '  "host_access": {\n    "method": "veth",\n    "host_interface": "%s",\n    "host_ip": "%s",\n    "routes": ["%s dev %s"],\n    "description": %s\n  },\n' \
			"$HOST_IF" "$HOST_IP" "$NET_CIDR" "$HOST_IF" \
			"$(json_str "A process in the root network namespace reaches every DC directly at its IP: veth $HOST_IF ($HOST_IP/24) is plugged into the hub bridge; its only route is the connected $NET_CIDR. Verify LDAPS with ca_cert and ServerName = the DC's fqdn (the IP is also a SAN).")"
		printf '  "forests": [\n'
		for f in priv corp; do
			((first)) || printf ',\n'
			first=0
			local dcs=() m
			for m in $(running_dcs "$f"); do dcs+=("\"$m\""); done
			local IFS=,
			printf '    {\n      "name": "%s",\n      "realm": "%s",\n      "dns_domain": "%s",\n      "netbios": "%s",\n      "base_dn": "%s",\n      "config_dn": "CN=Configuration,%s",\n      "schema_dn": "CN=Schema,CN=Configuration,%s",\n' \
				"$f" "${REALM[$f]}" "${DNSDOM[$f]}" "${NETBIOS[$f]}" "${BASEDN[$f]}" "${BASEDN[$f]}" "${BASEDN[$f]}"
			printf '      "admin_user": "Administrator",\n      "admin_upn": "Administrator@%s",\n      "admin_bind_dn": "CN=Administrator,CN=Users,%s",\n      "admin_netbios": "%s\\\\Administrator",\n      "admin_password": %s,\n      "dcs": [%s]\n    }' \
				"${REALM[$f]}" "${BASEDN[$f]}" "${NETBIOS[$f]}" "$(json_str "$(admin_pass "$f")")" "${dcs[*]}"
			unset IFS
		done
		printf '\n  ],\n'
		printf '  "trusts": [\n'
		if [[ -e $S/trust ]]; then
			printf '    {"local_realm": "%s", "remote_realm": "%s", "type": "forest", "direction": "both", "created_on": "priv-dc1"}\n' \
				"${REALM[priv]}" "${REALM[corp]}"
		fi
		printf '  ],\n'
		printf '  "dcs": [\n'
		first=1
		for n in "${ALL_DCS[@]}"; do
			((first)) || printf ',\n'
			first=0
			forest=${DC_FOREST[$n]}
			local role pid pids
			role=$(cat "$(dcdir "$n")/role" 2>/dev/null || echo absent)
			pid=$(samba_pid "$n" 2>/dev/null || echo 0)
			pids=$(ip netns pids "$(ns_of "$n")" 2>/dev/null | sort -n | paste -sd, -)
			printf '    {\n      "name": "%s",\n      "netbios_name": "%s",\n      "fqdn": "%s",\n      "ip": "%s",\n      "forest": "%s",\n      "realm": "%s",\n      "netbios_domain": "%s",\n      "base_dn": "%s",\n' \
				"$n" "${n^^}" "$(fqdn_of "$n")" "${DC_IP[$n]}" "$forest" "${REALM[$forest]}" "${NETBIOS[$forest]}" "${BASEDN[$forest]}"
			printf '      "ldap_port": 389,\n      "ldaps_port": 636,\n      "kerberos_port": 88,\n      "dns_port": 53,\n      "ldaps_url": "ldaps://%s:636",\n' "${DC_IP[$n]}"
			printf '      "state": "%s",\n      "samba_pid": %s,\n      "pids": [%s],\n' "$( [[ $role == dc && $pid != 0 ]] && echo running || { [[ $role == dc ]] && echo stopped || echo "$role"; })" "$pid" "$pids"
			printf '      "netns": "%s",\n      "mount_ns": %s,\n      "uts_ns": %s,\n      "dir": %s,\n      "log_dir": %s\n    }' \
				"$(ns_of "$n")" "$(json_str "$(nsdir)/$n.mnt")" "$(json_str "$(nsdir)/$n.uts")" \
				"$(json_str "$(dcdir "$n")")" "$(json_str "$(dcdir "$n")/log")"
		done
		printf '\n  ]\n}\n'
	} >"$out"
	mv "$out" "$S/lab.json"
}

# ---------------------------------------------------------------- teardown

# The namespace and interface names are fixed, so one lab runs at a time. $REGISTRY
# holds the owning lab's STATE_DIR, its owner's PID (BASTION_LAB_OWNER_PID, set by the
# Go package; 0 for a lab started from the command line) and that PID's start time.
proc_start() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	read -ra f <<<"$s"
	echo "${f[19]}"
}

# other_lab_live DIR: the registry names a lab other than DIR that is still in use.
other_lab_live() {
	[[ -s $REGISTRY ]] || return 1
	local dir pid start
	{
		read -r dir
		read -r pid
		read -r start
	} <"$REGISTRY"
	[[ $dir != "$1" ]] || return 1
	if [[ ${pid:-0} == 0 ]]; then
		[[ -e $dir/$MARKER ]]
	else
		[[ $(proc_start "$pid" 2>/dev/null) == "${start:-}" ]]
	fi
}

lock_registry() {
	mkdir -p "${LOCK%/*}"
	exec 9>>"$LOCK"
	flock -w 60 9 || die "could not lock $LOCK"
}
unlock_registry() { exec 9>&-; }

# For up: a registry lock held for long (another lab's teardown on a loaded machine) is
# "busy", so the caller waits and retries rather than failing.
lock_registry_or_busy() {
	mkdir -p "${LOCK%/*}"
	exec 9>>"$LOCK"
	flock -w 60 9 || {
		log "busy: $LOCK held for 60 s (another lab going up or down)"
		exit "$EXIT_BUSY"
	}
}

# Kill every process in the lab's namespaces, then delete the namespaces and the host veth.
teardown_namespaces() {
	local ns n d f
	for ns in "$HUB_NS" $(for n in "${ALL_DCS[@]}"; do ns_of "$n"; done); do
		stop_ns_processes "$ns"
	done
	for d in "$@"; do
		for f in "$d"/ns/*.mnt; do stop_mntns_processes "$f"; done
	done
	# The host veth goes first: deleting the hub namespace destroys its peer, and with it
	# bl-host, asynchronously, so a check-then-delete afterwards races the kernel.
	ip link del "$HOST_IF" 2>/dev/null || true
	for ns in $(for n in "${ALL_DCS[@]}"; do ns_of "$n"; done) "$HUB_NS"; do
		if ip netns list | awk '{print $1}' | grep -qx "$ns"; then ip netns del "$ns" 2>/dev/null || true; fi
	done
	local i
	for ((i = 0; i < 100; i++)); do
		ip link show "$HOST_IF" >/dev/null 2>&1 || break
		ip link del "$HOST_IF" 2>/dev/null || true
		sleep 0.1
	done
	! ip link show "$HOST_IF" >/dev/null 2>&1 || die "veth $HOST_IF still present after teardown"
	return 0
}

# Unmount a state dir's namespace files and delete it (only if it carries the marker).
teardown_dir() {
	local d=$1 f
	[[ -d $d ]] || return 0
	for f in "$d"/ns/*.mnt; do stop_mntns_processes "$f"; done
	for f in "$d"/ns/*.mnt "$d"/ns/*.uts; do
		if mountpoint -q "$f"; then umount "$f" 2>/dev/null || umount -l "$f"; fi
	done
	if mountpoint -q "$d/ns"; then umount "$d/ns" 2>/dev/null || umount -l "$d/ns"; fi
	if grep -qF " ${d%/}/" /proc/self/mountinfo; then
		die "mounts remain under $d; not deleting it"
	fi
	if [[ -e $d/$MARKER ]]; then rm -rf --one-file-system "$d"; fi
	if [[ $(sed -n 1p "$REGISTRY" 2>/dev/null) == "$d" ]]; then rm -f "$REGISTRY"; fi
	return 0
}

# Tear down the lab in $1 and any debris of the lab the registry names. Callers hold the lock
# and have checked that no other live lab owns the namespaces.
teardown() {
	local dirs=() d
	[[ -n ${1:-} ]] && dirs+=("$1")
	d=$(sed -n 1p "$REGISTRY" 2>/dev/null || true)
	[[ -n $d && $d != "${1:-}" ]] && dirs+=("$d")
	teardown_namespaces "${dirs[@]}"
	for d in "${dirs[@]}"; do teardown_dir "$d"; done
	rm -f "$REGISTRY"
	return 0
}

# ---------------------------------------------------------------- commands

set_state_dir() {
	[[ -n ${1:-} ]] || die "STATE_DIR missing"
	case $1 in /*) S=${1%/} ;; *) S=$(pwd)/${1%/} ;; esac
	[[ $S != / && -n $S ]] || die "refusing STATE_DIR /"
	if [[ -e $S/samba_root ]]; then SAMBA_ROOT=$(cat "$S/samba_root"); fi
}

# kill_tree PID: a background job and everything it started, children first.
kill_tree() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null || true); do kill_tree "$c"; done
	kill -TERM "$1" 2>/dev/null || true
}

up_failed() {
	local rc=$? j
	trap - EXIT
	trap '' INT TERM HUP PIPE # the teardown must finish, even if the reader of our output is gone
	log "up failed (exit $rc); tearing down" || true
	# Stop the parallel steps first, so none starts a daemon while the namespaces go.
	for j in $(jobs -p); do kill_tree "$j"; done
	wait 2>/dev/null || true
	if [[ ${BASTION_LAB_KEEP_ON_FAILURE:-} == 1 ]]; then
		log "BASTION_LAB_KEEP_ON_FAILURE=1: leaving $S in place"
		exit "$rc"
	fi
	lock_registry
	teardown "$S" || true
	exit "$rc"
}

cmd_up() {
	need_root
	set_state_dir "${1:-}"
	SAMBA_ROOT=${BASTION_SAMBA_ROOT:-} # a new lab follows the environment, not the debris's record
	SAMBA_ROOT=${SAMBA_ROOT%/}
	if [[ -d $S && -n $(ls -A "$S") && ! -e $S/$MARKER ]]; then
		die "$S is not empty and not a lab state dir; refusing to use it"
	fi
	lock_registry_or_busy
	if other_lab_live "$S"; then
		if [[ $(sed -n 2p "$REGISTRY") == 0 ]]; then
			die "a lab started by hand is up in $(sed -n 1p "$REGISTRY"): run '$0 down $(sed -n 1p "$REGISTRY")' first"
		fi
		log "busy: the lab in $(sed -n 1p "$REGISTRY") (owner pid $(sed -n 2p "$REGISTRY")) is up"
		exit "$EXIT_BUSY"
	fi
	log "up: cleaning debris"
	teardown "$S"
	if ip route show | grep -v "dev $HOST_IF" | grep -q '^10\.77\.0\.'; then
		die "the root namespace already routes 10.77.0.0/24 elsewhere: $(ip route show | grep '^10\.77\.0\.')"
	fi
	if [[ -n $SAMBA_ROOT ]]; then
		[[ -e $SAMBA_ROOT/$ROOT_MARKER ]] || die "no Samba root in $SAMBA_ROOT: run '$0 install' with BASTION_SAMBA_ROOT set first"
	else
		command -v samba-tool >/dev/null || die "samba-tool missing: run '$0 install' first"
	fi

	trap up_failed EXIT
	trap 'exit 130' INT TERM HUP PIPE
	mkdir -p "$S"
	touch "$S/$MARKER"
	local owner=${BASTION_LAB_OWNER_PID:-0}
	printf '%s\n%s\n%s\n' "$S" "$owner" "$( ((owner > 0)) && proc_start "$owner" || echo 0)" >"$REGISTRY"
	unlock_registry # before any daemon starts, so none inherits the lock
	mkdir -p "$S/ns" "$S/secrets" "$S/hub"
	chmod 700 "$S/secrets"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$S/created_at"
	printf '%s' "$SAMBA_ROOT" >"$S/samba_root"
	functional_level >"$S/functional_level"
	echo "${BASTION_LAB_LDAP_PLAIN_BIND:-0}" >"$S/plain_bind"
	password priv >"$S/secrets/priv.admin"
	password corp >"$S/secrets/corp.admin"
	write_krb5_conf "$S/krb5.conf" "${REALM[priv]}"
	mount --bind "$S/ns" "$S/ns"
	mount --make-private "$S/ns"
	ensure_mountpoints

	log "up: network"
	make_hub
	local n
	for n in "${ALL_DCS[@]}"; do make_dc_ns "$n"; done
	make_ca
	start_dnsmasq
	fail_point network

	log "up: provision priv-dc1 and corp-dc1 (level $(cat "$S/functional_level"))"
	provision_dc priv-dc1 &
	local p1=$!
	provision_dc corp-dc1 &
	local p2=$!
	wait $p1 || die "provision priv-dc1 failed"
	wait $p2 || die "provision corp-dc1 failed"
	log "up: start priv-dc1 and corp-dc1"
	start_samba priv-dc1 &
	p1=$!
	start_samba corp-dc1 &
	p2=$!
	wait $p1 || die "start priv-dc1 failed"
	wait $p2 || die "start corp-dc1 failed"

	# The trust is created while each forest has one DC: with a second DC winbind may ask the one
	# that has not replicated the trust yet (WERR_NO_TRUST_SAM_ACCOUNT).
	fail_point trust
	log "up: forest trust PRIV <-> CORP"
	create_trust

	join_dc priv-dc2
	fail_point json
	write_lab_json
	trap - EXIT INT TERM HUP PIPE
	log "up: done"
}

create_trust() {
	dc_exec priv-dc1 samba-tool domain trust create "${DNSDOM[corp]}" --type=forest --direction=both \
		--create-location=both -U "${NETBIOS[corp]}\\Administrator" --password="$(admin_pass corp)" \
		--local-dc-username=Administrator --local-dc-password="$(admin_pass priv)" \
		>"$(dcdir priv-dc1)/log/trust-create.log" 2>&1 || {
		cat "$(dcdir priv-dc1)/log/trust-create.log" >&2
		die "trust creation failed"
	}
	touch "$S/trust"
	# Validate from the PRIV side, both directions (the remote half needs CORP's credentials).
	retry 30 dc_exec priv-dc1 samba-tool domain trust validate "${DNSDOM[corp]}" \
		-U "${NETBIOS[corp]}\\Administrator" --password="$(admin_pass corp)" || die "trust validation failed"
}

cmd_down() {
	need_root
	set_state_dir "${1:-}"
	if [[ -d $S && -n $(ls -A "$S") && ! -e $S/$MARKER ]]; then
		die "$S is not a lab state dir; refusing to touch it"
	fi
	trap '' HUP PIPE # finish the teardown even if the reader of our output is gone
	lock_registry
	if other_lab_live "$S"; then
		log "down: the namespaces belong to the lab in $(sed -n 1p "$REGISTRY"); removing only $S"
		teardown_dir "$S"
	else
		teardown "$S"
	fi
	unlock_registry
	log "down: done"
}

cmd_status() {
	set_state_dir "${1:-}"
	[[ -e $S/$MARKER ]] || die "no lab in $S"
	local n rc=0 role state
	printf '%-10s %-15s %-9s %-10s %s\n' DC IP ROLE SAMBA_PID READY
	for n in "${ALL_DCS[@]}"; do
		role=$(cat "$(dcdir "$n")/role" 2>/dev/null || echo absent)
		state=-
		if [[ $role == dc ]]; then
			if dc_ready "$n"; then state=yes; else
				state=no
				rc=1
			fi
		fi
		printf '%-10s %-15s %-9s %-10s %s\n' "$n" "${DC_IP[$n]}" "$role" "$(samba_pid "$n" 2>/dev/null || echo -)" "$state"
	done
	local dpid
	dpid=$(cat "$S/hub/dnsmasq.pid" 2>/dev/null || echo 0)
	if [[ -d /proc/$dpid ]]; then echo "dnsmasq pid $dpid"; else
		echo "dnsmasq not running"
		rc=1
	fi
	return $rc
}

# dc_command STATE_DIR NAME: what a command on one DC of a lab checks first: root,
# a DC of that name, a lab in STATE_DIR (which becomes $S).
dc_command() {
	need_root
	set_state_dir "$1"
	is_dc_name "$2" || die "unknown DC $2"
	[[ -e $S/$MARKER ]] || die "no lab in $S"
}

cmd_join_dc() {
	local name=${2:-}
	dc_command "${1:-}" "$name"
	[[ $(cat "$(dcdir "$name")/role") == prepared ]] || die "$name is not a prepared namespace (role $(cat "$(dcdir "$name")/role"))"
	wipe_dc_data "$name"
	join_dc "$name"
	write_lab_json
	log "join-dc $name: done"
}

cmd_demote_dc() {
	local name=${2:-}
	dc_command "${1:-}" "$name"
	local forest=${DC_FOREST[$name]} partner creds
	[[ $(cat "$(dcdir "$name")/role") == dc ]] || die "$name is not a DC"
	partner=$(running_dcs "$forest" | grep -vx "$name" | head -n1)
	[[ -n $partner ]] || die "demote-dc $name: it is the last DC of ${REALM[$forest]}"
	mapfile -t creds < <(admin_args "$forest")
	if samba_pid "$name" >/dev/null 2>&1; then
		log "demote $name via $partner"
		dc_exec "$name" samba-tool domain demote --server="$(fqdn_of "$partner")" "${creds[@]}" \
			>"$(dcdir "$name")/log/demote.log" 2>&1 || {
			tail -n 30 "$(dcdir "$name")/log/demote.log" >&2
			die "demote of $name failed"
		}
	else
		log "remove dead DC $name from $partner"
		dc_exec "$partner" samba-tool domain demote --remove-other-dead-server="${name^^}" \
			-H "ldap://$(fqdn_of "$partner")" "${creds[@]}" >"$(dcdir "$name")/log/demote.log" 2>&1 || {
			tail -n 30 "$(dcdir "$name")/log/demote.log" >&2
			die "removal of dead $name failed"
		}
	fi
	stop_ns_processes "$(ns_of "$name")"
	wipe_dc_data "$name"
	echo prepared >"$(dcdir "$name")/role"
	# Let the remaining DCs learn the removal now rather than on their schedule.
	local other nc
	for other in $(running_dcs "$forest"); do
		[[ $other == "$partner" ]] && continue
		for nc in domain config; do
			retry 60 drs_sync "$partner" "$other" "$partner" "$(nc_dn "$forest" "$nc")" "${creds[@]}"
		done
	done
	write_lab_json
	log "demote-dc $name: done"
}

cmd_exec() {
	need_root
	set_state_dir "${1:-}"
	local name=${2:-}
	shift 2 || die "usage: exec STATE_DIR NAME -- CMD..."
	[[ ${1:-} == -- ]] && shift
	(($# > 0)) || die "usage: exec STATE_DIR NAME -- CMD..."
	if [[ $name == hub ]]; then
		exec ip netns exec "$HUB_NS" "$@"
	fi
	is_dc_name "$name" || die "unknown DC $name"
	local root=()
	[[ -z $SAMBA_ROOT ]] || root=(chroot "$SAMBA_ROOT")
	exec nsenter --net="/run/netns/$(ns_of "$name")" --mount="$(nsdir)/$name.mnt" --uts="$(nsdir)/$name.uts" -- "${root[@]}" "$@"
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	install) cmd_install "$@" ;;
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	status) cmd_status "$@" ;;
	join-dc) cmd_join_dc "$@" ;;
	demote-dc) cmd_demote_dc "$@" ;;
	exec) cmd_exec "$@" ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

main "$@"
