#!/usr/bin/env bash
# mutants.sh — end-to-end tests of `refstorm mutants` and scripts/gate, run by scripts/test once
# per variant (RS_BUILD=build/<variant>), printing TAP.
#
# Covers: usage errors (a bad --variant, a subset asked of the wrong binary, an unknown
# --only/--force-bug mutant: exit 2); in asan and tsan, one variant's subset as --json: every
# row belongs to the variant, the rows of both variants are exactly runtime/include/rs/bugs.def, the
# clean row has no finding, and, with --extra-scn corpus/scn/exec-merge-request.scn (a program
# the executor runs today), merge-request-lost is detected in every seed by E2 with
# median <= max, and the clean row passes that program; in asan only (it needs both binaries),
# the gate with RS_GATE_FORCE_BUG exits 1, names the forced mutant and the clean row, and
# writes summary.md, summary.json and junit.xml.  Budgets are tiny: the test checks the
# machinery, not the runtime's quality figure.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
scn=corpus/scn/exec-merge-request.scn
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
total=8
echo "1..$total"
if [ ! -x "$rs" ]; then
    for i in $(seq 1 $total); do notok "refstorm binary $rs exists"; done
    exit 1
fi

usage_case() { # description, args...
    local d=$1; shift
    "$rs" "$@" >"$work/out" 2>"$work/err"; local rc=$?
    if [ $rc -eq 2 ] && [ -s "$work/err" ]; then ok "$d exits 2"; else
        notok "$d exits 2" "rc=$rc" "$(head -3 "$work/err")"; fi
}
usage_case "mutants --variant release (no such subset)" mutants --variant release
other=asan; [ "$variant" = asan ] && other=tsan
usage_case "mutants --variant $other in the $variant binary" mutants --variant "$other"
usage_case "mutants --only with an unknown mutant" mutants --only no-such-mutant

bugs=$(sed -n 's/^RS_BUG([A-Z0-9_]*, *"\([^"]*\)".*/\1/p' runtime/include/rs/bugs.def | sort | tr '\n' ' ')

# py FILE EXPR...: evaluate python assertions on the JSON board in FILE; prints what failed
py() {
    local file=$1; shift
    python3 - "$file" "$@" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
bad = [e for e in sys.argv[2:] if not eval(e, {"b": b, "rows": {r["name"]: r for r in b["mutants"]}})]
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}

if [ "$variant" = asan ] || [ "$variant" = tsan ]; then
    # one variant's subset, every mutant, nothing runnable needed
    "$rs" mutants --variant "$variant" --seeds 1 --trial-budget 1 --json --quiet >"$work/sub.json" 2>"$work/sub.err"
    rc=$?
    if [ $rc -le 1 ] && msg=$(py "$work/sub.json" \
        "all(r['variant'] == '$variant' for r in b['mutants'])" \
        "all(k in r for r in b['mutants'] for k in ('name','seeds','detected','detector','median_trials','max_trials','median_s','max_s','not_runnable'))" \
        "b['clean']['findings'] == 0 and b['clean']['seeds'] == 1" \
        "b['ok'] == (not b['failing'])" \
        "set(b['failing']) == {r['name'] for r in b['mutants'] if r['detected'] == 0}"); then
        ok "mutants --variant $variant --json: rows of $variant only, the fields, a clean row without findings"
    else
        notok "mutants --variant $variant --json" "rc=$rc $msg" "$(tail -3 "$work/sub.err")"
    fi
    cp "$work/sub.json" "$work/sub-$variant.json"
    # the other variant's rows, when its binary is built: together exactly bugs.def
    otherbin="$root/build/$other/refstorm"
    if [ -x "$otherbin" ]; then
        "$otherbin" mutants --variant "$other" --seeds 1 --trial-budget 1 --json --quiet >"$work/o.json" 2>/dev/null
        got=$(python3 -c 'import json,sys; print(" ".join(sorted(r["name"] for f in sys.argv[1:] for r in json.load(open(f))["mutants"])))' "$work/sub.json" "$work/o.json" 2>&1)
        if [ "$got " = "$bugs" ]; then ok "the asan and tsan subsets together are exactly runtime/include/rs/bugs.def"; else
            notok "the asan and tsan subsets together are exactly runtime/include/rs/bugs.def" "got:  $got" "want: $bugs"; fi
    else
        skip "the asan and tsan subsets together are exactly runtime/include/rs/bugs.def" "$otherbin not built"
    fi
    if [ "$variant" = asan ]; then
        "$rs" mutants --variant asan --only merge-request-lost --seeds 2 --trial-budget 200 --extra-scn "$scn" \
            --json --quiet >"$work/mrl.json" 2>"$work/mrl.err"
        rc=$?
        if msg=$(py "$work/mrl.json" \
            "[r['name'] for r in b['mutants']] == ['merge-request-lost']" \
            "rows['merge-request-lost']['detected'] == 2 and rows['merge-request-lost']['detector'] == 'E2'" \
            "1 <= rows['merge-request-lost']['median_trials'] <= rows['merge-request-lost']['max_trials'] <= 200" \
            "0 < rows['merge-request-lost']['median_s'] <= rows['merge-request-lost']['max_s']" \
            "rows['merge-request-lost']['first']['check'] == 'E2'" \
            "b['clean']['findings'] == 0 and b['clean']['passed'] >= 6" \
            "b['ok'] is True"); then
            [ $rc -eq 0 ] && ok "merge-request-lost detected by E2 in 2/2 seeds on a runnable program; clean row passes it; exit 0" \
                || notok "mutants exits 0 when all is green" "rc=$rc"
        else
            notok "merge-request-lost detected on a runnable program" "rc=$rc $msg" "$(tail -3 "$work/mrl.err")"
        fi
    else
        "$rs" mutants --variant tsan --only gc-enabled-racy --seeds 1 --trial-budget 1 --extra-scn "$scn" \
            --json --quiet >"$work/t.json" 2>"$work/t.err"
        if msg=$(py "$work/t.json" "[r['name'] for r in b['mutants']] == ['gc-enabled-racy']" \
            "b['clean']['findings'] == 0 and b['clean']['passed'] >= 2"); then
            ok "tsan: --only selects one row; the clean row passes a runnable program in chaos and free (no pct under TSan)"
        else
            notok "tsan: --only and the clean row" "$msg" "$(tail -3 "$work/t.err")"
        fi
    fi
else
    skip "mutants --variant --json" "no mutant subset lives in $variant"
    skip "asan and tsan subsets" "no mutant subset lives in $variant"
    skip "detection on a runnable program" "no mutant subset lives in $variant"
fi

# the gate, once (asan run of this script): a forced mutant must make it fail, naming it
if [ "$variant" = asan ] && [ -x "$root/build/tsan/refstorm" ]; then
    RS_GATE_FORCE_BUG=merge-request-lost scripts/gate --seeds 1 --trial-budget 1 --extra-scn "$scn" \
        --report-dir "$work/gate" --quiet >"$work/gate.out" 2>"$work/gate.err"
    rc=$?
    last=$(tail -1 "$work/gate.out")
    if [ $rc -eq 1 ] && grep -q "FAIL" <<<"$last" && grep -q "merge-request-lost" <<<"$last" \
        && grep -q "clean" <<<"$last"; then
        ok "gate with RS_GATE_FORCE_BUG=merge-request-lost exits 1 naming it and the clean row"
    else
        notok "gate with a forced mutant exits 1 naming it" "rc=$rc last: $last" "$(tail -3 "$work/gate.err")"
    fi
    if [ -s "$work/gate/summary.md" ] && [ -s "$work/gate/junit.xml" ] && msg=$(py "$work/gate/summary.json" \
        "'clean' in b['failing'] and b['force_bug'] == 'merge-request-lost'" \
        "b['clean']['findings'] > 0 and all(h['check'] == 'E2' for h in b['clean']['list'])" \
        "b['variant'] == 'asan+tsan'") \
        && python3 -c 'import sys,xml.etree.ElementTree as E; s=E.parse(sys.argv[1]).getroot().find("testsuite"); c=[t for t in s if t.get("name")=="clean-runtime"]; sys.exit(0 if c and c[0].find("failure") is not None else 1)' "$work/gate/junit.xml" \
        && grep -q "merge-request-lost" "$work/gate/summary.md" && ! ls "$work/gate" | grep -q '^\.tmp'; then
        ok "gate writes summary.md, summary.json and junit.xml (clean-runtime failure), no temp files"
    else
        notok "gate summary files" "$msg" "$(ls -a "$work/gate" 2>&1 | tr '\n' ' ')"
    fi
else
    skip "gate with a forced mutant" "runs once, in the asan pass, with build/tsan built"
    skip "gate summary files" "runs once, in the asan pass, with build/tsan built"
fi
[ $failed -eq 0 ]
