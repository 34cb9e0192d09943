/*
 * progress.h - internal: the progress line ("wsrun: NAME: done/total (x%)
 * rate/s ETA m:ss, N workers busy") that a thread redraws on stderr about
 * five times a second while the pool runs (progress.c).
 *
 * What it shows comes only through the wsrt_progress_source handed to
 * wsrt_progress_start: the line never reads the pool or any global
 * itself, so the session decides what "done" means (this process's pool,
 * or the whole MPI job).
 */
#ifndef WSRT_PROGRESS_H
#define WSRT_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

/* Read from the progress thread while the pool runs: both must be safe to
 * call from any thread at any time. */
typedef struct wsrt_progress_source {
    uint64_t (*done)(void *arg);  /* indices finished so far (any count) */
    unsigned (*busy)(void *arg);  /* workers running a task now */
    void *arg;
} wsrt_progress_source;

typedef struct wsrt_progress {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop; /* under lock */
    uint64_t total;
    char plugin[128]; /* the name as a terminal shows it (term_text.h) */
    uint64_t start_ns; /* wsrt_now_ns() at the start */
    wsrt_progress_source src;
} wsrt_progress;

/* Start the redraws.  0, or -1 when no thread could be started (then
 * there is no line: no reason to fail the run, and nothing to stop). */
int wsrt_progress_start(wsrt_progress *p, uint64_t total, const char *plugin,
                        wsrt_progress_source src);
/* Stop the redraws and join the thread; the line stays drawn until
 * wsrt_progress_end. */
void wsrt_progress_stop_redraws(wsrt_progress *p);
/* One last line with the final count `done`, then erase it. */
void wsrt_progress_end(wsrt_progress *p, uint64_t done);

#endif
