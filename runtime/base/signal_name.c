/*
 * signal_name.c - the names of the signals wsrun reports (signal_name.h).
 * Must never do more than look up a constant: crash handlers call it.
 */
#include "signal_name.h"

#include <signal.h>
#include <stddef.h>

const char *wsrt_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGKILL: return "SIGKILL";
    }
    return NULL;
}
