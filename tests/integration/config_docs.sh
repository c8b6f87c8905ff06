#!/bin/sh
# docs/configuration.md is the whole configuration reference: every key
# that `fbld check-config --keys` says the modules read is listed in a
# table under the heading of its section ("## [imap:NAME]" for imap:*),
# and every key listed there is one the code reads. And
# contrib/fbld.conf.example passes check-config, as shipped and with its
# commented-out settings turned on, and the values it shows as defaults
# are the documented defaults.
. "$TOP/tests/lib/common.sh"
DOC=$TOP/docs/configuration.md
SAMPLE=$TOP/contrib/fbld.conf.example
[ -f "$DOC" ] || fail "$DOC is missing"
[ -f "$SAMPLE" ] || fail "$SAMPLE is missing"
errors=$T/errors
: >"$errors"

# secret FILE: a secret long enough for every key that reads one.
secret() {
	mkdir -p "$(dirname "$1")"
	echo "0123456789abcdef0123456789abcdef" >"$1"
	chmod 600 "$1"
}

# ---- the keys the code reads -------------------------------------------
# One section of each kind, named ones included (a new kind of named
# section must be added here), with what each requires.
secret "$T/s/key"
secret "$T/s/imap"
secret "$T/s/hook"
cat >"$T/all.conf" <<EOC
[key:x]
slot = 1
secret_file = $T/s/key
use = sign
[imap:x]
host = 127.0.0.1
user = u
password_file = $T/s/imap
[webhook:x]
url = http://127.0.0.1:1/
secret_file = $T/s/hook
[sender-domain:x.example]
account = x
[policy]
listen = 127.0.0.1:1
[digest]
smtp_url = smtp://127.0.0.1:1
to = x@x.example
[admin]
EOC
"$FBLD" check-config --keys --state-dir "$T/var" "$T/all.conf" \
	>"$T/keys.out" 2>"$T/keys.err" ||
	fail "check-config refused the test's own file: $(cat "$T/keys.err")"
grep -E '^[a-z][a-z-]*(:\*)? [a-z][a-z0-9_]*$' "$T/keys.out" |
	LC_ALL=C sort -u >"$T/code"
for want in "fbld state_dir" "key:* slot" "imap:* host" "webhook:* url" \
	"sender-domain:* account" "policy listen" "digest smtp_url" \
	"admin listen"; do
	grep -qxF "$want" "$T/code" ||
		fail "check-config --keys did not print \"$want\"; it printed:
$(cat "$T/keys.out")"
done

# ---- the keys the reference lists --------------------------------------
# "SECTION KEY LINE" for every `key` in the first cell of a table row under
# a "## [SECTION]" heading; [NAME:ANYTHING] becomes NAME:*. Rows under
# other headings and inside fenced blocks are ignored.
awk '
	/^```/ { fence = !fence; next }
	fence { next }
	/^## / {
		sec = ""
		if (match($0, /\[[^]]+\]/)) {
			sec = substr($0, RSTART + 1, RLENGTH - 2)
			if (index(sec, ":"))
				sec = substr(sec, 1, index(sec, ":")) "*"
		}
		next
	}
	/^# / { sec = ""; next }
	sec != "" && /^\|/ {
		n = split($0, cell, "|")
		if (n < 3)
			next
		c = cell[2]
		while (match(c, /`[^`]*`/)) {
			k = substr(c, RSTART + 1, RLENGTH - 2)
			c = substr(c, RSTART + RLENGTH)
			if (k ~ /^[a-z][a-z0-9_]*$/)
				print sec, k, NR
		}
	}' "$DOC" >"$T/doc.lines"
[ -s "$T/doc.lines" ] || fail "no keys found in $DOC (no \"## [section]\" tables?)"
awk '{ print $1, $2 }' "$T/doc.lines" | LC_ALL=C sort -u >"$T/doc"

# How the reference names a section: [imap:*] is "## [imap:NAME]".
heading() {
	h=$(grep -E "^## \[${1%:\*}[]:]" "$DOC" | head -n 1 | sed 's/^## //')
	echo "${h:-[$1] (no \"## [$1]\" heading)}"
}

LC_ALL=C comm -23 "$T/code" "$T/doc" | while read -r sec key; do
	echo "missing: $key is read by fbld but not listed under" \
		"$(heading "$sec") in docs/configuration.md" >>"$errors"
done
LC_ALL=C comm -13 "$T/code" "$T/doc" | while read -r sec key; do
	line=$(awk -v s="$sec" -v k="$key" '$1 == s && $2 == k { print $3; exit }' \
		"$T/doc.lines")
	echo "stale: docs/configuration.md:$line: $key under $(heading "$sec")" \
		"is not a key fbld reads" >>"$errors"
done
awk '{ print $1, $2 }' "$T/doc.lines" | LC_ALL=C sort | uniq -d |
	while read -r sec key; do
		lines=$(awk -v s="$sec" -v k="$key" \
			'$1 == s && $2 == k { printf "%s%s", sep, $3; sep = "," }' \
			"$T/doc.lines")
		echo "duplicate: docs/configuration.md:$lines: $key listed" \
			"more than once under $(heading "$sec")" >>"$errors"
	done

# ---- the sample ----------------------------------------------------------
# sample OUT ON: the sample, with the commented-out settings ("#key =",
# "#[section]") turned on when ON is 1, and every *_file pointing at a
# secret under $T/s (created here).
sample() {
	if [ "$2" = 1 ]; then
		sed 's/^#\([a-z[]\)/\1/' "$SAMPLE"
	else
		cat "$SAMPLE"
	fi | sed "s|^\([a-z_]*_file[ ]*=[ ]*\)/|\1$T/s/|" >"$1"
	sed -n 's/^[a-z_]*_file[ ]*=[ ]*//p' "$1" | while read -r f; do
		secret "$f"
	done
}

check_sample() { # file, what
	if ! "$FBLD" check-config --state-dir "$T/var" "$1" >"$T/sample.out" \
		2>&1; then
		echo "sample ($2): check-config failed:" >>"$errors"
		sed 's/^/    /' "$T/sample.out" >>"$errors"
	fi
}

sample "$T/sample.conf" 0
check_sample "$T/sample.conf" "as shipped"
sample "$T/sample-on.conf" 1
cmp -s "$T/sample.conf" "$T/sample-on.conf" &&
	fail "the sample has no commented-out settings (\"#key = value\") to turn on"
check_sample "$T/sample-on.conf" "with its commented-out settings on"
for s in "imap:" "webhook:" "sender-domain:" "digest]"; do
	grep -q "^\[$s" "$T/sample-on.conf" ||
		fail "the sample does not show a [$s section, even commented out"
done

# Values shown as defaults: every active "key = value" of the sample not
# after a comment saying "example" (which holds until the next comment or
# blank line) equals the documented default, backquotes removed.
awk -F'|' '
	/^```/ { fence = !fence; next }
	fence { next }
	/^## / {
		sec = ""
		if (match($0, /\[[^]]+\]/)) {
			sec = substr($0, RSTART + 1, RLENGTH - 2)
			if (index(sec, ":"))
				sec = substr(sec, 1, index(sec, ":")) "*"
		}
		next
	}
	sec != "" && /^\|/ && NF >= 4 {
		k = $2; d = $3
		gsub(/^ +| +$/, "", k); gsub(/^ +| +$/, "", d)
		if (k !~ /^`[a-z][a-z0-9_]*`$/)
			next
		gsub(/`/, "", k); gsub(/`/, "", d)
		print sec "\t" k "\t" d
	}' "$DOC" >"$T/defaults"
awk -F'\t' -v out="$errors" '
	NR == FNR { def[$1 " " $2] = $3; next }
	/^\[/ {
		sec = substr($0, 2, index($0, "]") - 2)
		if (index(sec, ":"))
			sec = substr(sec, 1, index(sec, ":")) "*"
		ex = 0
		next
	}
	/^#/ { ex = ($0 ~ /example/); next }
	/^[ \t]*$/ { ex = 0; next }
	ex { next }
	{
		line = $0
		k = line; sub(/[ \t]*=.*/, "", k)
		v = line; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
		if (!((sec " " k) in def))
			printf "sample: contrib/fbld.conf.example:%d: [%s] %s has no documented default\n", FNR, sec, k >> out
		else if (def[sec " " k] != v)
			printf "sample: contrib/fbld.conf.example:%d: [%s] %s = %s, but the documented default is %s (say \"example\" in a comment above it if it is one)\n", FNR, sec, k, v, def[sec " " k] >> out
	}' "$T/defaults" "$SAMPLE"

if [ -s "$errors" ]; then
	cat "$errors" >&2
	fail "$(grep -c '^[a-z]' "$errors") problem(s) with the configuration reference or the sample"
fi
echo "report: $(wc -l <"$T/code") keys read, all documented; the sample passes check-config"
