#!/usr/bin/env bash
# fuzz.sh — end-to-end: the libFuzzer targets (build/fuzz, build/fuzz-tsan).  fuzz_program runs
# its seed corpus clean, under ASan/UBSan and TSan; the determinism self-check holds on every
# seed in both builds; a count-bounded fuzzing session on the clean runtime finds nothing; a
# mutant's encoded reproducer crashes it with the mutant on, and the crash file becomes a finding
# folder (`refstorm import`) that `refstorm repro` reproduces; a program outside the model's
# contract is rejected, not reported; fuzz_scn round-trips its corpus; the ClusterFuzzLite
# build script builds both targets with the OSS-Fuzz variables.  Budgets are runs, never
# seconds.  Runs once, in the asan pass of scripts/test (the fuzz builds are their own variants).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

tests=12
echo "1..$tests"
if [ "$variant" != asan ]; then
    for i in $(seq 1 $tests); do skip "fuzz targets are tested in the asan pass only"; done
    exit 0
fi

if ninja fuzz fuzz-tsan >"$work/build.log" 2>&1; then ok "ninja fuzz fuzz-tsan builds the targets"
else notok "ninja fuzz fuzz-tsan builds" "$(tail -5 "$work/build.log")"; fi
fp=build/fuzz/fuzz_program
fpt=build/fuzz-tsan/fuzz_program
corpus=corpus/fuzz_program
seeds=$(find "$corpus" -type f | wc -l)
# libFuzzer: -runs=0 runs each given input once; artifacts into $work, never the checkout
lf() { "$@" -artifact_prefix="$work/" >"$work/lf.log" 2>&1; }

lf "$fp" -runs=0 "$corpus"; rc=$?
if [ $rc -eq 0 ] && grep -q "INITED" "$work/lf.log"; then ok "fuzz_program runs its $seeds seeds clean (ASan, UBSan)"
else notok "fuzz_program runs its corpus clean" "rc=$rc" "$(grep -m3 'fuzz_program:\|ERROR' "$work/lf.log")"; fi

RS_FUZZ_SELFCHECK=1 lf "$fp" -runs=0 "$corpus"; rc=$?
if [ $rc -eq 0 ]; then ok "determinism self-check: every seed twice, same verdict, switches and op log (ASan)"
else notok "self-check holds (ASan)" "rc=$rc" "$(grep -m3 'fuzz_program:' "$work/lf.log")"; fi

TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" RS_FUZZ_SELFCHECK=1 lf "$fpt" -runs=0 "$corpus"; rc=$?
if [ $rc -eq 0 ]; then ok "fuzz-tsan: every seed clean and deterministic under TSan"
else notok "fuzz-tsan self-check holds" "rc=$rc" "$(grep -m3 'fuzz_program:\|WARNING: ThreadSanitizer' "$work/lf.log")"; fi

# fuzzing proper, bounded by runs: mutated inputs on the clean runtime give no finding
cp -r "$corpus" "$work/grow"
lf "$fp" -runs=300 -seed=1 -timeout=120 "$work/grow"; rc=$?
if [ $rc -eq 0 ] && grep -q "DONE" "$work/lf.log"; then
    ok "300 fuzzed inputs on the clean runtime: no finding ($(grep -o 'cov: [0-9]*' "$work/lf.log" | tail -1))"
else notok "300 fuzzed inputs find nothing on the clean runtime" "rc=$rc" "$(grep -m6 'fuzz_program:\|ERROR\|^  ' "$work/lf.log")"; fi

# a mutant's reproducer, encoded: the fuzzer crashes on it with the mutant on, passes without
m=brc-queue-takes-head-lock
mkdir -p "$work/seeds"
"$rs" encode "corpus/mutants/$m.scn" --out "$work/seeds/$m.bin" --seed 1 >"$work/enc.out" 2>&1; rc=$?
# a folder, not a file: libFuzzer writes a crash file only for inputs it loads as a corpus
RS_FUZZ_BUGS=$m lf "$fp" -runs=0 "$work/seeds"; frc=$?
crash=$(find "$work" -maxdepth 1 -name 'crash-*' | head -1)
if [ $rc -eq 0 ] && [ $frc -ne 0 ] && [ -n "$crash" ] && grep -q "finding: verdict invariant (LO)" "$work/lf.log"; then
    ok "$m encoded: fuzz_program with RS_FUZZ_BUGS=$m crashes with its LO finding and writes the crash file"
else notok "$m's encoded reproducer crashes fuzz_program" "encode rc=$rc fuzz rc=$frc crash=$crash" "$(cat "$work/enc.out"; grep -m3 'fuzz_program:' "$work/lf.log")"; fi
lf "$fp" "$work/seeds/$m.bin"; rc=$?
if [ $rc -eq 0 ]; then ok "the same input passes without the mutant"
else notok "the encoded reproducer passes without the mutant" "rc=$rc" "$(grep -m3 'fuzz_program:' "$work/lf.log")"; fi

if [ -n "$crash" ]; then
    "$rs" import "$crash" --bug "$m" --report-dir "$work/rep" --quiet >"$work/imp.out" 2>&1; rc=$?
    dir=$(find "$work/rep" -mindepth 2 -maxdepth 2 -type d | head -1)
    "$rs" repro "$dir" >"$work/rep.out" 2>&1; rrc=$?
    build/tsan/refstorm repro "$dir" >"$work/rept.out" 2>&1; trc=$?
    if [ $rc -eq 1 ] && [ -n "$dir" ] && [ -f "$dir/repro.scn" ] && [ $rrc -eq 1 ] &&
       grep -q '^REPRODUCED' "$work/rep.out" && [ $trc -eq 1 ] && grep -q '^REPRODUCED' "$work/rept.out"; then
        ok "refstorm import turns the crash file into a finding folder that repro reproduces (asan and tsan builds)"
    else notok "import + repro reproduce the crash" "import rc=$rc dir=$dir repro rc=$rrc tsan repro rc=$trc" \
        "$(cat "$work/imp.out" "$work/rep.out" "$work/rept.out" | tail -6)"; fi
else
    notok "import + repro reproduce the crash" "no crash file"
fi

# TSan through the fuzz target: a TSan-detected mutant's encoded reproducer races in fuzz-tsan
m=reftotal-racy
"$rs" encode "corpus/mutants/$m.scn" --out "$work/$m.bin" >/dev/null 2>&1
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" RS_FUZZ_BUGS=$m lf "$fpt" "$work/$m.bin"; rc=$?
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" lf "$fpt" "$work/$m.bin"; crc=$?
if [ $rc -ne 0 ] && [ $crc -eq 0 ]; then ok "fuzz-tsan: $m's encoded reproducer is a TSan report with the mutant, clean without"
else notok "fuzz-tsan reports $m's race" "with rc=$rc without rc=$crc"; fi

# outside the contract: a cycle left in a late root leaks by the model's step 7
cat >"$work/late.scn" <<'EOF'
refstorm-scn 1
name "late-cycle"
seed 1
thread t0 main
  new_list r0
  late_root_set l0 r0
  list_append r0 r0
EOF
"$rs" run "$work/late.scn" --mode pct --trials 1 --quiet >"$work/late.out" 2>&1; rc=$?
"$rs" encode "$work/late.scn" --out "$work/late.bin" >/dev/null 2>&1
lf "$fp" "$work/late.bin"; frc=$?
if [ $rc -eq 2 ] && grep -q "contract" "$work/late.out" && [ $frc -eq 0 ]; then
    ok "a cycle left in a late root is 'contract' (exit 2), not a leak; fuzz_program rejects it quietly"
else notok "a late-root cycle is a contract error, not a finding" "run rc=$rc fuzz rc=$frc" "$(tail -2 "$work/late.out")"; fi

lf build/fuzz/fuzz_scn -runs=2000 -seed=1 "$(mktemp -d "$work/scn.XXXX")" corpus/fuzz_scn; rc=$?
if [ $rc -eq 0 ]; then ok "fuzz_scn: 2000 runs over its corpus, no crash"
else notok "fuzz_scn runs clean" "rc=$rc" "$(grep -m3 'ERROR\|fuzz_scn' "$work/lf.log")"; fi

# the OSS-Fuzz/ClusterFuzzLite build, with clang's libFuzzer standing in for the engine
mkdir -p "$work/cfl"
if CC=clang CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$work/cfl" WORK="$work" \
   .clusterfuzzlite/build.sh >"$work/cfl.log" 2>&1 &&
   [ -x "$work/cfl/fuzz_program" ] && [ -x "$work/cfl/fuzz_scn" ] &&
   [ -f "$work/cfl/fuzz_program_seed_corpus.zip" ] && [ -f "$work/cfl/fuzz_program.options" ] &&
   lf "$work/cfl/fuzz_program" -runs=0 "$corpus" &&
   lf "$work/cfl/fuzz_scn" -runs=500 -seed=1 "$(mktemp -d "$work/cflscn.XXXX")" corpus/fuzz_scn; then
    ok ".clusterfuzzlite/build.sh builds both targets with options and seed zips; they run their corpora"
else notok ".clusterfuzzlite/build.sh builds and its targets run" "$(tail -5 "$work/cfl.log" "$work/lf.log" 2>/dev/null)"; fi

[ $failed -eq 0 ]
