/*
 * own_stack.h - internal: run a function on the calling thread but on a
 * deep stack of its own (runtime/sched/own_stack.c).  The pool runs worker 0 this
 * way on the thread that called it, so a run neither waits for a new thread
 * to be scheduled nor for one to end, while worker 0 still gets the deep
 * stack every worker has (a process's main thread may have only 8 MiB).
 * Must never be used where the function could leave by longjmp or by a
 * thread exit, and never by two threads at once.
 */
#ifndef WSRUN_OWN_STACK_H
#define WSRUN_OWN_STACK_H

#include <stddef.h>

/* Run fn(arg) on a stack of `bytes` (plus a guard page below it) and return
 * 0 once it has returned; -1 without running it where such a stack cannot
 * be had (no memory; already in use by an outer call; another size than
 * the first call's; a sanitizer build, whose stack bookkeeping does not
 * follow a switch of stacks): the caller then runs fn some other way.
 * The stack is kept for the next call. */
int wsrt_run_on_own_stack(void (*fn)(void *), void *arg, size_t bytes);

/* Map the kept stack for calls of `bytes` now, ahead of the first call:
 * 0, or -1 where wsrt_run_on_own_stack would refuse such a call. */
int wsrt_own_stack_reserve(size_t bytes);

#endif
