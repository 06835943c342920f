#!/bin/bash
# Truncate up (the new range reads zeros), down, and up again (cut data
# does not come back), across chunk boundaries; against zerofs run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck truncate || fail "nfscheck truncate against zerofs run"
check_alive
stop_all
