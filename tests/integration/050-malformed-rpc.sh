#!/bin/bash
# Malformed input on the NFS port: garbage, a truncated record, a record
# mark claiming 2 GiB, fragments over the record limit, a REPLY sent to
# the server, a bad program, rpc version, program version, procedure,
# credential flavor and undecodable arguments, many half-sent
# connections, and 2000 seeded random calls.  Each must get the right
# RPC error or a closed connection; after each, a second client still
# mounts and reads a file, and the server process is alive at the end.
. "$(dirname "$0")/../lib.sh"
command -v nfs-cat >/dev/null || skip "nfs-cat (libnfs-utils) not installed"
need_tool nfscheck
write_config
start_allinone

POKE=$LIB_ROOT/tests/integration/rpcpoke.py
head -c 100000 /dev/urandom >"$T/probe.bin"
nfs-cp "$T/probe.bin" "$(nfs_url /probe.bin)" || fail "writing the probe file"

# A fresh client mounts and reads the probe file in full.
probe() {
	nfs-cat "$(nfs_url /probe.bin)" >"$T/probe.out" 2>"$T/probe.err" ||
		fail "after $1: a second client could not read:" \
			"$(cat "$T/probe.err")"
	cmp -s "$T/probe.bin" "$T/probe.out" ||
		fail "after $1: the probe file reads back different"
}

bad=0
for c in garbage garbage-record not-a-call truncated huge-record \
	fragments-over-limit bad-program bad-rpc-version \
	bad-program-version bad-procedure garbage-args bad-auth \
	many-connections random-calls; do
	python3 "$POKE" "$NFS_PORT" "$c" || bad=$((bad + 1))
	check_alive
	probe "$c"
done
[ "$bad" -eq 0 ] || fail "$bad malformed-input cases were mishandled"
check_alive
stop_all
