/*
 * plugin_exit.h - internal: what the wsrun commands do when a plugin calls
 * exit() from one of its callbacks (runtime/cmd/plugin_exit.c).
 *
 * Installed by the commands only (wsrun, wsrun-mpi, through
 * wsrt_session_main), never by the pool: a program that embeds the
 * runtime decides for itself what exit() means.  Never included by
 * plugins.
 */
#ifndef WSRT_PLUGIN_EXIT_H
#define WSRT_PLUGIN_EXIT_H

/* From now on, an exit() called while a plugin callback runs on the
 * calling thread (init, finish, worker_init, worker_fini, run_one or a task
 * it spawned) prints one line naming the plugin, the callback and the
 * index, writes out the journal, removes the temporary output files and
 * ends the process with WSRT_EXIT_PLUGIN_EXIT.  Any other exit is left as it
 * is.  Idempotent. */
void wsrt_plugin_exit_guard_install(void);

#endif
