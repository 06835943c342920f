#!/bin/bash
# Files of 0 B, 1 B, 4095 B, 1 MiB + 1 B and 64 MiB, written with seeded
# content and COMMITted, read back through a second client, compared by
# SHA-256; against zerofs run (all services in one process).
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck sizes || fail "nfscheck sizes against zerofs run"
check_alive
stop_all
