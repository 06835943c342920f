#!/bin/bash
# Four clients at once, each writing and committing its own set of files
# while another lists and stats: afterwards every byte of every set is
# right, through both the all-in-one server and a restart.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
need_tool nfscheck
write_config
start_allinone
pids=()
for i in 1 2 3 4; do
	"$TOOLS/nfstree" -p "$NFS_PORT" write "/c$i" "$((400 + i))" 60 \
		>"$T/client$i.out" 2>&1 &
	pids+=("$!")
done
# Meanwhile, a fifth client works on directories of its own.
nfscheck -n 2000 -d /side bigdir rename >"$T/side.out" 2>&1 &
pids+=("$!")
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] ||
	fail "$bad concurrent clients failed: $(cat "$T"/client*.out \
		"$T/side.out")"
for i in 1 2 3 4; do
	"$TOOLS/nfstree" -p "$NFS_PORT" verify "/c$i" "$((400 + i))" 60 ||
		fail "set /c$i written concurrently"
done
stop_all
start_allinone
for i in 1 2 3 4; do
	"$TOOLS/nfstree" -p "$NFS_PORT" verify "/c$i" "$((400 + i))" 60 ||
		fail "set /c$i after a restart"
done
check_alive
stop_all
