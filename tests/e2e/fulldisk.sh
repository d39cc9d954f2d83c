#!/usr/bin/env bash
# fulldisk.sh — end-to-end: a finding on a full disk (issue "robust under interruption ...",
# item 2).  The report folder cannot be written: the error names the real cause (ENOSPC, "No
# space left on device"), the run exits 3, and no empty run folder is left.  Needs a small
# tmpfs (mount, as root); skipped where mounting is not allowed.  Run by scripts/test once per
# variant, printing TAP.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..1"
mnt=$work/full
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=32k tmpfs "$mnt" 2>/dev/null; then
    skip "cannot mount a tmpfs here (not root, or no permission)"
    exit 0
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$work"' EXIT
# leave about 8 KiB: the probe file fits, a finding folder does not
dd if=/dev/zero of="$mnt/fill" bs=1k count=24 2>/dev/null
"$rs" run corpus/scn/exec-merge-request.scn --mode pct --seed 7 --trials 1 --bug merge-request-lost \
    --report-dir "$mnt/rep" >"$work/out" 2>&1; rc=$?
runs=$(find "$mnt/rep" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
if [ $rc -eq 3 ] && grep -q "No space left on device" "$work/out" && [ "$runs" -eq 0 ]; then
    ok "a full disk: the finding's write fails naming ENOSPC, exit 3, no empty run folder"
else notok "a full disk is reported as such" "rc=$rc run folders=$runs" "$(head -2 "$work/out")"; fi

[ $failed -eq 0 ]
