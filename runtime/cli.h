/*
 * cli.h - internal: the wsrun command line (cli.c) and the progress line it
 * shares stderr with (log.c).  Never included by plugins.
 */
#ifndef WSRUN_CLI_H
#define WSRUN_CLI_H

#include <stdint.h>

/* The whole wsrun program: parse argv, load the plugin, run it.  Returns
 * the process exit status (WS_EXIT_* of run.h). */
int ws_cli_main(int argc, char **argv);

struct ws_run;
struct ws_pool_result;

/* What a program that runs this CLI inside a larger job (wsrun-mpi) adds
 * to it.  Plain wsrun passes none; then nothing here costs anything. */
typedef struct ws_cli_hooks {
    void *arg;          /* handed to every callback */
    const char *program; /* the command's name in --help ("wsrun-mpi"); NULL: "wsrun" */
    int no_progress;    /* never draw the progress line in this process */
    /* When set, --journal is refused with this reason (exit 2). */
    const char *journal_refused;
    /* When set, --trace and --stats-json files get it before their
     * extension: trace.json -> trace.<tag>.json (one file per rank). */
    const char *report_tag;
    /* The progress line's "done" count (default: this process's pool). */
    uint64_t (*progress_done)(void *arg);
    /* After init succeeded and the count (and --shard range) is known,
     * before the pool: may set run->hooks.  Returns 0 to run, or the exit
     * status to end with, without running (finish then sees a failed
     * run).  after_finish follows either way. */
    int (*before_run)(void *arg, struct ws_run *run);
    /* After the pool stopped (pool_rc: wsrt_pool_run's return; signo: the
     * interrupting signal or 0): returns the run status for finish. */
    int (*after_pool)(void *arg, struct ws_run *run, const struct ws_pool_result *result,
                      int pool_rc, int signo);
    /* After finish, with this process's exit status: returns the status
     * to exit with.  Replaces --stats' per-worker table. */
    int (*after_finish)(void *arg, struct ws_run *run, const struct ws_pool_result *result,
                        int status);
} ws_cli_hooks;

/* ws_cli_main with hooks (all callbacks set), or NULL. */
int ws_cli_main_hooked(int argc, char **argv, const ws_cli_hooks *hooks);

/* Put `tag` (e.g. "rank 3: ") after "wsrun: " in every message line of
 * ws_err and ws_log from now on; "" for none (the default). */
void ws_log_set_tag(const char *tag);
/* The tag, for crash.c's signal-safe lines (a plain array, set once). */
const char *ws_log_tag(void);

/* Draw `line` (no newline) as the progress line on stderr; messages written
 * by ws_err/ws_log meanwhile erase it and draw it again below themselves. */
void ws_log_progress_show(const char *line);
/* Erase the progress line and stop redrawing it. */
void ws_log_progress_clear(void);

#endif
