#!/usr/bin/env bash
# campaign_plot.sh — end-to-end: campaign/plot.py renders tests/data/campaign-history.jsonl into
# SVGs that parse as XML with one data marker per row and series; a row of another format is
# skipped with a warning; a malformed line is exit 2 with FILE:LINE: on stderr; a 1-row history
# and a 40-row one render; a history without mutants writes no detection.svg and says so.
# campaign/gatefig.py converts tests/data/gate-summary.json into the history's mutants object.
# scripts/bisect: no argument and a missing finding folder are 125; gc-cycles with
# gc-untracks-zero-refcount in pct (20 trials) is bad (1), without it good (0).  Runs once, in the
# asan pass of scripts/test (bisect uses build/asan).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

tests=13
echo "1..$tests"
if [ "$variant" != asan ]; then
    for i in $(seq 1 $tests); do skip "campaign plot and bisect are tested in the asan pass only"; done
    exit 0
fi

hist=tests/data/campaign-history.jsonl
plot() { python3 -m campaign.plot "$@"; }

# markers per series in an SVG against the rows of a history, by the plot's own rules restated
check_markers() {  # SVG HISTORY KIND
    python3 - "$@" <<'EOF'
import json, sys, xml.etree.ElementTree as ET
svg, hist, kind = sys.argv[1:]
rows = [json.loads(l) for l in open(hist) if l.strip()]
rows = [r for r in rows if r.get("format", 1) == 1]
ns = "{http://www.w3.org/2000/svg}"
tree = ET.parse(svg)
got = {}
for el in tree.iter():
    if el.get("class") == "marker":
        got.setdefault(el.get("data-series"), []).append(int(el.get("data-row")))
def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)
want = {}
for i, r in enumerate(rows):
    if kind == "trials":
        for v, d in (r.get("variants") or {}).items():
            if isinstance(d, dict) and num(d.get("trials_per_s")):
                want.setdefault(v, []).append(i)
    elif kind == "buckets":
        for k in ("total", "new", "gone"):
            if num((r.get("buckets") or {}).get(k)):
                want.setdefault(k, []).append(i)
    else:
        for m, d in (r.get("mutants") or {}).items():
            if isinstance(d, dict) and (d.get("detected") == 0 or num(d.get("trials_to_first"))):
                want.setdefault(m, []).append(i)
got = {k: sorted(v) for k, v in got.items()}
if got != want:
    print(f"{svg}: markers {got} != expected {want}")
    sys.exit(1)
print(f"{svg}: {sum(map(len, got.values()))} markers in {len(got)} series")
EOF
}

plot "$hist" --out "$work/p" >"$work/p.out" 2>"$work/p.err"; rc=$?
if [ $rc -eq 0 ] && [ -f "$work/p/trials-per-s.svg" ] && [ -f "$work/p/buckets.svg" ] &&
   [ -f "$work/p/detection.svg" ] && grep -q "campaign-history.jsonl:3: warning: skipping a row of format 2" "$work/p.err"; then
    ok "plot renders the sample history: three SVGs, the format-2 row skipped with a warning"
else notok "plot renders the sample history" "rc=$rc" "$(cat "$work/p.err")"; fi

msgs=()
bad=0
for pair in trials-per-s:trials buckets:buckets detection:detection; do
    if out=$(check_markers "$work/p/${pair%%:*}.svg" "$hist" "${pair##*:}" 2>&1); then msgs+=("$out")
    else bad=1; msgs+=("$out"); fi
done
if [ $bad -eq 0 ]; then ok "each SVG parses as XML and has one marker per row and series (${msgs[*]##*/})"
else notok "SVG markers match the rows" "${msgs[@]}"; fi

# a malformed line: FILE:LINE: on stderr, exit 2, nothing written
{ sed -n 1,2p "$hist"; echo '{"format":1, "commit": '; sed -n 4p "$hist"; } >"$work/bad.jsonl"
plot "$work/bad.jsonl" --out "$work/bad" >/dev/null 2>"$work/bad.err"; rc=$?
if [ $rc -eq 2 ] && grep -q "^$work/bad.jsonl:3: " "$work/bad.err" && [ ! -e "$work/bad/buckets.svg" ]; then
    ok "a malformed line: exit 2, '$(head -c 60 "$work/bad.err" | sed "s|$work/||")...'"
else notok "a malformed line is exit 2 with FILE:LINE:" "rc=$rc" "$(cat "$work/bad.err")"; fi
echo '[1, 2]' >"$work/arr.jsonl"
plot "$work/arr.jsonl" >/dev/null 2>"$work/arr.err"; rc=$?
plot "$work/nonexistent.jsonl" >/dev/null 2>&1; rc2=$?
plot >/dev/null 2>&1; rc3=$?
plot --help >/dev/null 2>&1; rc4=$?
if [ $rc -eq 2 ] && grep -q "arr.jsonl:1: " "$work/arr.err" && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] && [ $rc4 -eq 0 ]; then
    ok "a non-object row, a missing file and no argument are exit 2; --help is 0"
else notok "input and usage errors are exit 2" "array rc=$rc missing rc=$rc2 noarg rc=$rc3 help rc=$rc4"; fi

# one row, without mutants, default out folder: two SVGs, no detection.svg, said so
mkdir -p "$work/one"
sed -n 1p "$hist" >"$work/one/h.jsonl"
plot "$work/one/h.jsonl" >"$work/one.out" 2>"$work/one.err"; rc=$?
if [ $rc -eq 0 ] && check_markers "$work/one/trials-per-s.svg" "$work/one/h.jsonl" trials >/dev/null &&
   check_markers "$work/one/buckets.svg" "$work/one/h.jsonl" buckets >/dev/null &&
   [ ! -e "$work/one/detection.svg" ] && grep -q "detection.svg not written" "$work/one.err"; then
    ok "a 1-row history renders into its own folder; no mutants: no detection.svg, and it says so"
else notok "a 1-row history renders" "rc=$rc" "$(cat "$work/one.err")"; fi

# 40 rows, 28 mutants, equal dates, zero values
python3 - "$work/many.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(40):
        muts = {f"mutant-{k:02d}": {"detected": 0 if (i + k) % 17 == 0 else 1, "seeds": 1,
                                    "trials_to_first": None if (i + k) % 17 == 0 else (i * k) % 700}
                for k in range(28)}
        f.write(json.dumps({"format": 1, "commit": f"{i:07x}", "date": f"2027-01-{1 + i // 2:02d}T02:00:00Z",
                            "variants": {"asan": {"trials_per_s": i % 7}, "tsan": {"trials_per_s": 0}},
                            "buckets": {"total": i % 5, "new": 0, "gone": i % 2},
                            "mutants": muts if i % 4 else None}) + "\n")
EOF
plot "$work/many.jsonl" --out "$work/many" >/dev/null 2>"$work/many.err"; rc=$?
bad=0
for pair in trials-per-s:trials buckets:buckets detection:detection; do
    check_markers "$work/many/${pair%%:*}.svg" "$work/many.jsonl" "${pair##*:}" >>"$work/many.err" 2>&1 || bad=1
done
if [ $rc -eq 0 ] && [ $bad -eq 0 ]; then ok "40 rows, 28 mutants, equal dates and zero values: every marker drawn"
else notok "a 40-row history renders" "rc=$rc" "$(tail -3 "$work/many.err")"; fi

# --png: PNGs through gnuplot when it is there; without it, said so and exit 0
if command -v gnuplot >/dev/null; then
    plot "$hist" --out "$work/png" --png >/dev/null 2>"$work/png.err"; rc=$?
    if [ $rc -eq 0 ] && [ "$(head -c 4 "$work/png/buckets.png" | od -An -c | tr -d ' ')" = "211PNG" ] &&
       [ -s "$work/png/trials-per-s.png" ] && [ -s "$work/png/detection.png" ]; then
        ok "--png with gnuplot: three PNGs besides the SVGs"
    else notok "--png writes PNGs through gnuplot" "rc=$rc" "$(cat "$work/png.err")"; fi
else
    skip "gnuplot is not installed (the PNG path)"
fi
mkdir -p "$work/nogp"
# the interpreter itself, not a wrapper (pyenv's shim is a bash script that needs PATH)
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$work/nogp/python3"
PATH="$work/nogp" "$work/nogp/python3" -m campaign.plot "$hist" --out "$work/nopng" --png >/dev/null 2>"$work/nopng.err"; rc=$?
if [ $rc -eq 0 ] && grep -q "gnuplot is not on PATH" "$work/nopng.err" && [ -f "$work/nopng/buckets.svg" ] &&
   ! ls "$work/nopng"/*.png >/dev/null 2>&1; then
    ok "--png without gnuplot: says so, exit 0, SVGs only"
else notok "--png without gnuplot" "rc=$rc" "$(cat "$work/nopng.err")"; fi

# gatefig on the fixture
out=$(python3 -c 'import json; from campaign.gatefig import mutants_from_gate as m; print(json.dumps(m("tests/data/gate-summary.json"), sort_keys=True))' 2>&1)
want='{"brc-register-unlocked": {"detected": 0, "seeds": 1, "trials_to_first": null}, "gc-ignores-enabled": {"detected": 2, "seeds": 2, "trials_to_first": 8.5}, "reftotal-racy": {"detected": 1, "seeds": 1, "trials_to_first": 1}}'
echo '{"format": 1, "mutants": [{"name": "x", "seeds": "one", "detected": 0}]}' >"$work/badgate.json"
python3 -m campaign.gatefig "$work/badgate.json" >/dev/null 2>"$work/badgate.err"; grc=$?
if [ "$out" = "$want" ] && [ $grc -eq 2 ] && grep -q "mutant x: 'seeds'" "$work/badgate.err"; then
    ok "mutants_from_gate: the fixture's three mutants (an undetected one, a 2-seed median); a bad row is an error"
else notok "mutants_from_gate" "$out" "want $want" "bad rc=$grc $(cat "$work/badgate.err")"; fi

# scripts/bisect
scripts/bisect >/dev/null 2>&1; rc=$?
if [ $rc -eq 125 ]; then ok "bisect with no argument: 125"
else notok "bisect with no argument is 125" "rc=$rc"; fi
scripts/bisect --variant asan "$work/no-such-finding/" >/dev/null 2>"$work/b.err"; rc=$?
if [ $rc -eq 125 ] && grep -q "no such finding" "$work/b.err"; then ok "bisect on a missing finding folder: 125"
else notok "bisect on a missing finding folder is 125" "rc=$rc" "$(cat "$work/b.err")"; fi
TMPDIR=$work scripts/bisect --variant asan --bug gc-untracks-zero-refcount --mode pct --trials 20 gc-cycles \
    >"$work/b1.out" 2>"$work/b1.err"; rc=$?
if [ $rc -eq 1 ] && grep -q "finding: bad (1)" "$work/b1.err"; then ok "bisect gc-cycles with gc-untracks-zero-refcount (pct, 20 trials): bad (1)"
else notok "bisect with the mutant is bad (1)" "rc=$rc" "$(tail -5 "$work/b1.err")"; fi
TMPDIR=$work scripts/bisect --variant asan --mode pct --trials 20 gc-cycles >"$work/b0.out" 2>"$work/b0.err"; rc=$?
if [ $rc -eq 0 ] && grep -q "no finding: good (0)" "$work/b0.err"; then ok "bisect gc-cycles without the mutant (pct, 20 trials): good (0)"
else notok "bisect without the mutant is good (0)" "rc=$rc" "$(tail -5 "$work/b0.err")"; fi

[ $n -eq $tests ] || echo "# planned $tests, ran $n"
[ $failed -eq 0 ]
