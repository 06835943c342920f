#!/bin/bash
# `zerofs init -` prints a config that runs as written once its addresses
# are moved to fresh ports: the server starts, serves NFS on the port the
# config names, and stops cleanly.  `zerofs init PATH` writes the same
# kind of file and refuses to overwrite it.
. "$(dirname "$0")/../lib.sh"
need_bin zerofs
need_tool nfscheck
mkdir -p "$T/cwd"
(cd "$T/cwd" && "$BIN/zerofs" init -) >"$T/init.yaml" 2>"$T/init.err" ||
	fail "zerofs init - failed: $(cat "$T/init.err")"
grep -q '2049' "$T/init.yaml" ||
	fail "the template does not put NFS on port 2049"

# Every host:port becomes 127.0.0.1 on a fresh port; the same old port
# always maps to the same new one.  NFS_PORT is what 2049 became.
declare -A map
for old in $(grep -oE '[0-9a-z.]+:[0-9]+' "$T/init.yaml" |
	sed 's/.*://' | sort -u); do
	lib_free_port
	map[$old]=$FREE_PORT
done
cp "$T/init.yaml" "$CONFIG"
for old in "${!map[@]}"; do
	host='(127\.0\.0\.1|localhost|0\.0\.0\.0)'
	sed -i -E "s#$host:$old\b#127.0.0.1:${map[$old]}#g" "$CONFIG"
done
NFS_PORT=${map[2049]:-}
log "changed lines: $(diff "$T/init.yaml" "$CONFIG" | grep -c '^>')"

[ -n "${map[2049]:-}" ] || fail "no 127.0.0.1:2049 address to move"
cd "$T/cwd" || fail "cd $T/cwd"
start_allinone
nfscheck tree >/dev/null || fail "nfscheck tree against the init config"
check_alive
stop_all
[ -d "$T/cwd/zerofs-data" ] ||
	fail "the data did not go to zerofs-data beside the working directory"

(cd "$T/cwd" && "$BIN/zerofs" init "$T/cwd/z.yaml") >/dev/null 2>&1 ||
	fail "zerofs init PATH failed"
[ -s "$T/cwd/z.yaml" ] || fail "zerofs init PATH wrote nothing"
if (cd "$T/cwd" && "$BIN/zerofs" init "$T/cwd/z.yaml") >/dev/null 2>&1; then
	fail "zerofs init overwrote an existing file"
fi
