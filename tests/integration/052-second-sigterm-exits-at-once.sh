#!/bin/bash
# A stop waits for the store; when the store (here: a stopped flusher)
# does not answer, a second SIGTERM ends the process at once with exit
# status 1 and says so, instead of leaving an operator with a process
# that ignores signals.
. "$(dirname "$0")/../lib.sh"
write_config
start_split
# A create the metadata service has not stored yet: its stop must flush.
python3 - "$LIB_ROOT/tests/integration" "$NFS_PORT" <<'PY' ||
import sys
sys.path.insert(0, sys.argv[1])
import nfsraw
c = nfsraw.Client(int(sys.argv[2]))
c.create(c.mount_root(), b"pending")
PY
	fail "creating a file"
pid_of() {
	local entry
	for entry in "${LIB_PIDS[@]}"; do
		[ "${entry%%:*}" = "$1" ] && echo "${entry##*:}"
	done
}
flusher=$(pid_of flusher)
meta=$(pid_of metadata)
kill -STOP "$flusher"
kill -TERM "$meta"
sleep 1
kill -0 "$meta" 2>/dev/null ||
	fail "metadata exited though its final flush cannot reach the flusher"
kill -TERM "$meta"
waited=0
while kill -0 "$meta" 2>/dev/null && [ "$waited" -lt 50 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
kill -0 "$meta" 2>/dev/null && fail "a second SIGTERM did not end metadata"
rc=0
wait "$meta" || rc=$?
[ "$rc" -eq 1 ] || fail "metadata exited with $rc after a second SIGTERM"
grep -q "exiting without storing" "$T/metadata.log" ||
	fail "no log line says the stop was cut short"
kill -CONT "$flusher"
kill_service metadata
stop_all
