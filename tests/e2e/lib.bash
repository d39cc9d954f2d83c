# lib.bash — sourced by every tests/e2e/*.sh (not a test itself: scripts/test runs *.sh only).
# Sets: root (and cd there), build (RS_BUILD, default build/asan), variant (RS_VARIANT, default
# the build's name), rs (the refstorm binary under test), work (a scratch directory removed on
# exit), and the TAP helpers: ok TEXT; notok TEXT [DETAIL...]; skip TEXT — counted in n and
# failed.  The script prints its plan ("1..N") itself.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
build=${RS_BUILD:-build/asan}
variant=${RS_VARIANT:-$(basename "$build")}
rs="$root/$build/refstorm"
work=$(mktemp -d "${TMPDIR:-/tmp}/rs-e2e-$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
