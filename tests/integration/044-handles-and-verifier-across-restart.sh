#!/bin/bash
# File handles outlive a restart and the write verifier changes with it
# (RFC 1813 WRITE/COMMIT), after SIGKILL and after SIGTERM, so a client
# knows to resend uncommitted writes and can keep using its handles.
. "$(dirname "$0")/../lib.sh"
need_bin zerofs
RAW=$LIB_ROOT/tests/integration/nfsraw.py
write_config
start_allinone
python3 "$RAW" "$NFS_PORT" before "$T/state1" || fail "before SIGKILL"
kill_all
start_allinone
python3 "$RAW" "$NFS_PORT" after "$T/state1" || fail "after SIGKILL"
python3 "$RAW" "$NFS_PORT" before "$T/state2" ||
	fail "a second file before SIGTERM"
stop_all
start_allinone
python3 "$RAW" "$NFS_PORT" after "$T/state2" || fail "after SIGTERM"
check_alive
stop_all
