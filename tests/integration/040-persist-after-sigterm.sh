#!/bin/bash
# Persistence across a clean stop: files written and COMMITted, SIGTERM
# (which must exit 0 promptly), start again on the same store, verify
# every byte; then more files, another stop and start, verify both sets.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
write_config
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" write /p1 101 200 || fail "writing /p1"
stop_all
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" verify /p1 101 200 ||
	fail "/p1 after SIGTERM and restart"
"$TOOLS/nfstree" -p "$NFS_PORT" write /p2 102 100 || fail "writing /p2"
stop_all
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" verify /p1 101 200 ||
	fail "/p1 after a second restart"
"$TOOLS/nfstree" -p "$NFS_PORT" verify /p2 102 100 ||
	fail "/p2 after a second restart"
check_alive
stop_all
