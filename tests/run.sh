#!/bin/sh
# run.sh BUILD_DIR: every test, ending with one line "N passed, N failed".
#
# Unit tests are cmocka programs (their own summaries are counted here);
# end-to-end tests boot the real guest under the launcher (tests/e2e).
# Tests that cannot run here are skipped with their reason and counted
# (tests/e2e/run.py says when that is a failure under CI=true).
set -u
build=${1:-build}
passed=0
failed=0
skipped=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	echo "$out" | grep -E '^\[ +(FAILED|PASSED) +\]|^\[  ERROR' || true
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then
		echo "$out" | tail -20
		echo "$t: exited $rc"
		failed=$((failed + 1))
	fi
	echo "  $(basename "$t"): ${p:-0} passed, ${f:-0} failed"
done

# The trace drawing tool (tools/lguest-trace.py, installed as BUILD/lguest-trace).
out=$(python3 tests/tools/test_lguest_trace.py "$build/lguest-trace" 2>&1)
echo "$out" | grep -v '^ok ' || true
p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
if [ -z "$p" ]; then
	f=1
fi
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))

# The libFuzzer harnesses (tests/fuzz/): each for a few seconds from its
# seed corpus, so none of them rots.  They carry their own ASan and UBSan,
# so the sanitizer build (make check-asan) does not build them twice.
if ls "$build"/fuzz/fuzz_* >/dev/null 2>&1; then
	out=$(tests/fuzz/run.sh "$build" "${LGUEST_FUZZ_SECONDS:-3}" 2>&1)
	echo "$out" | grep -v '^[0-9]* passed'
	p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
	[ -z "$p" ] && f=1
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
else
	n=$(ls tests/fuzz/fuzz_*.c 2>/dev/null | wc -l)
	echo "skip fuzz: $n harnesses, not built in $build (make check builds and runs them in build/)"
	skipped=$((skipped + n))
fi

# The ring code under ThreadSanitizer against a guest that keeps changing
# its ring (tests/race/): a few seconds per layout.  Not in the sanitizer
# build either: TSan and ASan cannot share a process.
if [ -x "$build/race/ring_race" ]; then
	out=$("$build/race/ring_race" "${LGUEST_RACE_SECONDS:-3}" 2>&1)
	rc=$?
	echo "$out" | grep -v '^[0-9]* passed'
	p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "$out" | tail -30
		f=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
else
	echo "skip race: tests/race/ring_race not built in $build (make check builds and runs it in build/)"
	skipped=$((skipped + 3))
fi

# A minute of the soak (tests/soak/soak.py; make soak runs an hour).  Not
# under ASan (make check-asan sets LGUEST_SOAK_SECONDS=0): its quarantine
# grows the heap by design, which the soak's leak rule would take for ours.
summary=$(mktemp)
if [ "${LGUEST_SOAK_SECONDS:-60}" -gt 0 ]; then
	python3 tests/soak/soak.py --build "$build" --seconds "${LGUEST_SOAK_SECONDS:-60}" \
		--summary "$summary"
	rc=$?
	if [ -s "$summary" ]; then
		read -r p f s <"$summary"
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + ${s:-0}))
	elif [ $rc -ne 0 ]; then
		failed=$((failed + 1))
	fi
else
	echo "skip soak: LGUEST_SOAK_SECONDS=0 (the sanitizer build; make check runs it)"
	skipped=$((skipped + 3))
fi
: >"$summary"
python3 tests/e2e/run.py --build "$build" --summary "$summary"
rc=$?
if [ -s "$summary" ]; then
	read -r p f s <"$summary"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
elif [ $rc -ne 0 ]; then
	failed=$((failed + 1))
fi
rm -f "$summary"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
