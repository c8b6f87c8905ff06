#!/bin/sh
# deps.sh LIST...: install the Debian packages named in the LIST files.
# Idempotent: when everything is present it only asks dpkg and exits.
# As root it installs what is missing; otherwise it prints the exact
# apt-get line and fails, so `make` stops with something to copy.
set -eu

missing=""
for list in "$@"; do
	for pkg in $(grep -v '^#' "$list"); do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		case "$st" in
		ii*) ;;
		*) missing="$missing $pkg" ;;
		esac
	done
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages; as root run:" >&2
	echo "  $line" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix asks how it should run: "Local only" binds loopback and sends
# nothing off the host. The tests start their own instance anyway.
echo 'postfix postfix/main_mailer_type select Local only' | debconf-set-selections
echo 'postfix postfix/mailname string mx.test.invalid' | debconf-set-selections
echo "deps: installing:$missing" >&2
# Only refresh the index when it is missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -q
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
