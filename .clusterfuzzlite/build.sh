#!/bin/bash -eu
# .clusterfuzzlite/build.sh — builds refstorm's libFuzzer targets the OSS-Fuzz way, for
# ClusterFuzzLite (and any engine that sets the same variables).  Honours $CC, $CFLAGS,
# $LIB_FUZZING_ENGINE and $OUT (and $SRC/refstorm as the checkout, or the folder above this
# script); copies each target with its .options file and a seed-corpus zip to $OUT.
# tests/e2e/fuzz.sh runs it on this machine with clang's libFuzzer flags.
#
# The layers and defines are scripts/gen-build's fuzz variant without its sanitizer flags
# (the engine brings those in $CFLAGS): the runtime with RS_RUNTIME_INTERNAL, automatic
# schedule points and the lock-order witness; harness base, program, sched and exec; then
# harness/fuzz/fuzz_<x>.c linked with $LIB_FUZZING_ENGINE.
root=${SRC:+$SRC/refstorm}
[ -n "$root" ] && [ -d "$root" ] || root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
obj=${WORK:-$(mktemp -d)}/refstorm-obj
rm -rf "$obj" && mkdir -p "$obj"
common="-std=c11 -D_GNU_SOURCE -pthread -g -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION=1 -DRS_AUTO_POINTS -DRS_LOCK_WITNESS"
# the automatic points' hot path stays uninstrumented, as in `ninja fuzz` (the file says why)
case "$CFLAGS" in *fuzzer-no-link*) common="$common -fsanitize-coverage-ignorelist=$root/harness/fuzz/coverage-ignore.txt" ;; esac
objs=()
compile() { # source include-flags...
    local src=$1; shift
    local o=$obj/$(echo "$src" | tr / _).o
    # shellcheck disable=SC2086
    $CC $CFLAGS $common "$@" -c "$src" -o "$o"
    objs+=("$o")
}
for f in runtime/*.c; do compile "$f" -Iruntime -Iruntime/include -DRS_RUNTIME_INTERNAL; done
inc="-Iharness/base -Iharness/program -Iharness/sched -Iharness/exec -Iruntime/include"
for layer in base program sched exec; do
    for f in harness/$layer/*.c; do
        # shellcheck disable=SC2086
        compile "$f" $inc
    done
done
for f in harness/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    # shellcheck disable=SC2086
    $CC $CFLAGS $common $inc -Iharness/fuzz -c "$f" -o "$obj/$t.o"
    # shellcheck disable=SC2086
    $CC $CFLAGS $LIB_FUZZING_ENGINE -pthread "$obj/$t.o" "${objs[@]}" -o "$OUT/$t"
    [ ! -f "harness/fuzz/$t.options" ] || cp "harness/fuzz/$t.options" "$OUT/"
    if [ -d "corpus/$t" ]; then
        rm -f "$OUT/${t}_seed_corpus.zip"
        (cd "corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    fi
done
