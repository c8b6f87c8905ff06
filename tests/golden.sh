#!/bin/sh
# tests/golden.sh regen|check FBLD: golden tests of the parsers through
# `fbld parse`. Every NAME.eml of a tests/data/*/ directory that holds a
# golden.conf is classified with that configuration (keys, token
# settings) and compared with NAME.json beside it (regen rewrites
# NAME.json; check prints a diff and fails on any difference). Directories
# without golden.conf belong to a module's own golden unit test (e.g.
# tests/unit/test_fbl_golden.c, which runs on a fixed clock).
# Samples may carry placeholders, replaced before parsing so
# that tokens are minted with that configuration on the day of the test
# (a token has a date; one written into a file would expire):
#   @@TOKEN ACCOUNT SERIAL [RECIPIENT]@@  the bounce address of the send
#   @@BARE ACCOUNT SERIAL [RECIPIENT]@@   the token alone (ENVID, header)
#   @@FORGED ACCOUNT SERIAL@@             a bounce address whose MAC is off
# The "file" member of the output is the sample's name.
set -eu
mode=${1:?usage: tests/golden.sh regen|check FBLD}
FBLD=${2:?usage: tests/golden.sh regen|check FBLD}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fbld-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# fill SAMPLE CONF OUT: the sample with its placeholders replaced.
fill() {
	python3 - "$1" "$2" "$3" "$FBLD" <<'EOF'
import re, subprocess, sys
src, conf, out, fbld = sys.argv[1:5]
data = open(src, "rb").read()
cache = {}

def mint(m):
    kind, args = m.group(1).decode(), m.group(2).decode().split()
    key = tuple(args)
    if key not in cache:
        cmd = [fbld, "token", "mint", "--account", args[0],
               "--message", args[1]]
        if conf:
            cmd[3:3] = ["--config", conf]
        if len(args) > 2:
            cmd += ["--recipient", args[2]]
        addr = subprocess.run(cmd, check=True, capture_output=True,
                              text=True).stdout.strip()
        cache[key] = addr
    addr = cache[key]
    if kind == "BARE":
        addr = addr.split("@")[0][1:]  # the prefix "b" and the domain cut
    if kind == "FORGED":
        local, domain = addr.split("@")
        last = "b" if local[-1] != "b" else "c"
        addr = local[:-1] + last + "@" + domain
    return addr.encode()

data = re.sub(rb"@@(TOKEN|BARE|FORGED) (.+?)@@", mint, data)
open(out, "wb").write(data)
EOF
}

# show JSONLINE NAME: the line, pretty, with "file" set to NAME.
show() {
	python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
o["file"] = sys.argv[1]
print(json.dumps(o, indent=1, sort_keys=True, ensure_ascii=False))
' "$1"
}

status=0 n=0
for eml in tests/data/*/*.eml; do
	[ -f "$eml" ] || continue
	dir=$(dirname "$eml")
	name=$(basename "$eml" .eml)
	[ -f "$dir/golden.conf" ] || continue
	conf="$dir/golden.conf"
	fill "$eml" "$conf" "$tmp/in.eml"
	if [ -n "$conf" ]; then
		"$FBLD" parse --config "$conf" - <"$tmp/in.eml" >"$tmp/line"
	else
		"$FBLD" parse - <"$tmp/in.eml" >"$tmp/line"
	fi
	show "$name.eml" <"$tmp/line" >"$tmp/out.json"
	n=$((n + 1))
	case $mode in
	regen)
		cp "$tmp/out.json" "$dir/$name.json"
		;;
	check)
		if ! diff -u "$dir/$name.json" "$tmp/out.json"; then
			echo "golden: $eml differs from $name.json"
			status=1
		fi
		;;
	*)
		echo "usage: tests/golden.sh regen|check FBLD" >&2
		exit 2
		;;
	esac
done
echo "golden: $mode $n samples"
exit $status
