/*
 * isolate_internal.h - internal to isolate.c and isolate_proc.c: the
 * isolation object and the per-worker slot in memory shared by wsrun, the
 * template and the children (MAP_SHARED, mapped before the template is
 * forked).  Each slot's `state` is a futex word used across processes, so
 * its waits and wakes are the shared (not PRIVATE) futex calls here.
 *
 * Who writes what, so that no word has two writers at once:
 *   parent:   STARTING (slot free), RUN (from IDLE, by CAS), QUIT (from IDLE,
 *             by CAS), EMPTY (after DEAD); begin and end before RUN
 *   child:    IDLE (from STARTING or RUN); pid, result, err, current, temps
 *   template: DEAD (any state: the child is gone, it writes nothing more);
 *             wstatus before DEAD
 */
#ifndef WSRT_ISOLATE_INTERNAL_H
#define WSRT_ISOLATE_INTERNAL_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "isolate.h"
#include "run.h"

enum {
    SLOT_EMPTY = 0,    /* no child */
    SLOT_STARTING = 1, /* asked the template for a child; worker_init running */
    SLOT_IDLE = 2,     /* child waits; `result` and `next` tell the last run's end */
    SLOT_RUN = 3,      /* child runs [begin, end) in order, to the first failure */
    SLOT_QUIT = 4,     /* child asked to run worker_fini and end */
    SLOT_DEAD = 5,     /* template reaped the child; `wstatus` says how it ended */
};

#define SLOT_TEMPS 4
#define SLOT_TEMP_BYTES 4096

typedef struct wsrt_iso_slot {
    _Atomic uint32_t state;
    _Atomic uint32_t stop;        /* parent: the run is stopping */
    _Atomic int32_t pid;          /* the child, set by itself first */
    int32_t wstatus;              /* template, before DEAD */
    int32_t result;               /* child, before IDLE */
    int32_t init_failed;          /* child: worker_init failed (err says why) */
    uint64_t begin, end;          /* parent, before RUN: the indices to run */
    uint64_t next;                /* child, before IDLE: [begin, next) succeeded */
    _Atomic uint64_t current;     /* child: the index its run_one runs */
    _Atomic uint64_t started_ns;  /* child, with --timeout: when `current` began */
    char err[WSRT_ERRBUF];          /* child: the failure's message */
    /* child: its named temporary files (outfile.c, via crash.c's table),
     * removed by the parent if the child is killed; "" is a free entry */
    char temps[SLOT_TEMPS][SLOT_TEMP_BYTES];
} wsrt_iso_slot;

struct wsrt_isolation {
    ws_run *run;
    ws_plugin desc; /* the plugin's own callbacks */
    void *state;    /* the plugin's state from init */
    unsigned jobs;
    wsrt_isolate_opts opts;
    wsrt_iso_slot *slots; /* jobs entries, MAP_SHARED */
    size_t slots_bytes;
    int cmd_fd;           /* parent: write end; worker ids for the template */
    pid_t parent_pid, template_pid;
    _Atomic int fini_failed;
    _Atomic int template_gone;
    uint64_t *block;      /* per worker (parent only): indices per round trip */
};

/* The monotonic clock in ns (the child's start times, the parent's deadlines). */
static inline uint64_t wsrt_iso_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The template's life (isolate_proc.c): never returns. */
__attribute__((noreturn)) void wsrt_iso_template_main(wsrt_isolation *iso, int cmd_rd);

static inline void wsrt_iso_wait(_Atomic uint32_t *word, uint32_t expected, long timeout_ns)
{
    struct timespec ts = {timeout_ns / 1000000000L, timeout_ns % 1000000000L};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, timeout_ns ? &ts : NULL, NULL,
            0);
}

static inline void wsrt_iso_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
}

#endif
