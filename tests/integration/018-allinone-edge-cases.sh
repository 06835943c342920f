#!/bin/bash
# Edge cases against zerofs run: holes read as zeros, overwrites across
# chunk boundaries and past the end, name lengths and odd bytes in names,
# directory renames including the forbidden ones, exclusive create, and
# mtime moving on write and on create.
. "$(dirname "$0")/../lib.sh"
need_tool nfsedge
write_config
start_allinone
"$TOOLS/nfsedge" -p "$NFS_PORT" all || fail "nfsedge all against zerofs run"
check_alive
stop_all
