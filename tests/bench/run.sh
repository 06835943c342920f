#!/bin/bash
# The benchmark: tests/bench/run.sh BUILD
#
# Starts `zerofs run` on a temporary directory and measures, through
# libnfs, a sequential write of a 1 GiB file with a final COMMIT, a
# sequential read of it, and create + stat + remove of 10,000 empty
# files.  The same workloads then run on the local disk directly (a
# directory beside the store, on the same filesystem) as the peer of this
# run.  Then lsm_bench compares the metadata engine with LevelDB and the
# filesystem layer's create/stat/unlink with the local disk's.  Prints one
# line per workload: zerofs, its peer, and their ratio.  Sizes are fixed;
# nothing is tuned to the result.

set -u
ZEROFS_BUILD=${1:-build}
export ZEROFS_BUILD
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

BENCH_MIB=1024
BENCH_FILES=10000

need_tool nfsbench
write_config
start_allinone
mkdir -p "$T/local"

# Runs one workload on both sides; prints "NAME: zerofs X, local Y,
# ratio Z" from the first number of each nfsbench line.
bench() {
	local name=$1 unit=$2
	shift 2
	local z l
	z=$("$TOOLS/nfsbench" -p "$NFS_PORT" "$@") ||
		fail "nfsbench $* against zerofs failed"
	echo "#   zerofs: $z"
	l=$("$TOOLS/nfsbench" -L "$T/local" "$@") ||
		fail "nfsbench $* on local disk failed"
	echo "#   local:  $l"
	awk -v n="$name" -v u="$unit" -v z="${z#* }" -v l="${l#* }" \
		'BEGIN { z += 0; l += 0;
		printf "%s: zerofs %.1f %s, local %.1f %s, ratio %.3f\n",
		n, z, u, l, u, (l > 0 ? z / l : 0) }'
}

bench "sequential write 1 GiB + COMMIT" MB/s write /bench.dat "$BENCH_MIB"
bench "sequential read 1 GiB" MB/s read /bench.dat "$BENCH_MIB"
bench "create+stat+remove 10000 files" ops/s meta /meta "$BENCH_FILES"
check_alive
stop_all

# The metadata engine against LevelDB, and the namespace rate of the
# filesystem layer against the local disk (tests/bench/lsm_bench.c).  It
# starts no server; its temporary directory lives inside this script's.
# LSM_BENCH_ARGS (e.g. "-n 100000 -f 100000") shortens a trial run.
[ -x "$ZEROFS_BUILD/bench/lsm_bench" ] ||
	fail "$ZEROFS_BUILD/bench/lsm_bench is missing: run make bench"
# shellcheck disable=SC2086
TMPDIR=$T "$ZEROFS_BUILD/bench/lsm_bench" ${LSM_BENCH_ARGS:-} ||
	fail "lsm_bench failed"
