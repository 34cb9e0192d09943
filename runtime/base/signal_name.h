/*
 * signal_name.h - internal: a signal's name for a message ("SIGSEGV"),
 * shared by the command's crash handler and the worker processes of
 * isolation (runtime/isolate/), which both name how something ended.
 * Must stay async-signal-safe (a crash handler calls it) and never
 * allocate.
 */
#ifndef WSRT_SIGNAL_NAME_H
#define WSRT_SIGNAL_NAME_H

/* "SIGSEGV" for SIGSEGV; NULL for a signal this module does not name. */
const char *wsrt_signal_name(int sig);

#endif
