/*
 * own_stack.c - run a function on the calling thread, on a stack of its
 * own, with makecontext/swapcontext (see own_stack.h).  The stack is an
 * anonymous mapping touched only as deep as the function goes, with a
 * PROT_NONE page below it so an overflow faults (and the crash report,
 * which runs on the thread's alternate signal stack, names it) instead of
 * writing into other memory.  Must never return to the caller before fn
 * has returned, and never free the stack while fn runs.
 */
#include "own_stack.h"

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

int ws_run_on_own_stack(void (*fn)(void *), void *arg, size_t bytes)
{
    if (!OWN_STACK_USABLE)
        return -1;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    bytes = (bytes + page - 1) / page * page;
    char *base = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
        return -1;
    if (mprotect(base, page, PROT_NONE) != 0) {
        munmap(base, bytes + page);
        return -1;
    }
    ucontext_t caller, callee;
    if (getcontext(&callee) != 0) {
        munmap(base, bytes + page);
        return -1;
    }
    callee.uc_stack.ss_sp = base + page;
    callee.uc_stack.ss_size = bytes;
    callee.uc_link = &caller;
    makecontext(&callee, own_stack_entry, 0);
    own_stack_call call = {fn, arg};
    pending_call = &call;
    if (swapcontext(&caller, &callee) != 0) {
        pending_call = NULL;
        munmap(base, bytes + page);
        return -1;
    }
    munmap(base, bytes + page);
    return 0;
}
