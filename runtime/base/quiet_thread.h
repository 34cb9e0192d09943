/*
 * quiet_thread.h - start a runtime thread with the asynchronous signals
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) blocked, so that a
 * signal sent to the process reaches a thread that can take it: the main
 * thread, which wsrun's and the program's handlers expect.  Seen under
 * ThreadSanitizer: a Ctrl-C delivered to a standby thread parked in a raw
 * futex wait was deferred for ever and the run never stopped.
 * Must never block a synchronous signal (SIGSEGV, SIGBUS, SIGPIPE...): the
 * crash report and a write's EPIPE depend on them.
 */
#ifndef WSRT_QUIET_THREAD_H
#define WSRT_QUIET_THREAD_H

#include <pthread.h>
#include <signal.h>

static inline int wsrt_quiet_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                                           void *(*fn)(void *), void *arg)
{
    sigset_t quiet, old;
    sigemptyset(&quiet);
    sigaddset(&quiet, SIGINT);
    sigaddset(&quiet, SIGTERM);
    sigaddset(&quiet, SIGHUP);
    sigaddset(&quiet, SIGQUIT);
    sigaddset(&quiet, SIGUSR1);
    sigaddset(&quiet, SIGUSR2);
    /* The new thread inherits the mask in force at pthread_create. */
    pthread_sigmask(SIG_BLOCK, &quiet, &old);
    int e = pthread_create(thread, attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return e;
}

#endif /* WSRT_QUIET_THREAD_H */
