#!/bin/bash
# Config errors: `zerofs run -c` on a file with an unknown key, an unset
# ${VAR}, or a bad number exits non-zero at once with a message naming
# the file, the line and the key (and the variable).  A set ${VAR} is
# substituted and the server runs.
. "$(dirname "$0")/../lib.sh"
need_bin zerofs
write_config

# Runs zerofs on $1; expects a prompt non-zero exit whose stderr names
# each of the remaining arguments.
expect_rejected() {
	local file=$1 rc=0 word
	shift
	timeout -k 2 15 "$BIN/zerofs" run -c "$file" >"$T/out.txt" \
		2>"$T/err.txt" || rc=$?
	[ "$rc" -ne 0 ] || fail "$(basename "$file") was accepted"
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] ||
		fail "$(basename "$file"): zerofs kept running"
	for word in "$@"; do
		grep -qF -- "$word" "$T/err.txt" ||
			fail "$(basename "$file"): message does not name" \
				"\"$word\": $(cat "$T/err.txt")"
	done
	log "$(basename "$file"): $(head -n 1 "$T/err.txt")"
}

# The line number of the first line of $1 that matches $2.
line_of() {
	grep -n -m1 -- "$2" "$1" | cut -d: -f1
}

sed 's/^  chunk_size_kb: 256/  chunk_size_kb: 256\n  chunk_colour: blue/' \
	"$CONFIG" >"$T/unknown.yaml"
expect_rejected "$T/unknown.yaml" "$T/unknown.yaml" \
	":$(line_of "$T/unknown.yaml" chunk_colour)" chunk_colour

unset ZEROFS_TEST_NOT_SET
sed 's|^  url: file://.*|  url: file://${ZEROFS_TEST_NOT_SET}/store|' \
	"$CONFIG" >"$T/unset.yaml"
expect_rejected "$T/unset.yaml" "$T/unset.yaml" \
	":$(line_of "$T/unset.yaml" ZEROFS_TEST_NOT_SET)" url \
	ZEROFS_TEST_NOT_SET

sed 's/^  chunk_size_kb: 256/  chunk_size_kb: 25x6/' "$CONFIG" \
	>"$T/badnum.yaml"
expect_rejected "$T/badnum.yaml" "$T/badnum.yaml" \
	":$(line_of "$T/badnum.yaml" 25x6)" chunk_size_kb

sed 's/^  max_size_gb: 100/  max_size_gb: -5/' "$CONFIG" >"$T/neg.yaml"
expect_rejected "$T/neg.yaml" "$T/neg.yaml" \
	":$(line_of "$T/neg.yaml" max_size_gb)" max_size_gb

expect_rejected "$T/missing.yaml" "$T/missing.yaml"

# A set variable is substituted: the store lands where it points.
mkdir -p "$T/varstore"
sed 's|^  url: file://.*|  url: file://${ZEROFS_TEST_STORE}|' \
	"$CONFIG" >"$T/var.yaml"
ZEROFS_TEST_STORE=$T/varstore
export ZEROFS_TEST_STORE
CONFIG=$T/var.yaml
start_allinone
check_alive
stop_all
[ -n "$(ls -A "$T/varstore")" ] ||
	fail "nothing was written to the store named by \${ZEROFS_TEST_STORE}"
