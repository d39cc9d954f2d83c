#!/usr/bin/env bash
# repro.sh — end-to-end: a hand-broken validator condition (the merge-request-lost mutant: the
# BRC enqueuer flags itself instead of the owner, so E2 breaks) becomes an INVARIANT finding in
# pct mode, and `refstorm repro <finding dir>` reproduces it on the first try (exit 1); the same
# program without the mutant passes, and repro of the finding's .scn with the mutant stripped
# passes too.  Run by scripts/test once per variant (RS_BUILD=build/<variant>), printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..4"
scn=corpus/scn/exec-merge-request.scn

"$rs" run "$scn" --mode pct --seed 7 --trials 3 --report-dir "$work/clean" >"$work/out" 2>"$work/err"; rc=$?
if [ $rc -eq 0 ]; then ok "the clean runtime passes $scn in pct"; else notok "clean pct run passes" "rc=$rc" "$(tail -3 "$work/err")"; fi

"$rs" run "$scn" --mode pct --seed 7 --trials 1 --bug merge-request-lost --report-dir "$work/r" \
    >"$work/out" 2>"$work/err"; rc=$?
dir=$(find "$work/r" -mindepth 2 -maxdepth 2 -type d -name '*invariant*' | head -1)
if [ $rc -eq 1 ] && [ -n "$dir" ] && grep -q '"check": *"E2"' "$dir/report.json"; then
    ok "--bug merge-request-lost in pct is an invariant finding (E2) with a report folder"
else
    notok "merge-request-lost gives an E2 invariant finding" "rc=$rc dir=$dir" "$(tail -3 "$work/err")"
fi

if [ -n "$dir" ]; then
    "$rs" repro "$dir" >"$work/rout" 2>"$work/rerr"; rc=$?
    if [ $rc -eq 1 ] && grep -q "^REPRODUCED" "$work/rout" "$work/rerr"; then
        ok "refstorm repro <finding dir> reproduces the E2 finding on the first try"
    else
        notok "repro reproduces the invariant finding" "rc=$rc" "$(cat "$work/rout" "$work/rerr" | tail -4)"
    fi
    grep -v '^bug ' "$dir/repro.scn" >"$work/nobug.scn"
    "$rs" repro "$work/nobug.scn" --mode pct --seed 7 >"$work/nout" 2>"$work/nerr"; rc=$?
    if [ $rc -eq 0 ]; then ok "the same program without the mutant passes under repro"
    else notok "repro without the mutant passes" "rc=$rc" "$(cat "$work/nout" "$work/nerr" | tail -4)"; fi
else
    notok "repro reproduces the invariant finding" "no finding folder"
    notok "repro without the mutant passes" "no finding folder"
fi
[ $failed -eq 0 ]
