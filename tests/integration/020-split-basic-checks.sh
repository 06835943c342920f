#!/bin/bash
# Every basic check of nfscheck against the four services run as separate
# processes talking over tcp:// on loopback.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_split
nfscheck all || fail "nfscheck all against the split services"
check_alive
stop_all
