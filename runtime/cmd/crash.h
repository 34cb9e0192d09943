/*
 * crash.h - internal: what wsrun does when a signal arrives.
 *
 * Fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) in plugin or
 * runtime code: one line naming the plugin, the index, the worker and the
 * signal, a backtrace, the journal's buffered records written out, the
 * temporary output files removed, then exit 128 + the signal number.
 *
 * SIGINT / SIGTERM: the first asks the pool to stop handing out indices
 * (the CLI then reports how far it got and exits 130 / 143); a second one
 * exits at once (same clean-up as a crash, exit 128 + that signal).
 *
 * Never included by plugins.  Everything the handlers call is
 * async-signal-safe; nothing here may allocate or lock on the signal path.
 */
#ifndef WSRT_CRASH_H
#define WSRT_CRASH_H

#include "signal_name.h"

/* Install the fatal-signal handlers for this process (idempotent), give
 * the calling thread an alternate signal stack, and register the
 * temporary-file tracking below with ws_outfile_*.  `plugin` (may be NULL
 * before the plugin is known) must stay valid until exit. */
void wsrt_crash_install(const char *plugin);

/* The plugin whose code contains `address_in_plugin` (its descriptor):
 * a crash report then ends with an addr2line command for its frames. */
void wsrt_crash_set_plugin_code(const void *address_in_plugin);

/* The plugin's name given to wsrt_crash_install (NULL before). */
const char *wsrt_crash_plugin(void);

/* What a crash does before the process ends, without the report: the
 * journal's buffered records written out, the temporary output files
 * removed (async-signal-safe). */
void wsrt_crash_clean_up(void);

/* What the process is doing, for a crash outside run_one: "init",
 * "finish", ...; a string literal (NULL: nothing to say). */
void wsrt_crash_set_phase(const char *phase);
/* The phase set last (NULL: none). */
const char *wsrt_crash_phase(void);

/* Give the calling thread an alternate signal stack, so a stack overflow
 * is reported too (idempotent).  The command gives it to its pool as the
 * pool's thread_start (pool.h), so each worker thread calls it at its
 * start; the stack is freed when the thread exits. */
void wsrt_crash_thread_init(void);

/* Catch SIGINT and SIGTERM until wsrt_interrupts_restore. */
void wsrt_interrupts_install(void);
void wsrt_interrupts_restore(void);
/* The first interrupting signal (SIGINT or SIGTERM), or 0. */
int wsrt_interrupted(void);

/* Temporary output files to remove if the process must end at once
 * (crash, second interrupt); wsrt_crash_install hands these two to
 * ws_outfile_* (runtime/plugin/outfile.h).  `path` points at a buffer that holds the
 * name until wsrt_crash_untrack_temp(path), called while the name is still
 * there (an empty name counts as never tracked); nothing is copied.  Tracking
 * never fails the caller: when the table is full the file is simply not
 * tracked. */
void wsrt_crash_track_temp(const char *path);
void wsrt_crash_untrack_temp(const char *path);
/* --isolate (issue 24): a worker process also tells `mirror` each name
 * tracked (add 1) and untracked (add 0), for its parent to remove if the
 * process is killed; the table inherited from the parent is forgotten
 * first.  Single-threaded process; NULL stops it. */
void wsrt_crash_set_temp_mirror(void (*mirror)(const char *path, int add));

/* wsrt_signal_name ("SIGSEGV") lives in runtime/base/signal_name.h, for
 * the isolation layer names signals too; included here for the command's
 * files that used it from this header. */

#endif
