/*
 * wsrun_progress.c - the progress line of wsrun.map on stderr, with
 * wsrun's text (runtime/base/progress_text.h): "wsrun: map: done/total (x%)
 * rate/s ETA m:ss, N workers busy", redrawn about five times a second by
 * a thread of its own and erased at the end.  The caller decides whether
 * there is one (a terminal, or progress=True).  Must never make the call
 * fail (a line that cannot start is absent) and never read more than its
 * source gives it.
 */
#include "wsrun_ext.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Header-only (no link to libwsrun internals): the same text as wsrun's. */
#include "progress_text.h"

#define REDRAW_NS (200 * 1000 * 1000ull)
#define ERASE_LINE "\r\033[K"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put(const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(2, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void draw(wspy_progress *p)
{
    char line[sizeof ERASE_LINE - 1 + WSRT_PROGRESS_TEXT_MAX];
    size_t k = sizeof ERASE_LINE - 1;
    memcpy(line, ERASE_LINE, k);
    k += wsrt_progress_text(line + k, sizeof line - k, "map", p->src.done(p->src.arg), p->total,
                            (double)(mono_ns() - p->start_ns) * 1e-9, p->src.busy(p->src.arg));
    put(line, k);
}

static void *progress_main(void *arg)
{
    wspy_progress *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        draw(p);
        pthread_mutex_lock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + REDRAW_NS;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int wspy_progress_start(wspy_progress *p, uint64_t total, wspy_progress_source src)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    p->src = src;
    p->start_ns = mono_ns();
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, progress_main, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        return -1;
    }
    p->started = 1;
    return 0;
}

void wspy_progress_end(wspy_progress *p)
{
    if (!p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    draw(p); /* the final count, then the erase, as the command does */
    put(ERASE_LINE, sizeof ERASE_LINE - 1);
    p->started = 0;
}
