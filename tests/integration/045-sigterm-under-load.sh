#!/bin/bash
# SIGTERM while a client is in the middle of a large write and another
# is creating files: the server must still flush and exit 0 within the
# stop bound, and start again with everything committed before intact.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
need_tool nfsbench
write_config
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" write /before 501 60 ||
	fail "writing /before"
"$TOOLS/nfsbench" -p "$NFS_PORT" write /big.dat 768 >"$T/w.out" 2>&1 &
writer=$!
"$TOOLS/nfsbench" -p "$NFS_PORT" meta /many 20000 >"$T/m.out" 2>&1 &
meta=$!
sleep 2
start=$SECONDS
stop_all
log "stopped under load in $((SECONDS - start))s"
# The clients see the server go away; they must end by themselves.
wait "$writer" || true
wait "$meta" || true
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" verify /before 501 60 ||
	fail "/before after a SIGTERM under load"
"$TOOLS/nfstree" -p "$NFS_PORT" write /after 502 20 ||
	fail "writing after the restart"
check_alive
stop_all
