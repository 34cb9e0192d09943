/*
 * progress.c - the progress line's thread (progress.h): wakes about five
 * times a second, asks its source for the count and the busy workers, and
 * hands the line to log.c, which keeps it below every message.
 *
 * Must never read the pool or a global to learn the count (only its
 * source), never write to stderr itself (log.c's lock keeps lines whole),
 * and never make the run fail: a line that cannot start is simply absent.
 */
#include "quiet_thread.h"
#include "progress.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "progress_text.h"
#include "term_text.h"

#define REDRAW_NS (200 * 1000 * 1000ull) /* about 5 redraws a second */

static void draw(const wsrt_progress *p, uint64_t done)
{
    char line[WSRT_PROGRESS_TEXT_MAX];
    wsrt_progress_text(line, sizeof line, p->plugin, done, p->total,
                       (double)(wsrt_now_ns() - p->start_ns) * 1e-9, p->src.busy(p->src.arg));
    wsrt_log_progress_show(line);
}

static void *progress_main(void *arg)
{
    wsrt_progress *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        draw(p, p->src.done(p->src.arg));
        pthread_mutex_lock(&p->lock);
        struct timespec until = wsrt_deadline_in(REDRAW_NS);
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int wsrt_progress_start(wsrt_progress *p, uint64_t total, const char *plugin,
                        wsrt_progress_source src)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    /* Escaped once here, not per redraw: a name equals its file name,
     * which may hold control bytes (issue 23 item 4). */
    wsrt_term_text(p->plugin, sizeof p->plugin, plugin, strlen(plugin));
    p->src = src;
    p->start_ns = wsrt_now_ns();
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* wsrt_deadline_in gives CLOCK_MONOTONIC times (clock.h). */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (wsrt_quiet_thread_create(&p->thread, NULL, progress_main, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        return -1; /* no progress line is no reason to fail the run */
    }
    return 0;
}

void wsrt_progress_stop_redraws(wsrt_progress *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
}

/* The last line must not depend on the timer: a run shorter than a period,
 * or a thread scheduled late, would otherwise show no line or a stale count
 * (on a terminal the erase follows at once; a log keeps the final count). */
void wsrt_progress_end(wsrt_progress *p, uint64_t done)
{
    draw(p, done);
    wsrt_log_progress_clear();
}
