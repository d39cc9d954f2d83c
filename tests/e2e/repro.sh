#!/usr/bin/env bash
# repro.sh — end-to-end: a hand-broken validator condition (the merge-request-lost mutant: the
# BRC enqueuer flags itself instead of the owner, so E2 breaks) becomes an INVARIANT finding in
# pct mode, and `refstorm repro <finding dir>` reproduces it on the first try (exit 1); the same
# program without the mutant passes, and repro of the finding's .scn with the mutant stripped
# passes too.  Replays of statistical findings (issue "robust under ...", item 6): `repro
# --tries N` prints the reproduction rate and exits by it; report.md says whether a replay is
# exact (pct) or statistical (free, chaos); a hand-edited report.json with a wrong type or a
# missing field is an input error naming the field; replaying with another build's binary
# warns.  Run by scripts/test once per variant (RS_BUILD=build/<variant>), printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..8"
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

"$rs" run "$scn" --mode chaos --trials 50 --bug merge-request-lost --report-dir "$work/c" >/dev/null 2>&1
cdir=$(find "$work/c" -mindepth 2 -maxdepth 2 -type d | head -1)
if [ -n "$cdir" ]; then
    "$rs" repro "$cdir" --tries 5 >"$work/tout" 2>&1; rc=$?
    k=$(sed -n 's/^repro: reproduced in \([0-9]*\) of 5 replays.*/\1/p' "$work/tout")
    want=0; [ -n "$k" ] && [ "$k" -gt 0 ] && want=1
    if [ -n "$k" ] && [ $rc -eq $want ]; then
        ok "repro --tries 5 of a chaos finding prints its rate ($k of 5) and exits by it"
    else notok "repro --tries prints the rate" "rc=$rc k=$k" "$(tail -3 "$work/tout")"; fi
    if grep -q "The replay is statistical" "$cdir/report.md" && [ -n "$dir" ] &&
       grep -q "The replay is exact" "$dir/report.md"; then
        ok "report.md says a chaos replay is statistical and a pct replay exact"
    else notok "report.md says whether a replay is exact" "$(grep -h 'The replay is' "$cdir/report.md" "$dir/report.md" 2>&1)"; fi
    cp -r "$cdir" "$work/edited"
    sed -i 's/"seed": \([0-9]*\)/"seed": "\1"/' "$work/edited/report.json"
    "$rs" repro "$work/edited" >"$work/eout" 2>&1; rc=$?
    cp "$cdir/report.json" "$work/edited/report.json"
    sed -i '/"verdict":/d' "$work/edited/report.json"
    "$rs" repro "$work/edited" >"$work/eout2" 2>&1; rc2=$?
    if [ $rc -eq 2 ] && grep -q 'field "seed" must be an integer' "$work/eout" &&
       [ $rc2 -eq 2 ] && grep -q 'missing field "verdict"' "$work/eout2"; then
        ok "report.json: a string seed and a missing verdict are input errors naming the field (exit 2)"
    else notok "report.json fields are checked" "rc=$rc rc2=$rc2" "$(cat "$work/eout" "$work/eout2" | head -3)"; fi
    other=tsan; [ "$variant" = tsan ] && other=asan
    "build/$other/refstorm" repro "$cdir" >"$work/vout" 2>&1
    if grep -q "recorded by the $variant build and is replayed by the $other one" "$work/vout"; then
        ok "replaying a $variant finding with the $other binary warns"
    else notok "a variant mismatch warns" "$(head -3 "$work/vout")"; fi
else
    for t in "repro --tries" "exact/statistical" "report.json fields" "variant warning"; do notok "$t" "no chaos finding"; done
fi

