/*
 * own_stack.c - run a function on the calling thread, on a stack of its
 * own, with makecontext/swapcontext (see own_stack.h).  The stack is an
 * anonymous mapping touched only as deep as the function goes, with a
 * PROT_NONE page below it so an overflow faults (and the crash report,
 * which runs on the thread's alternate signal stack, names it) instead of
 * writing into other memory.  It is mapped once and kept: a mapping
 * change, and more so an munmap with other threads alive, is costly
 * (docs/design.md, "Costs measured on the project's VM").
 *
 * Must never return to the caller before fn has returned, never let two
 * calls share the stack, and never unmap it while fn runs.
 */
#include "own_stack.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OWN_STACK_USABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OWN_STACK_USABLE 0
#endif
#endif
#ifndef OWN_STACK_USABLE
#define OWN_STACK_USABLE 1
#endif

/* makecontext passes only int arguments, so the call travels through a
 * thread-local slot, read once at the start of the new context. */
typedef struct own_stack_call {
    void (*fn)(void *);
    void *arg;
} own_stack_call;

static _Thread_local own_stack_call *pending_call;

static void own_stack_entry(void)
{
    own_stack_call *call = pending_call;
    pending_call = NULL;
    call->fn(call->arg);
    /* returning resumes uc_link: the caller's swapcontext */
}

/* The kept stack for `bytes` (rounded up to whole pages), mapped on first
 * use; one size per stack (the pool asks for one), so a call for another
 * size is refused.  The caller holds st->in_use. */
static int keep_stack(wsrt_own_stack *st, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    bytes = (bytes + page - 1) / page * page;
    if (st->base)
        return st->bytes == bytes ? 0 : -1;
    char *base = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
        return -1;
    if (mprotect(base, page, PROT_NONE) != 0) {
        munmap(base, bytes + page);
        return -1;
    }
    st->base = base;
    st->bytes = bytes;
    st->guard = page;
    return 0;
}

int wsrt_run_on_own_stack(wsrt_own_stack *st, void (*fn)(void *), void *arg, size_t bytes)
{
    if (!OWN_STACK_USABLE)
        return -1;
    if (atomic_flag_test_and_set_explicit(&st->in_use, memory_order_acq_rel))
        return -1; /* an outer call is on it */
    int rc = -1;
    ucontext_t caller, callee;
    if (keep_stack(st, bytes) == 0 && getcontext(&callee) == 0) {
        callee.uc_stack.ss_sp = st->base + st->guard;
        callee.uc_stack.ss_size = st->bytes;
        callee.uc_link = &caller;
        makecontext(&callee, own_stack_entry, 0);
        own_stack_call call = {fn, arg};
        pending_call = &call;
        if (swapcontext(&caller, &callee) == 0)
            rc = 0;
        pending_call = NULL;
    }
    /* release: the next caller sees st->base and st->bytes. */
    atomic_flag_clear_explicit(&st->in_use, memory_order_release);
    return rc;
}

int wsrt_own_stack_reserve(wsrt_own_stack *st, size_t bytes)
{
    if (!OWN_STACK_USABLE)
        return -1;
    if (atomic_flag_test_and_set_explicit(&st->in_use, memory_order_acq_rel))
        return -1; /* a call is on it */
    int rc = keep_stack(st, bytes);
    /* release: as in wsrt_run_on_own_stack */
    atomic_flag_clear_explicit(&st->in_use, memory_order_release);
    return rc;
}

void wsrt_own_stack_release(wsrt_own_stack *st)
{
    if (st->base)
        munmap(st->base, st->guard + st->bytes);
    st->base = NULL;
    st->bytes = st->guard = 0;
}
