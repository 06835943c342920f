#!/bin/bash
# A directory of 10,000 files listed completely three ways (libnfs
# opendir, raw READDIR and raw READDIRPLUS in small pages): every name
# exactly once; against zerofs run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck bigdir || fail "nfscheck bigdir against zerofs run"
check_alive
stop_all
