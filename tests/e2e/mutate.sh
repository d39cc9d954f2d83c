#!/usr/bin/env bash
# mutate.sh — scripts/mutate's sites and mutations, without the (minutes-long) builds: --list
# names sites of all four operators in runtime/ (not the witness, an oracle); each listed line
# holds what its operator changes; applying one site of each operator to a copy of the tree
# changes exactly those lines the way the operator says.  Variant-independent (it reads sources).
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

echo "1..3"
scripts/mutate --list >"$work/list" 2>"$work/err"
nsites=$(wc -l <"$work/list")
if [ "$nsites" -ge 100 ] && grep -q ":order " "$work/list" && grep -q ":lock " "$work/list" \
    && grep -q ":swap " "$work/list" && grep -q ":delete " "$work/list" \
    && ! grep -q "^runtime/witness.c" "$work/list"; then
    ok "mutate --list: $nsites sites, all four operators, none in the witness"
else
    notok "mutate --list" "$nsites sites" "$(head -3 "$work/err")"
fi

bad=$(while read -r site _; do
    f=${site%%:*}; rest=${site#*:}; line=${rest%%:*}; op=${rest#*:}
    text=$(sed -n "${line}p" "$f")
    case $op in
        order) grep -Eq 'rs_atomic_[a-z]+_(acquire|release|acq_rel|seq_cst)_|rs_atomic_fence_seq_cst' <<<"$text" || echo "$site" ;;
        lock) grep -Eq 'rs_mutex_lock|rs_head_lock' <<<"$text" || echo "$site" ;;
        swap) next=$(sed -n "$((line + 1))p" "$f")
              { grep -Eq '= |rs_atomic_store_' <<<"$text" && grep -Eq '= |rs_atomic_store_' <<<"$next" &&
                [ "$text" != "$next" ]; } || echo "$site" ;;
        delete) grep -Eq '^ *rs_[a-z0-9_]+\(.*\); *$' <<<"$text" || echo "$site" ;;
        *) echo "$site" ;;
    esac
done <"$work/list")
if [ -z "$bad" ]; then ok "every listed line holds what its operator changes"; else
    notok "listed lines hold their operator's target" "$(head -3 <<<"$bad")"; fi

mkdir -p "$work/tree"
cp -r runtime "$work/tree/"
order=$(grep -m1 ":order .* acquire -> relaxed" "$work/list" | cut -d' ' -f1)
lock=$(grep -m1 ":lock " "$work/list" | cut -d' ' -f1)
swap=$(grep -m1 ":swap " "$work/list" | cut -d' ' -f1)
delete=$(grep -m1 ":delete " "$work/list" | cut -d' ' -f1)
if msg=$(python3 - "$work/tree" "$order" "$lock" "$swap" "$delete" <<'PY'
import importlib.machinery, importlib.util, os, subprocess, sys
loader = importlib.machinery.SourceFileLoader("mutate", "scripts/mutate")
spec = importlib.util.spec_from_loader("mutate", loader)
m = importlib.util.module_from_spec(spec)
loader.exec_module(m)
tree, keys = sys.argv[1], sys.argv[2:]
sites = {m.key(s): s for s in m.sites(".")}
for k in keys:
    s = sites[k]
    before = open(os.path.join(tree, s[0])).read().split("\n")
    original = m.apply(tree, s)
    after = open(os.path.join(tree, s[0])).read().split("\n")
    changed = [i + 1 for i, (a, b) in enumerate(zip(before, after)) if a != b]
    if s[2] == "order":
        ok = changed == [s[1]] and "_acquire_" in before[s[1] - 1] and "_relaxed_" in after[s[1] - 1]
    elif s[2] == "swap":
        i = s[1] - 1
        ok = changed == [s[1], s[1] + 1] and after[i] == before[i + 1] and after[i + 1] == before[i]
    elif s[2] == "delete":
        ok = changed == [s[1]] and "refstorm mutate" in after[s[1] - 1] and "rs_" in before[s[1] - 1]
    else:
        ok = len(changed) == 2 and changed[0] == s[1] and all("refstorm mutate" in after[i - 1] for i in changed)
    open(os.path.join(tree, s[0]), "w").write(original)
    if not ok:
        print("%s: changed lines %s" % (k, changed))
        sys.exit(1)
PY
); then ok "applying $order, $lock, $swap and $delete changes exactly their lines"; else
    notok "apply changes exactly the site's lines" "$msg"; fi

[ $failed -eq 0 ]
