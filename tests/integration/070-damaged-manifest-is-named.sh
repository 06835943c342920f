#!/bin/bash
# A damaged newest manifest stops the metadata tree from opening, and the
# error names that object, so an operator knows which one to look at:
# the store is filled with a 1 MiB memtable (many flushes, many
# manifests), stopped cleanly, then the newest manifest is truncated in
# one copy of the store and has one byte flipped in another.  Each start
# must exit non-zero without serving, and its log must name
# meta/manifest/<20 digits> of the damaged object, not only the
# directory.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
sed -i 's/^  checkpoint_every: .*/  memtable_size_mb: 1/' "$CONFIG"
start_allinone
nfscheck -n 6000 -d /p bigdir >"$T/fill.out" 2>&1 ||
	fail "filling the store: $(cat "$T/fill.out")"
stop_all
cp -a "$T/store" "$T/clean"
nman=$(ls "$T/store/meta/manifest" | wc -l)
[ "$nman" -ge 3 ] || fail "only $nman manifests after 6000 creates"

# Starts the product on a damaged copy; it must exit, not serve.
# $1: what was done, for the messages; $2: the damaged object's name.
expect_refusal() {
	local what=$1 name=$2 i rc
	: >"$T/zerofs.log"
	lib_spawn zerofs "$BIN/zerofs" run -c "$CONFIG"
	for i in $(seq 1 100); do
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$LAST_PID" 2>/dev/null; then
		fail "$what: still running after 10 s on a damaged manifest"
	fi
	rc=0
	wait "$LAST_PID" || rc=$?
	LIB_PIDS=()
	[ "$rc" -ne 0 ] || fail "$what: exited 0"
	grep -q "$name" "$T/zerofs.log" ||
		fail "$what: the log does not name $name:" \
			"$(grep -E 'error' "$T/zerofs.log" | head -n 3)"
	log "$what: refused, naming $name"
}

newest=$(ls "$T/store/meta/manifest" | tail -n 1)
name=meta/manifest/$newest
truncate -s 100 "$T/store/meta/manifest/$newest"
expect_refusal "truncated newest manifest" "$name"

rm -rf "$T/store"
cp -a "$T/clean" "$T/store"
printf '\377' | dd of="$T/store/meta/manifest/$newest" bs=1 seek=40 \
	conv=notrunc 2>/dev/null
expect_refusal "flipped byte in the newest manifest" "$name"

# The clean copy still opens and serves every entry.
rm -rf "$T/store"
cp -a "$T/clean" "$T/store"
start_allinone
nfs-ls "$(nfs_url /p/big)" >"$T/ls.txt" 2>"$T/ls.err" ||
	fail "listing the clean copy: $(cat "$T/ls.err")"
n=$(grep -c ' f[0-9]*$' "$T/ls.txt")
[ "$n" -eq 6000 ] || fail "the clean copy lists $n of 6000 entries"
check_alive
stop_all
