#!/usr/bin/env bash
# corpus.sh — end-to-end: the regression corpus of the mutants (corpus/mutants/NAME.scn, built
# by scripts/corpus-mutants).  Each entry's first line
#   # corpus: mutant=NAME variant=V mode=M seed=S check=C tries=K
# says how it replays.  In the entry's variant (V: the one its detector needs, and the one it
# was measured in), the program must fail with check C when mutant NAME is on (K trials from
# seed S in mode M: K = 1 for deterministic pct replays, more where the mode is free-running
# and the measured per-trial rate makes a miss less likely than one in a million), and pass
# the same K trials with the mutant off.  Also: every mutant of runtime/include/rs/bugs.def has an entry.
# Run by scripts/test once per variant (RS_BUILD=build/<variant>, RS_VARIANT), printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

mapfile -t mutants < <(sed -n 's/^RS_BUG([A-Z0-9_]*, *"\([a-z0-9-]*\)".*/\1/p' runtime/include/rs/bugs.def)
missing=()
for m in "${mutants[@]}"; do [ -f "corpus/mutants/$m.scn" ] || missing+=("$m"); done
if [ ${#missing[@]} -eq 0 ]; then ok "every mutant of bugs.def has a corpus entry (${#mutants[@]})"
else notok "every mutant of bugs.def has a corpus entry" "missing: ${missing[*]}"; fi

kv() { sed -n "1s/.* $1=\([^ ]*\).*/\1/p" "$2"; }

for f in corpus/mutants/*.scn; do
    name=$(kv mutant "$f") v=$(kv variant "$f") mode=$(kv mode "$f") seed=$(kv seed "$f")
    check=$(kv check "$f") tries=$(kv tries "$f")
    if [ -z "$name" ] || [ -z "$mode" ] || [ -z "$seed" ] || [ -z "$check" ] || [ -z "$tries" ]; then
        notok "$f has a '# corpus:' first line" "$(head -1 "$f")"
        continue
    fi
    if [ "$variant" != "$v" ]; then
        skip "$name: replays in $v"
        skip "$name: passes without the mutant in $v"
        continue
    fi
    rm -rf "$work/on"
    "$rs" run "$f" --mode "$mode" --seed "$seed" --trials "$tries" --bug "$name" --quiet \
        --report-dir "$work/on" >"$work/out" 2>&1; rc=$?
    if [ $rc -eq 1 ] && grep -rqs "\"check\": \"$check\"" "$work/on"; then
        ok "$name: $f fails with $check ($mode, seed $seed, $tries trial(s))"
    else
        notok "$name: $f fails with $check ($mode, seed $seed, $tries trial(s))" "rc=$rc" \
            "$(grep -rhs '"check"' "$work/on" | sort | uniq -c | head -3)" "$(tail -2 "$work/out")"
    fi
    "$rs" run "$f" --mode "$mode" --seed "$seed" --trials "$tries" --quiet \
        --report-dir "$work/off" >"$work/out" 2>&1; rc=$?
    if [ $rc -eq 0 ]; then ok "$name: $f passes without the mutant"
    else notok "$name: $f passes without the mutant" "rc=$rc" "$(tail -3 "$work/out")"; fi
done
echo "1..$n"
[ $failed -eq 0 ]
