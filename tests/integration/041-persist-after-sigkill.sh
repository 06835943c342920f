#!/bin/bash
# Durability of COMMIT: files written and COMMITted one by one, then
# SIGKILL (no chance to flush); started again on the same store, every
# committed byte must be there.  Twice, so recovery is itself recoverable.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
write_config
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" write /k1 201 150 || fail "writing /k1"
kill_all
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" verify /k1 201 150 ||
	fail "committed files /k1 after SIGKILL and restart"
"$TOOLS/nfstree" -p "$NFS_PORT" write /k2 202 80 || fail "writing /k2"
kill_all
start_allinone
"$TOOLS/nfstree" -p "$NFS_PORT" verify /k1 201 150 ||
	fail "/k1 after a second SIGKILL"
"$TOOLS/nfstree" -p "$NFS_PORT" verify /k2 202 80 ||
	fail "committed files /k2 after a second SIGKILL"
check_alive
stop_all
