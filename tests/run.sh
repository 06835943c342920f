#!/bin/bash
# The test runner: tests/run.sh BUILD [unit|integration]  (default: both).
#
# unit: runs every executable under BUILD/test/; each prints "ok"/"FAIL"
# lines and exits non-zero when a case failed.  integration: runs
# tests/integration/NNN-name.sh in order with ZEROFS_BUILD=BUILD, each
# under a timeout; exit 0 passes, 77 is "skipped" (the script prints the
# reason), anything else fails and the script's output is shown.  One
# line per test, then exactly one summary line "N passed, N failed" with
# ", N skipped" when something was skipped.  Exits 1 if anything failed.
# ONLY="GLOB" runs just the integration scripts whose name matches GLOB
# (e.g. ONLY='01[0-5]-*' for the sanitizer pass of CI).

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
WHAT=${2:-all}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
# Seconds one integration script may run; the whole suite stays well
# under 15 minutes on 2 cores.
TEST_TIMEOUT=${TEST_TIMEOUT:-240}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}

npass=0
nfail=0
nskip=0
failed=()
OUT=$(mktemp /tmp/zerofs-run.XXXXXX)
trap 'rm -f "$OUT"' EXIT

# Prints the captured output of a failed test, indented: first the lines
# that say what failed (unit-test FAIL lines and their check messages,
# FAIL: lines of scripts), then the last lines, where a crash shows.
show_output() {
	grep -E '^FAIL|^  [^ ].*:[0-9]+: |^FAIL: ' "$OUT" | head -n 40 |
		sed 's/^/    /'
	echo "    ---- last lines ----"
	tail -n 60 "$OUT" | sed 's/^/    /'
}

run_unit() {
	local t name rc start
	if [ ! -d "$BUILD/test" ]; then
		echo "no unit tests under $BUILD/test"
		return
	fi
	while IFS= read -r t; do
		name=unit/${t#"$BUILD/test/"}
		start=$SECONDS
		rc=0
		(cd "$ROOT" && timeout -k 5 "$UNIT_TIMEOUT" "$t") \
			>"$OUT" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ] && ! grep -q '^FAIL' "$OUT"; then
			echo "ok   $name ($((SECONDS - start))s)" \
				"$(tail -n 1 "$OUT")"
			npass=$((npass + 1))
		else
			echo "FAIL $name (exit $rc, $((SECONDS - start))s)"
			show_output
			nfail=$((nfail + 1))
			failed+=("$name")
		fi
	done < <(find "$BUILD/test" -type f -perm -u+x | sort)
}

run_integration() {
	local t name rc start
	for t in "$ROOT"/tests/integration/[0-9][0-9][0-9]-*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		# shellcheck disable=SC2053
		[ -z "${ONLY:-}" ] || [[ $name == $ONLY ]] || continue
		start=$SECONDS
		rc=0
		(cd "$ROOT" && ZEROFS_BUILD=$BUILD timeout -k 10 \
			"$TEST_TIMEOUT" bash "$t") >"$OUT" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "ok   $name ($((SECONDS - start))s)"
			npass=$((npass + 1))
		elif [ "$rc" -eq 77 ]; then
			echo "skip $name: $(grep -m1 '^SKIP:' "$OUT" |
				sed 's/^SKIP: //')"
			nskip=$((nskip + 1))
		else
			if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
				echo "FAIL $name (timed out after" \
					"${TEST_TIMEOUT}s)"
			else
				echo "FAIL $name (exit $rc," \
					"$((SECONDS - start))s)"
			fi
			show_output
			nfail=$((nfail + 1))
			failed+=("$name")
		fi
	done
}

case $WHAT in
unit) run_unit ;;
integration) run_integration ;;
all)
	run_unit
	run_integration
	;;
*)
	echo "usage: tests/run.sh BUILD [unit|integration]" >&2
	exit 2
	;;
esac

summary="$npass passed, $nfail failed"
if [ "$nskip" -gt 0 ]; then
	summary="$summary, $nskip skipped"
fi
echo "$summary"
[ "$nfail" -eq 0 ]
