#!/usr/bin/env bash
# blame.sh — end-to-end: reports that blame the right op (issue "robust under interruption ...",
# item 7).  A worker that dies — rs_fatal's SIGABRT, a UBSan or TSan report — writes the
# executor's blame block first, so the finding names the thread and op that died (report.md
# and report.json: thread, op_index, ops_run, seconds) instead of "No single thread or op was
# blamed ... 0 ops, 0.000 s".  An invariant that names no object says so without "(nil)".
# The mutants' corpus entries give the deaths (pct: the same op every time).  The executor's
# hang dump has its frames named (addr2line), not only raw offsets.  Run by
# scripts/test once per variant, printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..4"

# finding FILE MUTANT SEED -> the finding folder in $dir
finding() {
    rm -rf "$work/rep"
    "$rs" run "corpus/mutants/$2.scn" --mode pct --seed "$3" --trials 1 --bug "$2" \
        --report-dir "$work/rep" --quiet >"$work/out" 2>&1
    dir=$(ls -d "$work"/rep/*/* 2>/dev/null | head -1)
}

finding x bind-heap-visible-early 1
if [ -n "$dir" ] && grep -q "seen in thread t0 at op 4: \`gc_collect\`" "$dir/report.md" &&
   grep -q '"op_index": 4' "$dir/report.json" && ! grep -q '"ops_run": 0' "$dir/report.json" &&
   ! grep -q "No single thread" "$dir/report.md"; then
    ok "a SIGABRT (rs_fatal in a GC validator) names thread t0, op 4 gc_collect, and the ops run"
else notok "a SIGABRT finding blames its op" "dir=$dir" "$(grep -A2 'Threads and ops' "$dir/report.md" 2>/dev/null)"; fi

case "$variant" in
    tsan)
        finding x reftotal-racy 1
        if [ -n "$dir" ] && grep -q '"verdict": "sanitizer"' "$dir/report.json" &&
           grep -q "seen in thread t0 at op 0: \`new_finalizable" "$dir/report.md"; then
            ok "a TSan report names the racing thread's op (t0 op 0)"
        else notok "a TSan finding blames its op" "dir=$dir" "$(grep -A2 'Threads and ops' "$dir/report.md" 2>/dev/null)"; fi ;;
    asan)
        finding x frames-not-zeroed 1
        if [ -n "$dir" ] && grep -q '"verdict": "sanitizer"' "$dir/report.json" &&
           grep -q "seen in thread t1 after its last op" "$dir/report.md"; then
            ok "a UBSan report names the thread that died (t1, while it ended)"
        else notok "a UBSan finding blames its thread" "dir=$dir" "$(grep -A2 'Threads and ops' "$dir/report.md" 2>/dev/null)"; fi ;;
    *) skip "sanitizer reports: asan and tsan builds only" ;;
esac

rm -rf "$work/rep"
"$rs" run corpus/scn/exec-merge-request.scn --mode pct --seed 7 --trials 1 --bug merge-request-lost \
    --report-dir "$work/rep" >"$work/out" 2>&1
dir=$(ls -d "$work"/rep/*/* 2>/dev/null | head -1)
if [ -n "$dir" ] && grep -q '"check": "E2"' "$dir/report.json" && ! grep -rq "(nil)" "$dir" "$work/out"; then
    ok "an invariant that names no object (E2) says so without \"(nil)\""
else notok "no (nil) in messages" "dir=$dir" "$(grep -rh "(nil)" "$dir" "$work/out" | head -2)"; fi

printf 'refstorm-scn 1\nname "hang"\ntimeout_ms 300\nthread t0 main\n  spin 20000\n' >"$work/hang.scn"
rm -rf "$work/rep"
"$rs" run "$work/hang.scn" --trials 1 --report-dir "$work/rep" >"$work/out" 2>&1
dir=$(ls -d "$work"/rep/*/* 2>/dev/null | head -1)
if [ -n "$dir" ] && grep -q '"verdict": "hang"' "$dir/report.json" &&
   grep -qE '\(\+0x[0-9a-f]+\)\[0x[0-9a-f]+\]  [a-z_]+ at [^ ]*harness/[a-z]+/[a-z_]+\.c' "$dir/thread_dump.txt"; then
    # which frames a backtrace holds varies (under TSan a signal is taken at the next
    # intercepted call); that the unnamed ones get their names does not
    ok "the hang dump names its frames (function at file, from addr2line)"
else notok "the hang dump is symbolised" "dir=$dir" "$(grep -m3 '(+0x' "$dir/thread_dump.txt" 2>/dev/null)"; fi

[ $failed -eq 0 ]
