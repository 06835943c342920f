#!/bin/bash
# chmod (including setuid), chown and utimes are visible in GETATTR;
# mkdir keeps its mode; against zerofs run.
. "$(dirname "$0")/../lib.sh"
need_tool nfscheck
write_config
start_allinone
nfscheck attrs || fail "nfscheck attrs against zerofs run"
check_alive
stop_all
