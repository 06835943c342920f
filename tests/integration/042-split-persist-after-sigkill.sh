#!/bin/bash
# Durability of COMMIT with one process per service: files written and
# COMMITted, every process SIGKILLed, all started again, every committed
# byte verified.
. "$(dirname "$0")/../lib.sh"
need_tool nfstree
write_config
start_split
"$TOOLS/nfstree" -p "$NFS_PORT" write /s1 301 120 || fail "writing /s1"
kill_all
start_split
"$TOOLS/nfstree" -p "$NFS_PORT" verify /s1 301 120 ||
	fail "committed files /s1 after SIGKILL of every service"
check_alive
stop_all
