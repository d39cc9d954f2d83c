#!/usr/bin/env bash
# inputs.sh — end-to-end: the forms a program can come in, and odd input (issue "robust under
# interruption, faults and odd input", item 4 and 5).  `run -`, `run /dev/stdin` and
# `run <(...)` read the program once and hand the workers a copy (the worker used to re-read a
# drained pipe: "missing version line"); a FIFO with no writer ends with a message instead of
# hanging; the copies leave nothing in $TMPDIR; a UTF-8 byte order mark, an unknown mutant in a
# `bug` line and a seed past the JSON range are FILE:LINE:COL errors (exit 2); `--mode --trials
# 1` says --mode needs a value; seed + trial index never passes the largest seed.  Item 2: a
# --report-dir where findings cannot be written is refused before the first trial (run and
# mutants, exit 2), and checking a writable one creates nothing.  Item 8: --json reals carry 6
# significant digits, not 17.  Item 3: temporary files (worker logs, generated programs) go under
# $TMPDIR and are gone at the end.
# Run by scripts/test once per variant (RS_BUILD=build/<variant>), printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..16"
scn=corpus/scn/exec-merge-request.scn
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"

"$rs" run - --trials 2 --report-dir "$work/r" <"$scn" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "PASS: 2 trials" "$work/out"; then ok "run - reads the program from stdin (2 trials pass)"
else notok "run - reads stdin" "rc=$rc" "$(tail -2 "$work/out")"; fi

cat "$scn" | "$rs" run /dev/stdin --trials 2 --report-dir "$work/r" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "PASS: 2 trials" "$work/out"; then ok "run /dev/stdin from a pipe"
else notok "run /dev/stdin from a pipe" "rc=$rc" "$(tail -2 "$work/out")"; fi

"$rs" run <(cat "$scn") --trials 2 --report-dir "$work/r" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "PASS: 2 trials" "$work/out"; then ok "run <(...) (a /dev/fd pipe) is read once"
else notok "run <(...) is read once" "rc=$rc" "$(tail -2 "$work/out")"; fi

left=$(find "$TMPDIR" -name 'refstorm-input-*' | wc -l)
if [ "$left" -eq 0 ]; then ok "the workers' copies of piped programs are removed from \$TMPDIR"
else notok "no copies left in \$TMPDIR" "$left left: $(ls "$TMPDIR")"; fi

mkfifo "$work/fifo"
timeout 60 "$rs" run "$work/fifo" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "nothing to read after" "$work/out"; then ok "a FIFO with no writer ends with a message (exit 2), not a hang"
else notok "a FIFO with no writer does not hang" "rc=$rc" "$(tail -2 "$work/out")"; fi

printf '\xef\xbb\xbfrefstorm-scn 1\nthread t0 main\n' >"$work/bom.scn"
"$rs" run "$work/bom.scn" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && head -1 "$work/out" | grep -q "^$work/bom.scn:1:1: .*byte order mark"; then
    ok "a UTF-8 byte order mark gets its own message at 1:1"
else notok "a BOM has its own message" "rc=$rc" "$(head -2 "$work/out")"; fi

printf 'refstorm-scn 1\nbug gc-ignores-enabld\nthread t0 main\n' >"$work/bug.scn"
"$rs" run "$work/bug.scn" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && head -1 "$work/out" | grep -q "bug.scn:2:5: unknown mutant 'gc-ignores-enabld'"; then
    ok "an unknown mutant in a bug line is FILE:2:5 with its name (exit 2)"
else notok "unknown mutant in a bug line" "rc=$rc" "$(head -2 "$work/out")"; fi

"$rs" run --mode --trials 1 "$scn" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "'--mode' needs a value" "$work/out"; then ok "--mode --trials 1: --mode needs a value"
else notok "--mode without a value" "rc=$rc" "$(head -2 "$work/out")"; fi

printf 'refstorm-scn 1\nseed 9223372036854775806\nthread t0 main\n  new_leaf r0\n' >"$work/seed.scn"
"$rs" run "$work/seed.scn" --trials 3 >"$work/out" 2>&1; rc=$?
"$rs" run "$work/seed.scn" --trials 2 --json >"$work/json" 2>"$work/err"; rc2=$?
if [ $rc -eq 2 ] && grep -q "would pass the largest seed" "$work/out" && [ $rc2 -eq 0 ] &&
   grep -q '"seed": *9223372036854775807' "$work/json" && ! grep -q '"seed": *-' "$work/json"; then
    ok "seed + trial never passes the largest seed (3 trials refused, 2 run with seeds ..807)"
else notok "seed + trial index does not overflow" "rc=$rc rc2=$rc2" "$(head -2 "$work/out")" "$(head -c 300 "$work/json")"; fi

"$rs" run "$work/seed.scn" --seed 9223372036854775807 --time 30 --json >"$work/json" 2>"$work/err"; rc=$?
ntr=$(grep -c "\"trial\"" "$work/json")
if [ $rc -eq 0 ] && [ "$ntr" -eq 1 ]; then ok "a time-bounded run from the largest seed stops after its one trial"
else notok "a time-bounded run stops at the last seed" "rc=$rc trials=$ntr" "$(tail -2 "$work/err")"; fi

"$rs" run "$scn" --trials 1 --report-dir /etc/passwd/reports >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "report-dir /etc/passwd/reports: findings cannot be written there: Not a directory" "$work/out" &&
   ! grep -q "trials" "$work/out"; then
    ok "run: an unusable --report-dir is refused before the first trial (exit 2, the cause named)"
else notok "run refuses an unusable --report-dir first" "rc=$rc" "$(head -3 "$work/out")"; fi

"$rs" mutants --only reftotal-racy --report-dir /proc/refstorm-reports >"$work/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "cannot be written there" "$work/out"; then
    ok "mutants: an unusable --report-dir is refused before the board runs (exit 2)"
else notok "mutants refuses an unusable --report-dir first" "rc=$rc" "$(head -3 "$work/out")"; fi

"$rs" run "$scn" --trials 1 --report-dir "$work/new/reports" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ ! -e "$work/new" ] && ! ls -A "$work" | grep -q refstorm-probe; then
    ok "checking a --report-dir that does not exist yet creates nothing on a clean run"
else notok "the report-dir check leaves nothing behind" "rc=$rc" "$(ls -la "$work" | head)"; fi

"$rs" run "$scn" --trials 3 --json --report-dir "$work/r" >"$work/json" 2>/dev/null; rc=$?
long=$(grep -oE '[0-9]\.0*[1-9][0-9]{6,}' "$work/json" | head -1) # 7 or more significant digits
if [ $rc -eq 0 ] && grep -q '"seconds"' "$work/json" && [ -z "$long" ]; then ok "--json reals have at most 6 significant digits"
else notok "--json reals are printed with a sensible precision" "rc=$rc" "$long"; fi

TMPDIR=$work/nonexistent "$rs" run gc-toggle --trials 1 --report-dir "$work/r" >"$work/out" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "$work/nonexistent" "$work/out"; then ok "temporary files go under \$TMPDIR (an unusable one is named in the error)"
else notok "temporary files go under \$TMPDIR" "rc=$rc" "$(tail -2 "$work/out")"; fi

mkdir -p "$work/t2"
TMPDIR=$work/t2 "$rs" run gc-toggle --trials 2 --selftest-crash 1 --report-dir "$work/r" >"$work/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && [ -z "$(ls -A "$work/t2")" ]; then ok "after a run with a crashing worker \$TMPDIR holds nothing of it"
else notok "temporary files are removed" "rc=$rc" "$(ls -A "$work/t2")"; fi

[ $failed -eq 0 ]
