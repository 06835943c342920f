#!/bin/bash
# symlink + readlink; a hard link has nlink 2 on both names and the same
# inode, and the data survives removing the first name; against zerofs
# run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck symlink hardlink || fail "nfscheck symlink hardlink against zerofs run"
check_alive
stop_all
