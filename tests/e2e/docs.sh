#!/usr/bin/env bash
# docs.sh — the documentation says what the code does (scripts/check-docs): every check code
# the code can emit is in docs/checks.md, every `model.md §N` a comment cites exists, every
# path a document names exists.  The checker is itself shown to fail: a copy of the tree
# whose glossary lacks E3 must be refused, naming E3.  Variant-independent (it reads sources).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..2"
if scripts/check-docs >"$work/out" 2>&1; then
    ok "scripts/check-docs: glossary, section references and document paths agree with the code"
else
    notok "scripts/check-docs passes" "$(head -20 "$work/out")"
fi

mkdir -p "$work/tree/scripts"
cp -r runtime harness scenarios tests docs README.md "$work/tree/"
cp scripts/check-docs "$work/tree/scripts/"
sed -i '/^### E3$/d' "$work/tree/docs/checks.md"
sed -i '/^E3$/d' "$work/tree/docs/check-codes.txt"
if "$work/tree/scripts/check-docs" >"$work/out" 2>&1; then
    notok "check-docs fails when the glossary lacks an emitted code" "it passed"
elif grep -q "check code 'E3'" "$work/out"; then
    ok "check-docs fails when the glossary lacks an emitted code (E3), naming it"
else
    notok "check-docs names the missing code" "$(head -5 "$work/out")"
fi

[ $failed -eq 0 ]
