#!/bin/bash
# One process per service: unstable writes sit in the flusher's open
# segment when it is SIGKILLed and started again.  Those frames are gone,
# so COMMIT must answer a different write verifier (the client then
# resends); the resent writes COMMIT with a matching verifier and survive
# a SIGKILL of everything.
. "$(dirname "$0")/../lib.sh"
need_bin zerofs-flusher
PY=$LIB_ROOT/tests/integration/nfsresend.py
write_config
start_split
python3 "$PY" "$NFS_PORT" write "$T/state" || fail "unstable writes"
kill_service flusher
start_service flusher
python3 "$PY" "$NFS_PORT" commit "$T/state" || fail "commit after restart"
kill_all
start_split
python3 "$PY" "$NFS_PORT" verify "$T/state" || fail "verify after SIGKILL"
check_alive
stop_all
