#!/bin/bash
# After a crash the store holds a prefix of the mutations: files are
# created one after another with no COMMIT while the periodic flush runs
# every second; the server is SIGKILLed in the middle; after a restart the
# names that exist are exactly the first k created, with no gap, and k is
# not zero (the periodic flush did make something durable).
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
sed -i 's/^  flush_interval_secs: .*/  flush_interval_secs: 1/' "$CONFIG"
start_allinone
nfscheck -n 99999 -d /p bigdir >"$T/create.out" 2>&1 &
creator=$!
sleep 5
kill_all
wait "$creator" || true
start_allinone
nfs-ls "$(nfs_url /p/big)" >"$T/ls.txt" 2>"$T/ls.err" ||
	fail "listing /p/big after the crash: $(cat "$T/ls.err")"
awk '{print $NF}' "$T/ls.txt" | grep '^f[0-9]*$' | sort >"$T/names.txt"
k=$(wc -l <"$T/names.txt")
[ "$k" -gt 0 ] || fail "nothing survived 5 s of creates with a 1 s flush"
seq -f 'f%05g' 0 $((k - 1)) >"$T/want.txt"
diff "$T/want.txt" "$T/names.txt" >"$T/diff.txt" ||
	fail "the $k surviving names are not f00000..f$((k - 1)):" \
		"$(head -n 10 "$T/diff.txt")"
log "the first $k creates survived, with no gap"
check_alive
stop_all
