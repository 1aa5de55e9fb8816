#!/bin/sh
# run.sh BUILD_DIR SECONDS [NAME...]: run each libFuzzer harness (every
# BUILD_DIR/fuzz/fuzz_NAME, or the ones named) for SECONDS, starting from
# its seed corpus, tests/fuzz/corpus/NAME/.  What a run learns goes to
# BUILD_DIR/fuzz/corpus/NAME/, never into the tree; a crash, leak, timeout
# or broken invariant leaves its input in BUILD_DIR/fuzz/artifacts/.
#
# One line per harness ("ok   fuzz/NAME: ..." or "FAIL fuzz/NAME: ..."),
# then "N passed, N failed"; exits 0 iff nothing failed.
set -u
build=$1
secs=$2
shift 2
here=$(dirname "$0")
if [ $# -eq 0 ]; then
	set -- $(cd "$build/fuzz" 2>/dev/null && ls fuzz_* 2>/dev/null | sed 's/^fuzz_//')
fi
passed=0
failed=0
mkdir -p "$build/fuzz/artifacts"
for name in "$@"; do
	bin=$build/fuzz/fuzz_$name
	seeds=$here/corpus/$name
	work=$build/fuzz/corpus/$name
	log=$build/fuzz/$name.log
	mkdir -p "$work"
	dict=""
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	# -timeout: one input that takes 10 s is a hang; -rss_limit_mb: a
	# leak or an allocation the input controls.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/artifacts/$name-" $dict "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	units=$(ls "$work" | wc -l)
	if [ $rc -eq 0 ]; then
		echo "ok   fuzz/$name: ${execs:-?} execs in ${secs} s, cov ${cov:-?}, ft ${ft:-?}, corpus $units"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz/$name: exit $rc after ${execs:-?} execs (log $log):"
		grep -E 'ERROR|SUMMARY|INVARIANT|Test unit written' "$log" | head -8 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
