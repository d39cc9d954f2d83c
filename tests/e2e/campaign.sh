#!/usr/bin/env bash
# campaign.sh — end-to-end: `scripts/campaign campaign` and `merge`.  Usage errors exit 2; a clean
# campaign has no bucket and writes a summary, a JUnit file and a SARIF log that validates
# against the SARIF 2.1.0 schema; three mutants forced on give exactly three buckets, each with a
# shrunk reproducer that replays; the history says what is new and what is gone; `kill -9` at a
# random moment and `--resume` give the buckets and trial count of an uninterrupted run of the
# same matrix, and so do SIGTERM + `--resume` and two shards merged.  Every budget is counted in
# trials (pct: the same trials give the same findings on any machine).  Runs in the asan pass
# only (the campaign drives build/asan itself).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

tests=17
echo "1..$tests"
if [ "$variant" != asan ]; then
    for i in $(seq 1 $tests); do skip "the campaign is tested in the asan pass only"; done
    exit 0
fi
camp() { scripts/campaign campaign --no-build "$@"; }

# --- usage errors: exit 2, one line saying what is wrong
bad=0
for args in "--budget 5parsecs" "--scenarios no-such-scenario" "--modes fast" \
            "--resume $work --budget 10m" "--resume $work" "--shard 2/2" "--cell-trials 0"; do
    # shellcheck disable=SC2086
    camp $args --out "$work/bad" >"$work/bad.out" 2>"$work/bad.err"; rc=$?
    if [ $rc -ne 2 ] || ! grep -q "^campaign: " "$work/bad.err"; then bad=1; echo "# $args: $rc"; fi
done
if [ $bad -eq 0 ]; then ok "malformed flags exit 2 with a message"
else notok "malformed flags exit 2" "$(cat "$work/bad.err")"; fi

# --- the SARIF 2.1.0 schema (from the npm registry, cached under build/) and a validator
schema=build/sarif/sarif-2.1.0-rtm.5.json
if [ ! -s "$schema" ]; then
    mkdir -p build/sarif "$work/npm"
    (cd "$work/npm" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1 &&
     tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json) &&
        mv "$work/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$schema"
fi
py=python3
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null && py=/usr/bin/python3
sarif_valid() { # FILE RESULTS: valid against the schema, with RESULTS results
    [ -s "$schema" ] || { echo "# no SARIF schema at $schema (npm pack @microsoft/jest-sarif failed)"; return 1; }
    "$py" - "$schema" "$1" "$2" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
cls = jsonschema.validators.validator_for(schema)
errors = list(cls(schema).iter_errors(doc))
for e in errors[:5]:
    print("# schema:", e.message, list(e.path))
n = len(doc["runs"][0]["results"])
if n != int(sys.argv[3]):
    print("# %d results, expected %s" % (n, sys.argv[3]))
bad = dict(doc); del bad["version"]  # the validator must be able to fail
sys.exit(1 if errors or n != int(sys.argv[3]) or not list(cls(schema).iter_errors(bad)) else 0)
PY
}
junit_counts() { "$py" -c 'import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); print(s.get("tests"), s.get("failures"), len(s.findall("testcase")))' "$1"; }
buckets() { # summary.json -> "trials signature:count ..." (what must match between runs)
    "$py" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["trials"], " ".join(sorted("%s:%d" % (b["signature"], b["count"]) for b in d["buckets"])))' "$1"
}

# --- three mutants forced on: exactly three buckets, each shrunk and replayed
three=(--bug gc-untracks-zero-refcount --bug qsbr-poll-counts-offline --bug brc-queue-takes-head-lock)
camp --budget 300trials --cell-trials 50 --modes pct --variants asan -j 2 \
     --scenarios gc-cycles,qsbr-resize,cross-decref "${three[@]}" --shrink-time 20 --replays 2 \
     --out "$work/three" --history "$work/history.jsonl" >"$work/three.out" 2>"$work/three.err"; rc=$?
nb=$("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["buckets"]))' "$work/three/summary.json" 2>/dev/null)
if [ $rc -eq 1 ] && [ "$nb" = 3 ]; then ok "three mutants: exit 1, exactly three buckets"
else notok "three mutants give three buckets" "exit $rc, buckets $nb" "$(tail -5 "$work/three.err")"; fi
reps=$("$py" -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
for b in d["buckets"]:
    r = b["reproducer"] or {}
    shrunk = r.get("shrunk") and os.path.exists(os.path.join(sys.argv[2], r["shrunk"]))
    print("%s shrunk=%s %d/%d" % (b["check"], bool(shrunk), r.get("reproduced", 0), r.get("replays", 0)))
' "$work/three/summary.json" "$work/three")
if [ "$(grep -c 'shrunk=True 2/2' <<<"$reps")" = 3 ]; then ok "each bucket has a shrunk reproducer that replays 2/2"
else notok "each bucket has a shrunk reproducer that replays" "$reps"; fi
# the replay command of the summary, run by hand, reproduces
cmd=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["buckets"][0]["reproducer"]["replay"])' "$work/three/summary.json")
# shellcheck disable=SC2086
(cd "$root" && $cmd >"$work/replay.out" 2>&1); rc=$?
if [ $rc -eq 1 ]; then ok "a bucket's replay command fails again (exit 1)"
else notok "the replay command reproduces" "$cmd: exit $rc" "$(tail -3 "$work/replay.out")"; fi
if sarif_valid "$work/three/results.sarif" 3 >"$work/sarif.out" 2>&1; then ok "results.sarif validates against SARIF 2.1.0, one result per bucket"
else notok "results.sarif is valid SARIF 2.1.0 with 3 results" "$(head -8 "$work/sarif.out")"; fi
if [ "$(junit_counts "$work/three/junit.xml")" = "3 3 3" ]; then ok "junit.xml: a failing test case per bucket, no clean item"
else notok "junit.xml of three buckets" "$(junit_counts "$work/three/junit.xml")"; fi
if grep -q "^### 1\. " "$work/three/summary.md" && grep -q "Shrunk reproducer" "$work/three/summary.md" &&
   grep -q "3 buckets (3 new, 0 gone)" "$work/three/summary.md"; then ok "summary.md names the buckets, new, with their shrunk programs"
else notok "summary.md of three buckets" "$(head -5 "$work/three/summary.md")"; fi

# --- a clean campaign on the same history: no bucket, the three are gone; progress visible
camp --budget 120trials --cell-trials 20 --modes pct,free --variants asan -j 2 \
     --scenarios gc-cycles,cross-decref --out "$work/clean" --history "$work/history.jsonl" \
     >"$work/clean.out" 2>"$work/clean.err"; rc=$?
if [ $rc -eq 0 ] && grep -q "0 buckets (0 new, 3 gone)" "$work/clean/summary.md"; then ok "a clean campaign: exit 0, 0 buckets, the previous three listed as gone"
else notok "clean campaign" "exit $rc" "$(grep -m3 buckets "$work/clean/summary.md")" "$(tail -3 "$work/clean.err")"; fi
if grep -q "^campaign: .* elapsed, .* trials (.*/s); .* cells done, .* running; 0 buckets" "$work/clean.err"; then ok "the progress line is on stderr"
else notok "progress line" "$(head -3 "$work/clean.err")"; fi
if sarif_valid "$work/clean/results.sarif" 0 >"$work/sarif.out" 2>&1 && [ "$(junit_counts "$work/clean/junit.xml")" = "2 0 2" ]; then ok "clean: SARIF valid with no result, junit.xml a passing case per scenario"
else notok "clean SARIF and JUnit" "$(head -5 "$work/sarif.out")" "$(junit_counts "$work/clean/junit.xml")"; fi
rows=$(wc -l <"$work/history.jsonl")
if [ "$rows" = 2 ]; then ok "each finished campaign appended one history row"
else notok "two history rows" "$rows rows"; fi

# --- kill -9, SIGTERM and shards against one uninterrupted run of the same matrix
matrix=(--budget 400trials --cell-trials 20 --modes pct --variants asan --scenarios gc-cycles,cross-decref
        --bug gc-untracks-zero-refcount --shrink-time 0 --replays 1 --history none --quiet)
camp "${matrix[@]}" -j 2 --out "$work/whole" >/dev/null 2>"$work/whole.err"
want=$(buckets "$work/whole/summary.json")
scripts/campaign campaign --no-build "${matrix[@]}" -j 2 --out "$work/killed" >/dev/null 2>"$work/killed.err" &
pid=$!
sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + r % 300 / 100 }')"
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
scripts/campaign campaign --no-build --resume "$work/killed" -j 2 --quiet >/dev/null 2>"$work/resume.err"; rc=$?
got=$(buckets "$work/killed/summary.json" 2>&1)
if [ $rc -eq 1 ] && [ "$got" = "$want" ] && [ -n "$want" ]; then ok "kill -9 and --resume: the same trials and buckets as one uninterrupted run"
else notok "kill -9 + resume = uninterrupted" "want: $want" "got:  $got (exit $rc)" "$(tail -3 "$work/resume.err")"; fi
dups=$("$py" -c 'import json,sys; ix=[json.loads(l)["index"] for l in open(sys.argv[1]) if "\"type\": \"cell\"" in l]; print(len(ix) - len(set(ix)))' "$work/killed/journal.jsonl")
debris=$(find "$work/killed" -name '.tmp-*' | wc -l)
if [ "$dups" = 0 ] && [ "$debris" = 0 ]; then ok "the resumed journal runs no cell twice and no temporary file is left"
else notok "no duplicate cell, no debris" "duplicates $dups, .tmp files $debris"; fi
scripts/campaign campaign --no-build "${matrix[@]}" -j 2 --out "$work/termed" >/dev/null 2>"$work/termed.err" &
pid=$!
sleep 1.5; kill -TERM $pid; wait $pid; rc=$?
if [ $rc -eq 143 ] && grep -q "INTERRUPTED" "$work/termed/summary.md"; then ok "SIGTERM: exit 143, the summary so far written and marked interrupted"
else notok "SIGTERM ends gracefully" "exit $rc" "$(tail -3 "$work/termed.err")"; fi
scripts/campaign campaign --no-build --resume "$work/termed" -j 2 --quiet >/dev/null 2>&1
got=$(buckets "$work/termed/summary.json" 2>&1)
if [ "$got" = "$want" ]; then ok "SIGTERM and --resume: the same trials and buckets as one uninterrupted run"
else notok "SIGTERM + resume = uninterrupted" "want: $want" "got:  $got"; fi
camp "${matrix[@]}" -j 1 --shard 0/2 --out "$work/s0" >/dev/null 2>&1 &
camp "${matrix[@]}" -j 1 --shard 1/2 --out "$work/s1" >/dev/null 2>&1
wait
scripts/campaign merge "$work/s0" "$work/s1" --out "$work/merged" >/dev/null 2>"$work/merge.err"; rc=$?
got=$(buckets "$work/merged/summary.json" 2>&1)
if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then ok "two shards merged: the trials and buckets of one unsharded run"
else notok "shards merged = unsharded" "want: $want" "got:  $got (exit $rc)" "$(tail -3 "$work/merge.err")"; fi
scripts/campaign merge "$work/s0" "$work/s0" --out "$work/merged2" >/dev/null 2>"$work/merge2.err"; rc=$?
if [ $rc -eq 2 ] && grep -q "given twice" "$work/merge2.err"; then ok "merging a shard with itself is refused (exit 2)"
else notok "merge refuses a repeated shard" "exit $rc" "$(cat "$work/merge2.err")"; fi

[ "$n" -eq "$tests" ] || echo "# planned $tests, ran $n"
[ $failed -eq 0 ]
