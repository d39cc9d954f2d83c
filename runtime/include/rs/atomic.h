/* atomic.h — the only file that includes <stdatomic.h>.
 *
 * Every operation carries its memory order in its name:
 *   rs_atomic_<op>_<order>_<type>(ptr, ...)
 * op    : load, store, exchange, cas (strong compare-exchange, updates *expected on failure),
 *         add (fetch-add, returns the old value), or, and (fetch-or/and, return the old value)
 * order : relaxed, acquire, release, acq_rel, seq_cst (only the meaningful combinations exist)
 * type  : u8, u16, u32, int, i64, u64, iptr (intptr_t), uptr (uintptr_t), ptr (void *)
 *
 * Shared fields are declared with the RS_ATOMIC(T) qualifier so that plain accesses do not
 * compile silently.  No volatile, no inline asm: ThreadSanitizer must see every access.
 * The one fence the runtime needs (QSBR poll) is rs_atomic_fence_seq_cst below; call sites
 * must say which operation it pairs with.
 *
 * Plain, deliberately racy accesses used by mutants go through rs_racy_* so that they are easy
 * to find and TSan still reports them (they are ordinary loads/stores of non-atomic objects,
 * reached through a cast that strips the _Atomic qualifier). */
#ifndef RS_ATOMIC_H
#define RS_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RS_ATOMIC(T) _Atomic(T)

#define RS__MO_relaxed memory_order_relaxed
#define RS__MO_acquire memory_order_acquire
#define RS__MO_release memory_order_release
#define RS__MO_acq_rel memory_order_acq_rel
#define RS__MO_seq_cst memory_order_seq_cst

/* failure order of a CAS: the strongest allowed that is not stronger than the success order */
#define RS__FAIL_relaxed memory_order_relaxed
#define RS__FAIL_acquire memory_order_acquire
#define RS__FAIL_release memory_order_relaxed
#define RS__FAIL_acq_rel memory_order_acquire
#define RS__FAIL_seq_cst memory_order_seq_cst

#define RS__DEF_LOAD(T, N, O)                                                          \
    static inline T rs_atomic_load_##O##_##N(const _Atomic(T) *p)                       \
    { return atomic_load_explicit((_Atomic(T) *)p, RS__MO_##O); }
#define RS__DEF_STORE(T, N, O)                                                         \
    static inline void rs_atomic_store_##O##_##N(_Atomic(T) *p, T v)                   \
    { atomic_store_explicit(p, v, RS__MO_##O); }
#define RS__DEF_XCHG(T, N, O)                                                          \
    static inline T rs_atomic_exchange_##O##_##N(_Atomic(T) *p, T v)                    \
    { return atomic_exchange_explicit(p, v, RS__MO_##O); }
#define RS__DEF_CAS(T, N, O)                                                           \
    static inline bool rs_atomic_cas_##O##_##N(_Atomic(T) *p, T *expected, T desired)  \
    { return atomic_compare_exchange_strong_explicit(p, expected, desired, RS__MO_##O,  \
                                                     RS__FAIL_##O); }
#define RS__DEF_RMW(T, N, O)                                                           \
    static inline T rs_atomic_add_##O##_##N(_Atomic(T) *p, T v)                         \
    { return atomic_fetch_add_explicit(p, v, RS__MO_##O); }                             \
    static inline T rs_atomic_or_##O##_##N(_Atomic(T) *p, T v)                          \
    { return atomic_fetch_or_explicit(p, v, RS__MO_##O); }                              \
    static inline T rs_atomic_and_##O##_##N(_Atomic(T) *p, T v)                         \
    { return atomic_fetch_and_explicit(p, v, RS__MO_##O); }

#define RS__DEF_COMMON(T, N)                                                           \
    RS__DEF_LOAD(T, N, relaxed) RS__DEF_LOAD(T, N, acquire) RS__DEF_LOAD(T, N, seq_cst) \
    RS__DEF_STORE(T, N, relaxed) RS__DEF_STORE(T, N, release) RS__DEF_STORE(T, N, seq_cst) \
    RS__DEF_XCHG(T, N, relaxed) RS__DEF_XCHG(T, N, acquire) RS__DEF_XCHG(T, N, release) \
    RS__DEF_XCHG(T, N, acq_rel) RS__DEF_XCHG(T, N, seq_cst)                              \
    RS__DEF_CAS(T, N, relaxed) RS__DEF_CAS(T, N, acquire) RS__DEF_CAS(T, N, release)    \
    RS__DEF_CAS(T, N, acq_rel) RS__DEF_CAS(T, N, seq_cst)                                \
    static inline T rs_racy_load_##N(const _Atomic(T) *p) { return *(const T *)p; }     \
    static inline void rs_racy_store_##N(_Atomic(T) *p, T v) { *(T *)p = v; }

#define RS__DEF_INT(T, N)                                                              \
    RS__DEF_COMMON(T, N)                                                                \
    RS__DEF_RMW(T, N, relaxed) RS__DEF_RMW(T, N, acquire) RS__DEF_RMW(T, N, release)    \
    RS__DEF_RMW(T, N, acq_rel) RS__DEF_RMW(T, N, seq_cst)

RS__DEF_INT(uint8_t, u8)
RS__DEF_INT(uint16_t, u16)
RS__DEF_INT(uint32_t, u32)
RS__DEF_INT(int, int)
RS__DEF_INT(int64_t, i64)
RS__DEF_INT(uint64_t, u64)
RS__DEF_INT(intptr_t, iptr)
RS__DEF_INT(uintptr_t, uptr)
typedef void *rs__vptr;
RS__DEF_COMMON(rs__vptr, ptr)

/* Sequentially consistent fence.  TSan does not model fences; the one algorithm that needs it
 * (QSBR poll, pairing with the seq_cst store of rs_qsbr_attach) also uses seq_cst accesses on
 * both sides, so the fence adds ordering on real hardware without hiding anything from TSan. */
static inline void rs_atomic_fence_seq_cst(void) { atomic_thread_fence(memory_order_seq_cst); }

/* Compiler-only barrier (emits no instruction): keeps benchmarks' loops honest. */
static inline void rs_compiler_barrier(void) { atomic_signal_fence(memory_order_seq_cst); }

/* Automatic schedule points (model.md §13).  When the runtime is compiled with RS_AUTO_POINTS
 * (every variant but release; scripts/gen-build), every operation above, in every runtime
 * file, first passes rs_auto_point() with a static record of its call site, so that a
 * scheduler may preempt the thread between any two synchronising operations, not only at
 * the named RS_SCHED points.  A file that must not be preempted inside (the parking lot's
 * spin locks, the hook table itself) defines RS_NO_AUTO_POINTS before its first include.
 * Code outside runtime/ never has them: a driver's own atomics stay plain. */
#if defined(RS_AUTO_POINTS) && defined(RS_RUNTIME_INTERNAL) && !defined(RS_NO_AUTO_POINTS)
#include "rs/hooks.h"
#define RS__POINT_STR2(x) #x
#define RS__POINT_STR(x) RS__POINT_STR2(x)
/* a pointer to this call site's static record: "runtime/heap.c:536 store release", function */
#define RS__SITE(op)                                                                     \
    ({ static const rs_site rs__site_ = {__FILE__ ":" RS__POINT_STR(__LINE__) " " op,    \
                                         __func__};                                      \
       &rs__site_; })
#define RS__POINT_CALL(op, fn, ...) (rs_auto_point(RS__SITE(op)), (fn)(__VA_ARGS__))
#include "rs/atomic_points.h"
#endif

#endif /* RS_ATOMIC_H */
