#!/bin/bash
# Rename within and across directories and over an existing file; unlink;
# rmdir of a non-empty directory fails with ENOTEMPTY; against zerofs run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck rename remove || fail "nfscheck rename remove against zerofs run"
check_alive
stop_all
