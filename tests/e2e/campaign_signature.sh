#!/usr/bin/env bash
# campaign_signature.sh — the campaign's signatures (campaign/signature.py) on real finding
# folders kept in tests/data/signature/ (TSan races from two trials each, a UBSan report, a
# leak, an invariant): each gives its recorded signature (expected.txt); two reports of one race
# from different trials (other addresses, threads, pids) share it; a report whose racing
# function is renamed does not.  Runs in the asan pass only (it runs no binary).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

tests=3
echo "1..$tests"
if [ "$variant" != asan ]; then
    for i in $(seq 1 $tests); do skip "signatures are tested in the asan pass only"; done
    exit 0
fi
data=tests/data/signature
sig() { python3 -c 'import sys; sys.path.insert(0, "."); from campaign import signature as s; print(s.of_folder(sys.argv[1])["signature"])' "$1"; }

diffs=$(while read -r name want; do
    got=$(sig "$data/$name")
    [ "$got" = "$want" ] || echo "$name: got '$got', recorded '$want'"
done <"$data/expected.txt")
if [ -z "$diffs" ]; then ok "every kept finding gives its recorded signature"
else notok "recorded signatures" "$diffs"; fi

if [ "$(sig $data/00-sanitizer)" = "$(sig $data/01-sanitizer)" ] &&
   ! cmp -s $data/00-sanitizer/sanitizer.log $data/01-sanitizer/sanitizer.log &&
   [ "$(sig $data/02-sanitizer)" != "$(sig $data/00-sanitizer)" ]; then
    ok "one race from two trials is one signature; another race pair is another"
else notok "race signatures" "$(sig $data/00-sanitizer) / $(sig $data/01-sanitizer) / $(sig $data/02-sanitizer)"; fi

cp -r $data/00-sanitizer "$work/renamed"
sed -i '0,/#0 rs_new_reference/s//#0 rs_other_function/' "$work/renamed/sanitizer.log"
if [ "$(sig "$work/renamed")" != "$(sig $data/00-sanitizer)" ]; then ok "a different racing function gives a different signature"
else notok "the signature sees the racing function" "$(sig "$work/renamed")"; fi
[ "$n" -eq "$tests" ] || echo "# planned $tests, ran $n"
[ $failed -eq 0 ]
