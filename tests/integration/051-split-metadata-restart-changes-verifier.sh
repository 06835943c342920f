#!/bin/bash
# One process per service: unstable writes are committed in the metadata
# service's memory, not yet in its log, when it is SIGKILLed and started
# again.  Their extents are gone, so COMMIT must answer a different write
# verifier (the client then resends); the resent writes COMMIT with a
# matching verifier and survive a SIGKILL of everything.
. "$(dirname "$0")/../lib.sh"
need_bin zerofs-metadata
PY=$LIB_ROOT/tests/integration/nfsresend.py
write_config
start_split
python3 "$PY" "$NFS_PORT" write "$T/state" || fail "unstable writes"
kill_service metadata
start_service metadata
python3 "$PY" "$NFS_PORT" commit "$T/state" || fail "commit after restart"
kill_all
start_split
python3 "$PY" "$NFS_PORT" verify "$T/state" || fail "verify after SIGKILL"
check_alive
stop_all
