#!/usr/bin/env bash
# cli.sh — end-to-end tests of the refstorm command line, run by scripts/test once per variant
# (RS_BUILD=build/<variant>), printing TAP.
#
# Covers: --help (exit 0, every subcommand), the README's CLI section equals `help --markdown`,
# `list`, usage errors (unknown flag/command/scenario/mutant: exit 2), every malformed .scn of
# corpus/scn/bad (exit 2, first stderr line FILE:LINE:COL: with the `# expect:` position and
# message), a worker crashed on purpose (--selftest-crash: a crash finding with a complete
# report folder whose report.json parses, and `repro` of that folder reproduces it), a worker
# hung on purpose (--selftest-hang: the watchdog's hang finding), and, when the executor is
# linked, that the supervisor carries on with the next trials after a crash (--json lines).
# Trials that the executor cannot run yet (VERDICT_ERROR, "could not run") are tolerated: the test
# program below uses only new_leaf/dup/drop/send/recv/spawn/join/poll/stw.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # description, then a command whose status decides
    local d=$1; shift
    if "$@"; then ok "$d"; else notok "$d"; fi
}

bad=(corpus/scn/bad/*.scn)
echo "1..$((16 + ${#bad[@]}))"

if [ ! -x "$rs" ]; then
    for i in $(seq 1 $((16 + ${#bad[@]}))); do notok "refstorm binary $rs exists"; done
    exit 1
fi

# ---- help, list, README ----
out=$("$rs" --help 2>&1); rc=$?
missing=""
for c in list run repro help; do grep -q "refstorm $c" <<<"$out" || missing+=" $c"; done
if [ $rc -eq 0 ] && [ -z "$missing" ] && grep -q "exit codes" <<<"$out"; then
    ok "--help exits 0 and lists every subcommand and the exit codes"
else
    notok "--help exits 0 and lists every subcommand" "rc=$rc missing:$missing"
fi

"$rs" help --markdown >"$work/md" 2>&1
awk '/<!-- cli:begin/{on=1; next} /<!-- cli:end/{on=0} on' README.md >"$work/readme-md"
if [ -s "$work/md" ] && diff -u "$work/readme-md" "$work/md" >"$work/md.diff"; then
    ok "README's CLI section is exactly \`refstorm help --markdown\`"
else
    notok "README's CLI section is exactly \`refstorm help --markdown\`" \
        "regenerate it: $build/refstorm help --markdown" "$(head -20 "$work/md.diff")"
fi

out=$("$rs" list 2>&1); rc=$?
missing=""
for b in $(sed -n 's/^RS_BUG([A-Z0-9_]*, *"\([^"]*\)".*/\1/p' runtime/include/rs/bugs.def); do
    grep -q -- "$b" <<<"$out" || missing+=" $b"
done
for m in free chaos pct; do grep -q "^  $m " <<<"$out" || missing+=" mode:$m"; done
if [ $rc -eq 0 ] && [ -z "$missing" ] && grep -q "scenarios" <<<"$out"; then
    ok "list exits 0 and shows scenarios, every mutant of bugs.def and every mode"
else
    notok "list shows every mutant and mode" "rc=$rc missing:$missing"
fi

# ---- usage errors ----
usage_case() { # description, args...
    local d=$1; shift
    "$rs" "$@" >"$work/out" 2>"$work/err"; local rc=$?
    if [ $rc -eq 2 ] && [ -s "$work/err" ]; then ok "$d exits 2"; else
        notok "$d exits 2" "rc=$rc" "$(head -3 "$work/err")"; fi
}
usage_case "an unknown flag" run corpus/scn/cross-decref.scn --frobnicate
usage_case "a flag of another command" list --seed 3
usage_case "an unknown command" explode
usage_case "an unknown scenario name" run no-such-scenario
usage_case "an unknown mutant" run corpus/scn/cross-decref.scn --bug no-such-bug
usage_case "a missing file" run "$work/missing.scn"

# ---- malformed .scn: exit 2 with FILE:LINE:COL: message ----
for f in "${bad[@]}"; do
    want=$(head -n 1 "$f" | sed -n 's/^# expect: \([0-9]*:[0-9]*\): \(.*\)$/\1\t\2/p')
    pos=${want%%$'\t'*} msg=${want#*$'\t'}
    "$rs" run "$f" >"$work/out" 2>"$work/err"; rc=$?
    first=$(head -n 1 "$work/err")
    if [ -n "$want" ] && [ $rc -eq 2 ] && [[ $first == "$f:$pos: "* ]] && [[ $first == *"$msg"* ]]; then
        ok "$f exits 2 with $f:$pos"
    else
        notok "$f exits 2 with $f:$pos: $msg" "rc=$rc" "got: $first"
    fi
done

# ---- the supervisor: crash, hang, repro ----
cat >"$work/simple.scn" <<'EOF'
refstorm-scn 1
name "e2e-simple"
seed 100
thread t0 main
  new_leaf r0
  dup r1 r0
  send m0 r1
  spawn t1
  join t1
  poll
  stw
  drop r0
thread t1 early spawn
  recv r2 m0
  drop r2
  poll
EOF
reports="$work/reports"

"$rs" run "$work/simple.scn" --trials 1 --selftest-crash 0 --report-dir "$reports" \
    >"$work/out" 2>"$work/err"; rc=$?
dir=$(ls -d "$reports"/*/001-crash-trial0 2>/dev/null | head -n 1)
if [ $rc -eq 1 ] && [ -n "$dir" ] && grep -q "FINDING crash (SIGSEGV)" "$work/out"; then
    ok "a worker killed by SIGSEGV is a crash finding (exit 1)"
else
    notok "a worker killed by SIGSEGV is a crash finding" "rc=$rc dir=$dir" "$(cat "$work/out" "$work/err" | head -8)"
fi

complete=1
for file in report.json report.md repro.scn sanitizer.log; do
    [ -n "$dir" ] && [ -s "$dir/$file" ] || complete=0
done
[ -n "$dir" ] && ls -a "$(dirname "$dir")" | grep -q '^\.tmp' && complete=0
check "the crash's report folder is complete (report.json, report.md, repro.scn, sanitizer.log; no temporaries)" \
    test $complete -eq 1

fields_ok() {
    python3 -m json.tool "$dir/report.json" >/dev/null 2>&1 || return 1
    python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
need = ["verdict", "check", "message", "mode", "seed", "trial", "scenario", "bugs", "variant",
        "replay", "thread", "op_index", "trace", "run_id", "finding_id"]
missing = [k for k in need if k not in r]
assert not missing, missing
assert r["verdict"] == "crash" and r["check"] == "SIGSEGV", (r["verdict"], r["check"])
assert r["seed"] == 100 and r["trial"] == 0 and r["scenario"] == "e2e-simple"
assert " repro " in r["replay"]
PY
}
check "report.json parses (python3 -m json.tool) and has the fields" fields_ok

"$rs" repro "$dir" >"$work/out" 2>"$work/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "^REPRODUCED" "$work/out"; then
    ok "refstorm repro <finding dir> reproduces the crash (exit 1)"
else
    notok "refstorm repro <finding dir> reproduces the crash" "rc=$rc" "$(cat "$work/out" "$work/err" | head -6)"
fi

"$rs" run "$work/simple.scn" --trials 1 --selftest-crash 0 --json --mode pct --seed 7 \
    --report-dir "$reports" >"$work/out" 2>"$work/err"; rc=$?
json_ok() {
    python3 - "$work/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 1, rows
r = rows[0]
for k in ["verdict", "seed", "mode", "scenario", "check", "message", "seconds", "trace", "finding"]:
    assert k in r, k
assert (r["verdict"], r["seed"], r["mode"], r["scenario"]) == ("crash", 7, "pct", "e2e-simple"), r
assert r["finding"] and r["finding"].endswith("001-crash-trial0"), r
PY
}
if [ $rc -eq 1 ] && json_ok >"$work/json.err" 2>&1; then
    ok "--json prints one object per trial with verdict, seed, mode, scenario, check, message, seconds, trace"
else
    notok "--json prints one object per trial" "rc=$rc" "$(tail -3 "$work/json.err")" "$(head -3 "$work/out")"
fi

"$rs" run "$work/simple.scn" --trials 1 --selftest-hang 0 --watchdog 1 --report-dir "$reports" \
    >"$work/out" 2>"$work/err"; rc=$?
hdir=$(ls -d "$reports"/*/001-hang-trial0 2>/dev/null | head -n 1)
dump_ok=1 # with gdb installed, the hung worker's stacks are in the report
if command -v gdb >/dev/null 2>&1; then
    [ -n "$hdir" ] && grep -q "worker_main" "$hdir/thread_dump.txt" 2>/dev/null || dump_ok=0
fi
if [ $rc -eq 1 ] && grep -q "FINDING hang (watchdog)" "$work/out" && [ -n "$hdir" ] && \
   [ $dump_ok -eq 1 ]; then
    ok "a worker that stops reporting is a hang finding after --watchdog, with a gdb thread dump"
else
    notok "a worker that stops reporting is a hang finding" "rc=$rc dir=$hdir dump_ok=$dump_ok" "$(cat "$work/out" "$work/err" | head -6)"
fi

# a crashing worker costs one trial: the supervisor starts a new one and carries on
"$rs" run "$work/simple.scn" --trials 3 --selftest-crash 1 --json --report-dir "$reports" \
    >"$work/out" 2>"$work/err"; rc=$?
trials=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(" ".join("%d:%s" % (r["trial"], r["verdict"]) for r in rows))' "$work/out" 2>&1)
if [ $rc -eq 1 ] && [[ $trials == "0:"*" 1:crash 2:"* ]]; then
    ok "the supervisor carries on after a crash (trials: $trials)"
else
    notok "the supervisor carries on after a crash" "rc=$rc trials: $trials" "$(head -5 "$work/err")"
fi

[ $failed -eq 0 ]
