#!/bin/bash
# mkdir -p of a 5-deep tree, a file at its bottom, EEXIST on a repeated
# mkdir; against zerofs run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck tree || fail "nfscheck tree against zerofs run"
check_alive
stop_all
