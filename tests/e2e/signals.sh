#!/usr/bin/env bash
# signals.sh — end-to-end: interruption (issue "robust under interruption ...", item 1).
# SIGINT during a time-bounded `run` ends it through its own exit path: the summary of the
# trials that finished, a message naming the signal, exit 130, nothing left in $TMPDIR.
# SIGTERM after a finding: the finding's folder is complete, exit 143, $TMPDIR empty.  A closed
# stdout (`run --json | head -1`) ends the run with 141 and no temporary files.  The signals are
# sent once the run has shown the state the test needs (a trial done, a finding written), never
# after a fixed sleep.  The `.tmp-*` folder a kill -9 leaves mid-write is swept by the next run
# (when older than a minute), with its run folder if that is left empty; a fresh one is kept.
# `shrink` interrupted while its workers run, and `mutants` (with its two child boards)
# interrupted after its first row, end with 130 and leave nothing in $TMPDIR, no process behind.
# Run by scripts/test once per variant, printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..6"
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"

# wait (at most 300 s) until the command's condition holds
until_true() { for _ in $(seq 1 3000); do eval "$1" && return 0; sleep 0.1; done; return 1; }

"$rs" run gc-toggle --time 600 --json --report-dir "$work/r1" >"$work/out1" 2>"$work/err1" &
pid=$!
until_true '[ -s "$work/out1" ]'
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q "interrupted by SIGINT" "$work/err1" && grep -q "PASS: [1-9][0-9]* trials" "$work/err1" &&
   [ -z "$(ls -A "$TMPDIR")" ]; then
    ok "SIGINT: the summary so far, the signal named, exit 130, nothing left in \$TMPDIR"
else notok "SIGINT ends a run cleanly" "rc=$rc" "$(tail -3 "$work/err1")" "TMPDIR: $(ls -A "$TMPDIR")"; fi

"$rs" run gc-toggle --trials 1000000 --selftest-crash 1 --report-dir "$work/r2" >"$work/out2" 2>"$work/err2" &
pid=$!
until_true 'ls "$work"/r2/*/*/report.json >/dev/null 2>&1'
kill -TERM $pid
wait $pid; rc=$?
dir=$(ls -d "$work"/r2/*/*crash* 2>/dev/null | head -1)
if [ $rc -eq 143 ] && [ -n "$dir" ] && [ -f "$dir/report.json" ] && [ -f "$dir/repro.scn" ] &&
   grep -q "interrupted by SIGTERM" "$work/err2" && [ -z "$(ls -A "$TMPDIR")" ] &&
   [ -z "$(find "$work/r2" -name '.tmp-*')" ]; then
    ok "SIGTERM after a finding: its folder complete, exit 143, no temporary files"
else notok "SIGTERM keeps the finding" "rc=$rc dir=$dir" "$(tail -3 "$work/err2")" "TMPDIR: $(ls -A "$TMPDIR")"; fi

"$rs" run gc-toggle --trials 1000000 --json --report-dir "$work/r3" 2>"$work/err3" | head -1 >"$work/out3"
rc=${PIPESTATUS[0]}
if [ $rc -eq 141 ] && grep -q '"trial"' "$work/out3" && ! grep -q "internal error" "$work/err3" &&
   [ -z "$(ls -A "$TMPDIR")" ]; then
    ok "a closed stdout (--json | head -1) ends the run: exit 141, no temporary files"
else notok "SIGPIPE ends the run quietly" "rc=$rc" "$(tail -3 "$work/err3")" "TMPDIR: $(ls -A "$TMPDIR")"; fi

old=$work/r4/20200101-000000-1/.tmp-001-crash-trial0-AbCdEf
fresh=$work/r4/20200101-000000-2/.tmp-001-crash-trial0-GhIjKl
mkdir -p "$old" "$fresh"
echo '{' >"$old/report.json"; echo partial >"$old/.report.md.tmp123"; echo '{' >"$fresh/report.json"
touch -d '2 hours ago' "$old"
"$rs" run corpus/scn/exec-merge-request.scn --trials 1 --report-dir "$work/r4" >"$work/out4" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ ! -e "$old" ] && [ ! -e "$work/r4/20200101-000000-1" ] && [ -d "$fresh" ] &&
   grep -q "removed 1 unfinished finding folder" "$work/out4"; then
    ok "a stale .tmp-* finding folder (and its emptied run folder) is swept at start; a fresh one is kept"
else notok "stale .tmp-* folders are swept" "rc=$rc" "$(find "$work/r4")" "$(tail -2 "$work/out4")"; fi

printf 'refstorm-scn 1\nname "hang"\ntimeout_ms 300\nthread t0 main\n  spin 20000\n  new_leaf r0\n  drop r0\n' >"$work/hang.scn"
"$rs" run "$work/hang.scn" --trials 1 --report-dir "$work/r5" >/dev/null 2>&1
hdir=$(ls -d "$work"/r5/*/* 2>/dev/null | head -1)
"$rs" shrink "$hdir" --out "$work/min.scn" >"$work/out5" 2>"$work/err5" &
pid=$!
until_true 'pgrep -P $pid >/dev/null' # a worker is running a candidate (each takes >= 300 ms)
kill -INT $pid
wait $pid; rc=$?
if [ -n "$hdir" ] && [ $rc -eq 130 ] && grep -q "interrupted by SIGINT" "$work/err5" && [ -z "$(ls -A "$TMPDIR")" ]; then
    ok "shrink interrupted while a worker runs: exit 130, nothing left in \$TMPDIR"
else notok "SIGINT ends shrink cleanly" "rc=$rc dir=$hdir" "$(tail -3 "$work/err5")" "TMPDIR: $(ls -A "$TMPDIR")"; fi

"$rs" mutants --report-dir "$work/r6" >"$work/out6" 2>"$work/err6" &
pid=$!
until_true 'grep -q "detected by\|not detected" "$work/err6"' # a first row: the board is under way
kill -INT $pid
wait $pid; rc=$?
until_true '! pgrep -f "mutants --variant .* --report-dir $work/r6" >/dev/null'
if [ $rc -eq 130 ] && grep -q "interrupted by SIGINT" "$work/err6" && [ -z "$(ls -A "$TMPDIR")" ] &&
   ! pgrep -f "report-dir $work/r6" >/dev/null; then
    ok "mutants interrupted: its child boards stop too, exit 130, nothing left in \$TMPDIR"
else notok "SIGINT ends mutants cleanly" "rc=$rc" "$(tail -3 "$work/err6")" "TMPDIR: $(ls -A "$TMPDIR")"; fi

[ $failed -eq 0 ]
