/*
 * own_stack.h - internal: run a function on the calling thread but on a
 * deep stack of its own (runtime/sched/own_stack.c).  The pool runs worker
 * 0 this way on the thread that called it, so a run neither waits for a
 * new thread to be scheduled nor for one to end, while worker 0 still gets
 * the deep stack every worker has (a process's main thread may have only
 * 8 MiB).  Each pool owns one such stack (sched_internal.h), so pools
 * running at once each have theirs.
 * Must never be used where the function could leave by longjmp or by a
 * thread exit, and never by two threads on one stack at once.
 */
#ifndef WSRT_OWN_STACK_H
#define WSRT_OWN_STACK_H

#include <stdatomic.h>
#include <stddef.h>

/* A stack kept for such calls: mapped by the first reserve or call, kept
 * until wsrt_own_stack_release.  Zero-initialised (memset or {0}) is an
 * empty one. */
typedef struct wsrt_own_stack {
    char *base;         /* the guard page; `bytes` usable above it */
    size_t bytes, guard;
    /* Taken by the call running on the stack.  acq_rel: a later call that
     * takes it sees the fields the previous one wrote. */
    atomic_flag in_use;
} wsrt_own_stack;

/* Run fn(arg) on a stack of `bytes` (plus a guard page below it) and return
 * 0 once it has returned; -1 without running it where such a stack cannot
 * be had (no memory; already in use by an outer call; another size than
 * the first call's; a sanitizer build, whose stack bookkeeping does not
 * follow a switch of stacks): the caller then runs fn some other way.
 * The stack is kept for the next call on `st`. */
int wsrt_run_on_own_stack(wsrt_own_stack *st, void (*fn)(void *), void *arg, size_t bytes);

/* Map the kept stack for calls of `bytes` now, ahead of the first call:
 * 0, or -1 where wsrt_run_on_own_stack would refuse such a call. */
int wsrt_own_stack_reserve(wsrt_own_stack *st, size_t bytes);

/* Unmap the stack (no call may be on it); it is empty again. */
void wsrt_own_stack_release(wsrt_own_stack *st);

#endif
