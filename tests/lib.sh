# Shared helpers for the integration tests and the benchmark, sourced by
# each script.  A script gets its own temporary directory (removed when it
# exits), free loopback ports, a config that points every service and
# every data directory into that temporary directory, and functions to
# start the product all in one process or one process per service.  Every
# process started here is recorded by PID, and the EXIT trap stops exactly
# those PIDs and nothing else.  When a script fails, the logs of the
# processes it started are printed so the failure can be understood from
# the runner's output alone.

set -u

LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZEROFS_BUILD=${ZEROFS_BUILD:-build}
case $ZEROFS_BUILD in
/*) ;;
*) ZEROFS_BUILD=$LIB_ROOT/$ZEROFS_BUILD ;;
esac
BIN=$ZEROFS_BUILD/bin
TOOLS=$ZEROFS_BUILD/tools

# In sanitizer builds (make SAN=1) the test clients link libnfs, which
# keeps a few small allocations until exit; only those leaks are ignored.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$LIB_ROOT/tests/integration/lsan-libnfs.supp:print_suppressions=0}

T=$(mktemp -d /tmp/zerofs-test.XXXXXX)
CONFIG=$T/zerofs.yaml
LIB_PIDS=()   # every process started, as "name:pid"
LIB_PORTS=" " # ports handed out in this test, never handed out twice

# Seconds to wait for a port to open and for a process to exit on SIGTERM.
LIB_START_SECS=${LIB_START_SECS:-20}
LIB_STOP_SECS=${LIB_STOP_SECS:-30}

log() {
	echo "# $*"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# Prints the log of every process the test started.
lib_dump_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 60 lines) ----" >&2
		tail -n 60 "$f" >&2
	done
}

lib_exit() {
	local rc=$?
	trap - EXIT
	kill_all >/dev/null 2>&1
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		lib_dump_logs
	fi
	rm -rf "$T"
	exit "$rc"
}
trap lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_tool() {
	[ -x "$TOOLS/$1" ] || skip "$TOOLS/$1 is not built"
}

need_bin() {
	[ -x "$BIN/$1" ] || skip "$BIN/$1 is not built"
}

# Sets FREE_PORT to a TCP port on 127.0.0.1 that nothing listens on now:
# a random port in 20000-60000 that a test bind succeeded on, not yet
# handed out by this test.  Gives up after 50 tries.
lib_free_port() {
	local i port
	for i in $(seq 1 50); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		case $LIB_PORTS in *" $port "*) continue ;; esac
		if python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()' "$port" 2>/dev/null; then
			LIB_PORTS="$LIB_PORTS$port "
			FREE_PORT=$port
			return 0
		fi
	done
	fail "no free port found in 50 tries"
}

# Prints a free port (see lib_free_port).
free_port() {
	lib_free_port
	echo "$FREE_PORT"
}

# Writes $CONFIG (or $1) with fresh ports and every directory under $T.
# Sets NFS_PORT, META_PORT, CHUNK_PORT and FLUSH_PORT.
write_config() {
	local file=${1:-$CONFIG}
	lib_free_port
	NFS_PORT=$FREE_PORT
	lib_free_port
	META_PORT=$FREE_PORT
	lib_free_port
	CHUNK_PORT=$FREE_PORT
	lib_free_port
	FLUSH_PORT=$FREE_PORT
	mkdir -p "$T/cache" "$T/store"
	cat >"$file" <<EOF
cache:
  dir: $T/cache
  disk_size_gb: 1
  memory_size_gb: 0.25
storage:
  url: file://$T/store
filesystem:
  max_size_gb: 100
  chunk_size_kb: 256
servers:
  nfs:
    addresses: ["127.0.0.1:$NFS_PORT"]
lsm:
  flush_interval_secs: 30
  checkpoint_every: 64
services:
  metadata: tcp://127.0.0.1:$META_PORT
  chunk: tcp://127.0.0.1:$CHUNK_PORT
  flusher: tcp://127.0.0.1:$FLUSH_PORT
log:
  level: info
EOF
}

# Waits until something accepts connections on 127.0.0.1:$1, at most
# $2 seconds (default LIB_START_SECS).  Fails early if process $3 died.
wait_port() {
	local port=$1 secs=${2:-$LIB_START_SECS} pid=${3:-}
	local i
	for i in $(seq 1 $((secs * 10))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			fail "process $pid exited before port $port opened"
		fi
		sleep 0.1
	done
	fail "nothing listens on 127.0.0.1:$port after ${secs}s"
}

# Starts "$@" in the background with stderr and stdout to $T/NAME.log and
# records its PID.  Sets LAST_PID.
lib_spawn() {
	local name=$1
	shift
	"$@" >>"$T/$name.log" 2>&1 &
	LAST_PID=$!
	LIB_PIDS+=("$name:$LAST_PID")
}

# All services in one process.  Sets ZEROFS_PID.
start_allinone() {
	need_bin zerofs
	[ -f "$CONFIG" ] || write_config
	lib_spawn zerofs "$BIN/zerofs" run -c "$CONFIG"
	ZEROFS_PID=$LAST_PID
	wait_port "$NFS_PORT" "$LIB_START_SECS" "$ZEROFS_PID"
}

# The port service $1 listens on, from the config written above.
lib_service_port() {
	case $1 in
	flusher) echo "$FLUSH_PORT" ;;
	metadata) echo "$META_PORT" ;;
	chunk) echo "$CHUNK_PORT" ;;
	nfs) echo "$NFS_PORT" ;;
	*) fail "unknown service $1" ;;
	esac
}

# Starts service $1 as its own process and waits for its port.
start_service() {
	need_bin "zerofs-$1"
	lib_spawn "$1" "$BIN/zerofs-$1" -c "$CONFIG"
	wait_port "$(lib_service_port "$1")" "$LIB_START_SECS" "$LAST_PID"
}

# SIGKILLs the recorded process of service $1 and forgets it.
kill_service() {
	local i entry kept=()
	for entry in "${LIB_PIDS[@]}"; do
		if [ "${entry%%:*}" = "$1" ]; then
			kill -KILL "${entry##*:}" 2>/dev/null || true
			wait "${entry##*:}" 2>/dev/null || true
		else
			kept+=("$entry")
		fi
	done
	LIB_PIDS=("${kept[@]}")
}

# One process per service over tcp://, started in dependency order, each
# waited for before the next starts.
start_split() {
	local svc
	for svc in flusher metadata chunk nfs; do
		need_bin "zerofs-$svc"
	done
	[ -f "$CONFIG" ] || write_config
	for svc in flusher metadata chunk nfs; do
		start_service "$svc"
	done
}

# Sends SIGTERM to every recorded process, newest first (the NFS gateway
# before the services it calls), waits for each at most LIB_STOP_SECS,
# then SIGKILLs it.  Fails if a process had to be killed or exited
# non-zero, unless $1 is "quiet".
stop_all() {
	local mode=${1:-} bad=0 i entry pid name rc waited
	for ((i = ${#LIB_PIDS[@]} - 1; i >= 0; i--)); do
		entry=${LIB_PIDS[$i]}
		name=${entry%%:*}
		pid=${entry##*:}
		kill -TERM "$pid" 2>/dev/null || true
		waited=0
		while kill -0 "$pid" 2>/dev/null &&
			[ "$waited" -lt $((LIB_STOP_SECS * 10)) ]; do
			sleep 0.1
			waited=$((waited + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			echo "$name (pid $pid) ignored SIGTERM for" \
				"${LIB_STOP_SECS}s; killed" >&2
			bad=1
		fi
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "$name (pid $pid) exited with status $rc" >&2
			bad=1
		fi
	done
	LIB_PIDS=()
	if [ "$bad" -ne 0 ] && [ "$mode" != quiet ]; then
		fail "a process did not stop cleanly on SIGTERM"
	fi
	return 0
}

# SIGKILL to every recorded process, by PID.
kill_all() {
	local entry pid
	for entry in "${LIB_PIDS[@]}"; do
		pid=${entry##*:}
		kill -KILL "$pid" 2>/dev/null || true
	done
	for entry in "${LIB_PIDS[@]}"; do
		wait "${entry##*:}" 2>/dev/null || true
	done
	LIB_PIDS=()
}

# Fails unless every recorded process is still running.
check_alive() {
	local entry
	for entry in "${LIB_PIDS[@]}"; do
		kill -0 "${entry##*:}" 2>/dev/null ||
			fail "${entry%%:*} (pid ${entry##*:}) is no longer" \
				"running"
	done
}

# The URL libnfs tools take for path $1 ("/" by default).  The tools
# mount everything before the last "/" of a file URL, so a file at the
# top ("/f") would mean mounting "", which libnfs refuses on its own side
# ("Export is empty"); "//f" makes it mount "/" instead.
nfs_url() {
	local path=${1:-/}
	case $path in
	/*/* | /) ;;
	/*) path=/$path ;;
	esac
	echo "nfs://127.0.0.1$path?nfsport=$NFS_PORT&mountport=$NFS_PORT$(
	)&version=3"
}

# Runs the nfscheck tool against the running server, mounting $MOUNT
# (default "/").
nfscheck() {
	"$TOOLS/nfscheck" -p "$NFS_PORT" -m "${MOUNT:-/}" "$@"
}
