#!/usr/bin/env bash
# shrink.sh — end-to-end: `refstorm shrink` turns the E2 finding of exec-merge-request.scn with
# the merge-request-lost mutant (pct, see repro.sh) into a smaller program that still fails
# with the same verdict and check when replayed by mode and seed with the mutant, and passes
# without it; a program that passes is "does not reproduce" (exit 1); a path that does not
# exist is an input error (exit 2).  Run by scripts/test once per variant
# (RS_BUILD=build/<variant>), printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
ops() { grep -c '^  ' "$1"; } # op lines of a canonical .scn (indented inside thread blocks)
field() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$2"; } # a scalar of a one-line JSON object

echo "1..9"
scn=corpus/scn/exec-merge-request.scn
bug=merge-request-lost

"$rs" help shrink >"$work/help" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "usage: refstorm shrink" "$work/help" && grep -q -- "--tries" "$work/help"; then
    ok "refstorm help shrink prints the shrink usage and its flags"
else
    notok "refstorm help shrink" "rc=$rc" "$(head -3 "$work/help")"
fi

"$rs" run "$scn" --mode pct --seed 7 --trials 1 --bug $bug --report-dir "$work/r" >"$work/out" 2>"$work/err"
dir=$(find "$work/r" -mindepth 2 -maxdepth 2 -type d -name '*invariant*' | head -1)
if [ -z "$dir" ]; then
    notok "run gives an E2 finding to shrink" "$(tail -3 "$work/err")"
    for i in 3 4 5 6 7; do notok "needs the finding folder"; done
else
    seed=$(sed -n 's/^ *"seed": *\([0-9]*\).*/\1/p' "$dir/report.json")
    "$rs" shrink "$dir" --json >"$work/json" 2>"$work/serr"; rc=$?
    out="$dir/min.scn"
    if [ $rc -eq 0 ] && [ -s "$out" ] && grep -q '"verdict":"invariant"' "$work/json" &&
       grep -q '"check":"E2"' "$work/json" && grep -q "\"out\":\"$out\"" "$work/json"; then
        ok "shrink of the finding folder exits 0 and writes <finding>/min.scn (JSON: invariant E2)"
    else
        notok "shrink of the finding exits 0 with min.scn" "rc=$rc" "$(cat "$work/json" "$work/serr" | tail -4)"
    fi
    before=$(ops "$dir/repro.scn") after=$(ops "$out" 2>/dev/null || echo 0)
    if [ "$after" -gt 0 ] && [ "$after" -lt "$before" ] &&
       [ "$(field final_ops "$work/json")" = "$after" ] && [ "$(field original_ops "$work/json")" = "$before" ]; then
        ok "the minimized program has fewer ops ($before -> $after), as its JSON says"
    else
        notok "the minimized program has fewer ops" "before=$before after=$after" "$(cat "$work/json")"
    fi
    if grep -q "^# refstorm shrink: reproduces invariant (E2), mode pct" "$out" && ! grep -q '^bug ' "$out"; then
        ok "min.scn says what it reproduces and carries no bug line (the mutant is a --bug flag)"
    else
        notok "min.scn header and no bug line" "$(head -6 "$out")"
    fi
    "$rs" repro "$out" --mode pct --seed "$seed" --bug $bug >"$work/rout" 2>&1; rc=$?
    if [ $rc -eq 1 ] && grep -q "^repro: invariant (E2)" "$work/rout"; then
        ok "repro of min.scn with --bug $bug fails with the same check (E2)"
    else
        notok "repro of min.scn with the mutant fails with E2" "rc=$rc seed=$seed" "$(tail -3 "$work/rout")"
    fi
    "$rs" repro "$out" --mode pct --seed "$seed" >"$work/nout" 2>&1; rc=$?
    if [ $rc -eq 0 ]; then ok "repro of min.scn without the mutant passes"
    else notok "repro of min.scn without the mutant passes" "rc=$rc" "$(tail -3 "$work/nout")"; fi
fi

cp "$scn" "$work/clean.scn"
"$rs" shrink "$work/clean.scn" --mode pct --seed 7 >"$work/cout" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "nothing to shrink" "$work/cout" && [ ! -e "$work/clean.min.scn" ]; then
    ok "shrink of a program that passes exits 1 and writes nothing"
else
    notok "shrink of a passing program exits 1" "rc=$rc" "$(tail -3 "$work/cout")"
fi

"$rs" shrink "$work/no-such-finding" >"$work/bout" 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "shrink of a path that does not exist exits 2"
else notok "shrink of a bad path exits 2" "rc=$rc" "$(tail -3 "$work/bout")"; fi

"$rs" shrink "$work/clean.scn" --mode pct --seed 7 --bug $bug --out "$work/x.scn" --quiet >"$work/fout" 2>&1; rc=$?
"$rs" repro "$work/x.scn" --mode pct --bug $bug >/dev/null 2>&1; xrc=$?
if [ $rc -eq 0 ] && [ -s "$work/x.scn" ] && [ ! -s "$work/fout" ] && [ $xrc -eq 1 ]; then
    ok "shrink FILE.scn --bug --out writes there quietly, and the output's own seed replays it"
else
    notok "shrink FILE.scn --out" "rc=$rc repro rc=$xrc" "$(tail -3 "$work/fout")"
fi
[ $failed -eq 0 ]
