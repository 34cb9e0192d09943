/*
 * isolate_internal.h - internal to isolate.c, isolate_slot.c,
 * isolate_proxy.c, isolate_template.c and isolate_child.c: the isolation
 * object and the per-worker slot in memory shared by the parent (wsrun,
 * or a program using libwsrun), the template and the children (MAP_SHARED, mapped before the template is forked), and the
 * functions those files share.  Each slot's `state` is a futex word used across processes, so
 * its waits and wakes are the shared (not PRIVATE) futex calls here.
 *
 * Who writes what, so that no word has two writers at once:
 *   parent:   STARTING (slot free), RUN (from IDLE, by CAS), QUIT (from IDLE,
 *             by CAS), EMPTY (after DEAD); begin, end and current before
 *             RUN; during RUN only `end`, lowered to take back the run's
 *             unstarted tail for a thief (isolate_proxy.c, take_back_tail)
 *   child:    IDLE (from STARTING or RUN); pid, result, err, current, temps
 *   template: DEAD (any state: the child is gone, it writes nothing more);
 *             wstatus before DEAD
 *   anyone:   wake_seq, only by wsrt_iso_bump (an increment: many writers
 *             are fine), after each change a worker thread waiting for a
 *             run (wsrt_iso_wait_run) must see: IDLE, DEAD, a thief's
 *             request
 */
#ifndef WSRT_ISOLATE_INTERNAL_H
#define WSRT_ISOLATE_INTERNAL_H

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
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

/* `stop` bits, set by the parent (an OR: a later failure stop keeps an
 * interrupt's bit), and the signal that tells a running child of each.
 * The interrupt's number is the lower: when both are pending the kernel
 * delivers it first, so a blocked call returns EINTR (the first handler
 * decides whether the call restarts; a stop first would restart it, and
 * Python would never see the interrupt). */
#define WSRT_ISO_STOP 1u      /* the parent's run is stopping */
#define WSRT_ISO_INTERRUPT 2u /* ... because wsrun was interrupted */
#define WSRT_ISO_SIG_INTERRUPT SIGUSR1 /* no SA_RESTART; ws_on_interrupt's fn */
#define WSRT_ISO_SIG_STOP SIGUSR2      /* SA_RESTART: ws_stopping only */

#define SLOT_TEMPS 4
#define SLOT_TEMP_BYTES 4096

typedef struct wsrt_iso_slot {
    _Atomic uint32_t state;
    _Atomic uint32_t wake_seq;    /* the futex word of a wait for a run (wsrt_iso_bump) */
    _Atomic uint32_t stop;        /* parent: WSRT_ISO_STOP | WSRT_ISO_INTERRUPT bits */
    _Atomic int32_t pid;          /* the child, set by itself first */
    int32_t wstatus;              /* template, before DEAD */
    int32_t result;               /* child, before IDLE */
    int32_t init_failed;          /* child: worker_init failed (err says why) */
    uint64_t begin;               /* parent, before RUN: the first index to run */
    _Atomic uint64_t end;         /* parent: the run's end (lowered during RUN) */
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
    pthread_mutex_t fini_lock; /* fini_msg: the first worker_fini failure's words */
    char fini_msg[WSRT_ERRBUF];
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

/* --- the parent's slot helpers (isolate_slot.c) --- */

/* 0 once the template has ended (killed from outside): every wait for a
 * child would then be for ever. */
int wsrt_iso_template_alive(wsrt_isolation *iso);
/* Wait while the slot's state is `from`; returns the state seen (DEAD
 * also when the template is gone).  With --timeout, kills the child once
 * its current plugin call (an index, worker_init or worker_fini) has run
 * that long, and sets *timed_out. */
uint32_t wsrt_iso_wait_while(wsrt_isolation *iso, wsrt_iso_slot *slot, uint32_t from,
                             int *timed_out);
/* The same for a run of indices on worker thread `steal`'s ctx: also
 * returns `from` itself once a thief asked that worker for work.  The
 * wait is on wake_seq, which the child (IDLE), the template (DEAD) and
 * the thief (the pool's request_raised hook) bump: no timer. */
uint32_t wsrt_iso_wait_run(wsrt_isolation *iso, wsrt_iso_slot *slot, int *timed_out,
                           ws_ctx *steal);
/* The slot's temporary k copied to buf (SLOT_TEMP_BYTES); 0 when free.
 * Async-signal-safe. */
int wsrt_iso_temp_name(wsrt_iso_slot *slot, int k, char *buf);
/* Remove the named temporaries a dead child had open, and free the entries. */
void wsrt_iso_remove_temps(wsrt_iso_slot *slot);
/* How the slot's child ended, in words for a message. */
void wsrt_iso_describe_end(const wsrt_isolation *iso, wsrt_iso_slot *slot, int timed_out,
                           char *buf, size_t size);
/* The slot's child is gone: its temporaries removed, the slot EMPTY. */
void wsrt_iso_slot_reset(wsrt_iso_slot *slot);

/* --- the proxies (isolate_proxy.c) --- */

/* Make run's worker_init, run_one, worker_fini and the index loop's
 * run_block the proxies that drive iso's children; run->state becomes
 * iso (wsrt_isolate_end puts the plugin's back). */
void wsrt_iso_proxies_install(wsrt_isolation *iso, ws_run *run);

/* The template's life (isolate_template.c): never returns. */
__attribute__((noreturn)) void wsrt_iso_template_main(wsrt_isolation *iso, int cmd_rd);

/* A worker process's life (isolate_child.c), for worker w, in a child of
 * the template `template_pid`: never returns. */
__attribute__((noreturn)) void wsrt_iso_child_main(wsrt_isolation *iso, unsigned w,
                                                   pid_t template_pid);

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

/* After a change that a worker thread waiting for its run must see (the
 * slot's IDLE or DEAD, a thief's request on that worker): bump wake_seq
 * and wake the wait.  release: the change (made before, by this thread)
 * happens before the waiter's reads that follow its acquire load of a
 * wake_seq at or past this one (wait_while, isolate_slot.c); a waiter
 * that loaded an older value finds the word changed in FUTEX_WAIT, or
 * sleeps before the increment and is woken here. */
static inline void wsrt_iso_bump(wsrt_iso_slot *slot)
{
    atomic_fetch_add_explicit(&slot->wake_seq, 1, memory_order_release);
    wsrt_iso_wake(&slot->wake_seq);
}

#endif
