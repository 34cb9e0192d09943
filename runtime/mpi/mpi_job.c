/*
 * mpi_job.c - wsrun-mpi's ranks: the start-up agreement, the shared block
 * counter (an MPI-3 window on rank 0, read with MPI_Fetch_and_op), the
 * monitor thread that spreads a stop and the progress count, and the
 * end-of-run exchange that gives every rank the same status.
 *
 * The counter hands out block numbers ("tickets"), not indices: every rank
 * turns a ticket into the same guided [begin, end) (shard.c), so one
 * atomic add per block is all the traffic.  A stop (a failed task or an
 * interrupt on some rank) adds STOP_TICKETS to the same counter, so the
 * next ticket any rank takes says "stop" with no extra call.
 *
 * Must never: make MPI calls from two threads at once (the library gives
 * MPI_THREAD_SERIALIZED; mpi_lock orders worker 0 and the monitor), busy-
 * wait in a collective while other ranks still work (requests are polled
 * with sleeps), or return from the session's job hooks in a state where
 * ranks disagree about the next collective.
 */
#include "mpi_job.h"

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mpi_report.h"
#include "pool.h"
#include "pool_registry.h"
#include "run.h"
#include "session.h"
#include "shard.h"

enum { SLOT_TICKET, SLOT_DONE, SLOTS };

/* Added to the ticket counter to stop the job.  Real tickets stay far
 * below it (a run has fewer than 2^40 blocks), and 2^16 stops fit in 64
 * bits. */
#define STOP_TICKETS ((uint64_t)1 << 48)
/* Blocks are remaining / (GUIDED_K * ranks), at least the smallest rank's
 * worker count.  A block is shared by all workers of the rank that takes
 * it, and they wait for its last index before the next block comes: so
 * the divisor counts takers (ranks), not workers, which keeps blocks - and
 * those waits - few; and the minimum gives every worker an index even in
 * the last blocks (docs/distributed.md has the numbers). */
#define GUIDED_K 2
/* The monitor looks at its own pool's stop flag every MONITOR_LOCAL_NS (a
 * load, no MPI traffic) and raises a stop at once; it pushes progress and
 * reads the counter every MONITOR_PERIOD_NS.  A stop on one rank thus
 * reaches every other within MONITOR_LOCAL_NS + MONITOR_PERIOD_NS = 100 ms
 * (docs/distributed.md). */
#define MONITOR_PERIOD_NS 90000000ull
#define MONITOR_LOCAL_NS 10000000ull
#define WAIT_MAX_SLEEP_NS 2000000L

/* What each rank brings to the start-up agreement. */
enum { AGREE_READY, AGREE_STATUS, AGREE_COUNT, AGREE_BEGIN, AGREE_END, AGREE_JOBS, AGREE_FIELDS };
/* What each rank brings to the final exchange. */
enum { END_STATUS, END_WAIT_NS, END_FIELDS };

typedef enum job_phase {
    PHASE_IDLE,      /* before_run not called yet */
    PHASE_REFUSED,   /* the agreement said no: no window, no more collectives */
    PHASE_RUNNING,   /* window open, pool running */
    PHASE_POOL_DONE, /* rows exchanged */
    PHASE_ENDED,     /* window freed, final status agreed */
} job_phase;

struct wsrt_mpi_job {
    int rank, size;
    job_phase phase;
    int refused_status;
    ws_run *run;
    wsrt_session *session; /* from before_run to after_pool: its pool */
    uint64_t begin, end; /* the job's index space */

    MPI_Win win;
    uint64_t *slots; /* rank 0 only */
    pthread_mutex_t mpi_lock;

    wsrt_guided guided;   /* worker 0 only */
    uint64_t blocks;    /* worker 0 only */
    uint64_t counter_ns;
    _Atomic int stop_seen;   /* a stop ticket was seen: no more blocks */
    _Atomic int stop_raised; /* this rank added its stop */

    pthread_t monitor;
    int monitor_started;
    pthread_mutex_t monitor_lock;
    pthread_cond_t monitor_wake;
    int monitor_quit;         /* under monitor_lock */
    uint64_t pushed_done;     /* monitor only */
    _Atomic uint64_t job_done; /* rank 0: all ranks' progress, for the line */

    uint64_t t_run0_ns; /* wsrt_now_ns(), this rank's clock only */
    double run_s;
    uint64_t end_wait_ns;
    uint64_t *rows; /* size * ROW_FIELDS after the pools */
    char report_tag[24];
};

static _Noreturn void fatal(const char *what)
{
    wsrt_err("%s; aborting the MPI job", what);
    MPI_Abort(MPI_COMM_WORLD, WSRT_EXIT_TASK_FAILED);
    abort(); /* MPI_Abort does not return; keep the compiler sure of it */
}

/* Wait for a non-blocking collective without spinning: a rank that is
 * done must not take CPU from ranks on the same node that still work. */
static void wait_quietly(MPI_Request *req)
{
    long sleep_ns = 20000;
    for (;;) {
        int done = 0;
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        struct timespec ts = {0, sleep_ns};
        nanosleep(&ts, NULL);
        if (sleep_ns < WAIT_MAX_SLEEP_NS)
            sleep_ns *= 2;
    }
}

static void allgather_u64(const uint64_t *mine, int n, uint64_t *all)
{
    MPI_Request req;
    MPI_Iallgather(mine, n, MPI_UINT64_T, all, n, MPI_UINT64_T, MPI_COMM_WORLD, &req);
    wait_quietly(&req);
}

/* ------------------------------------------------------------ counter */

static void raise_stop(wsrt_mpi_job *job)
{
    if (atomic_exchange(&job->stop_raised, 1))
        return;
    const uint64_t add = STOP_TICKETS;
    uint64_t before;
    pthread_mutex_lock(&job->mpi_lock);
    MPI_Fetch_and_op(&add, &before, MPI_UINT64_T, 0, SLOT_TICKET, MPI_SUM, job->win);
    MPI_Win_flush(0, job->win);
    pthread_mutex_unlock(&job->mpi_lock);
}

/* The pool's next_block hook, on worker 0. */
static int next_block(void *arg, uint64_t *begin, uint64_t *end)
{
    wsrt_mpi_job *job = arg;
    if (atomic_load_explicit(&job->stop_seen, memory_order_relaxed))
        return 0;
    const uint64_t one = 1;
    uint64_t ticket = 0;
    uint64_t t0 = wsrt_now_ns();
    pthread_mutex_lock(&job->mpi_lock);
    MPI_Fetch_and_op(&one, &ticket, MPI_UINT64_T, 0, SLOT_TICKET, MPI_SUM, job->win);
    MPI_Win_flush(0, job->win);
    pthread_mutex_unlock(&job->mpi_lock);
    job->counter_ns += wsrt_now_ns() - t0;
    if (ticket >= STOP_TICKETS) {
        atomic_store(&job->stop_seen, 1);
        return 0;
    }
    if (!wsrt_guided_block(&job->guided, ticket, begin, end))
        return 0;
    job->blocks++;
    return 1;
}

static void open_window(wsrt_mpi_job *job)
{
    MPI_Info info;
    MPI_Info_create(&info);
    /* Only MPI_SUM and MPI_NO_OP touch the slots: lets the library use
     * the network's atomics instead of a lock at the target. */
    MPI_Info_set(info, "accumulate_ops", "same_op_no_op");
    MPI_Aint bytes = job->rank == 0 ? (MPI_Aint)(SLOTS * sizeof(uint64_t)) : 0;
    MPI_Win_allocate(bytes, sizeof(uint64_t), info, MPI_COMM_WORLD, &job->slots, &job->win);
    MPI_Info_free(&info);
    if (job->rank == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, job->win);
        for (int i = 0; i < SLOTS; i++)
            job->slots[i] = 0;
        MPI_Win_unlock(0, job->win);
    }
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait_quietly(&req);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, job->win);
}

/* ------------------------------------------------------------ monitor */

/* A local stop (a task failed here, or an interrupt) goes to the counter.
 * Asks the session's pool: ws_stopping answers only on a worker of the run
 * (since the pool became an object a non-worker ctx always reads 0), so
 * the monitor's own ctx used to hear of a local stop only when the whole
 * pool had ended (issue 23 item 7). */
static void monitor_spread_stop(wsrt_mpi_job *job)
{
    if (wsrt_session_pool_stopping(job->session) && !atomic_load(&job->stop_seen))
        raise_stop(job);
}

/* Spread this rank's progress and a local stop; pick up a remote stop. */
static void monitor_tick(wsrt_mpi_job *job)
{
    monitor_spread_stop(job);
    uint64_t local = wsrt_session_pool_progress(job->session);
    uint64_t delta = local > job->pushed_done ? local - job->pushed_done : 0;
    /* Single-element fetching atomics only: the library can do them with
     * the network's (or the CPU's) atomics, without a lock at rank 0. */
    uint64_t ticket = 0, done_before = 0;
    pthread_mutex_lock(&job->mpi_lock);
    MPI_Fetch_and_op(&delta, &done_before, MPI_UINT64_T, 0, SLOT_DONE, MPI_SUM, job->win);
    MPI_Fetch_and_op(NULL, &ticket, MPI_UINT64_T, 0, SLOT_TICKET, MPI_NO_OP, job->win);
    MPI_Win_flush(0, job->win);
    pthread_mutex_unlock(&job->mpi_lock);
    job->pushed_done += delta;
    atomic_store_explicit(&job->job_done, done_before + delta, memory_order_relaxed);
    if (ticket >= STOP_TICKETS && !atomic_exchange(&job->stop_seen, 1))
        wsrt_session_request_stop(job->session); /* another rank failed: stop mid-block */
}

/* After the pool: add what this rank did since the monitor's last tick, so
 * that once every rank has passed the gather that follows, SLOT_DONE holds
 * the job's final count.  MPI_Win_flush completes the sum at rank 0 before
 * this rank enters the gather. */
static void push_final_progress(wsrt_mpi_job *job, const struct wsrt_pool_result *r)
{
    /* The run is over (progress reads 0 between runs): count from its result. */
    uint64_t local = r->indices_done + r->failed;
    for (unsigned w = 0; r->workers && w < r->jobs; w++)
        local += r->workers[w].skipped;
    uint64_t delta = local > job->pushed_done ? local - job->pushed_done : 0;
    uint64_t done_before = 0;
    pthread_mutex_lock(&job->mpi_lock);
    MPI_Fetch_and_op(&delta, &done_before, MPI_UINT64_T, 0, SLOT_DONE, MPI_SUM, job->win);
    MPI_Win_flush(0, job->win);
    pthread_mutex_unlock(&job->mpi_lock);
    job->pushed_done += delta;
}

/* Rank 0, after the gather: every rank's final push has completed at rank
 * 0 (each flushed before the gather), so this read is the final count. */
static void read_final_progress(wsrt_mpi_job *job)
{
    uint64_t done = 0;
    pthread_mutex_lock(&job->mpi_lock);
    MPI_Fetch_and_op(NULL, &done, MPI_UINT64_T, 0, SLOT_DONE, MPI_NO_OP, job->win);
    MPI_Win_flush(0, job->win);
    pthread_mutex_unlock(&job->mpi_lock);
    /* relaxed: only the progress line reads it, after the pool's threads
     * have been joined by this same thread. */
    atomic_store_explicit(&job->job_done, done, memory_order_relaxed);
}

static void *monitor_main(void *arg)
{
    wsrt_mpi_job *job = arg;
    uint64_t next_tick = 0;
    pthread_mutex_lock(&job->monitor_lock);
    while (!job->monitor_quit) {
        pthread_mutex_unlock(&job->monitor_lock);
        uint64_t now = wsrt_now_ns();
        if (now >= next_tick) {
            monitor_tick(job);
            next_tick = now + MONITOR_PERIOD_NS;
        } else {
            monitor_spread_stop(job);
        }
        pthread_mutex_lock(&job->monitor_lock);
        struct timespec until = wsrt_deadline_in(MONITOR_LOCAL_NS);
        if (!job->monitor_quit)
            pthread_cond_timedwait(&job->monitor_wake, &job->monitor_lock, &until);
    }
    pthread_mutex_unlock(&job->monitor_lock);
    return NULL;
}

static void monitor_start(wsrt_mpi_job *job)
{
    job->monitor_quit = 0;
    if (pthread_create(&job->monitor, NULL, monitor_main, job) == 0)
        job->monitor_started = 1;
    else
        wsrt_err("cannot start the MPI monitor thread: a failure on another rank is seen only "
               "between blocks, and the progress line stays at this rank's count");
}

static void monitor_stop(wsrt_mpi_job *job)
{
    if (!job->monitor_started)
        return;
    pthread_mutex_lock(&job->monitor_lock);
    job->monitor_quit = 1;
    pthread_cond_signal(&job->monitor_wake);
    pthread_mutex_unlock(&job->monitor_lock);
    pthread_join(job->monitor, NULL);
    job->monitor_started = 0;
}

/* -------------------------------------------------------------- hooks */

static void list_ranks(const uint64_t *all, int size, int field, uint64_t value, char *buf,
                       size_t len)
{
    size_t used = 0;
    int named = 0;
    buf[0] = '\0';
    for (int r = 0; r < size && used < len; r++) {
        if (all[(size_t)r * AGREE_FIELDS + field] != value)
            continue;
        int n = named == 8 ? snprintf(buf + used, len - used, ", ...")
                           : snprintf(buf + used, len - used, "%s%d", named ? ", " : "", r);
        if (n < 0 || ++named > 8)
            break;
        used += (size_t)n;
    }
}

/* The agreement's verdict: 0 to run, or the exit status all ready ranks
 * return without running (the not-ready ranks keep their own). */
static int judge_agreement(wsrt_mpi_job *job, const uint64_t *all)
{
    int first_ready = -1, status = 0, not_ready = 0;
    for (int r = 0; r < job->size; r++) {
        const uint64_t *a = all + (size_t)r * AGREE_FIELDS;
        if (a[AGREE_READY]) {
            if (first_ready < 0)
                first_ready = r;
        } else {
            /* A rank that is not ready always makes the job fail, even one
             * whose CLI had nothing to complain about. */
            int st = a[AGREE_STATUS] ? (int)a[AGREE_STATUS] : WSRT_EXIT_USAGE;
            status = st > status ? st : status;
            not_ready++;
        }
    }
    char who[256];
    if (status) {
        if (job->rank == first_ready) {
            list_ranks(all, job->size, AGREE_READY, 0, who, sizeof who);
            wsrt_err("not running: %s %s stopped before the run started (see %s message); "
                   "no index ran",
                   not_ready > 1 ? "ranks" : "rank", who, not_ready > 1 ? "their" : "its");
        }
        return status;
    }
    const uint64_t *r0 = all;
    for (int r = 1; r < job->size; r++) {
        const uint64_t *a = all + (size_t)r * AGREE_FIELDS;
        if (a[AGREE_COUNT] != r0[AGREE_COUNT] || a[AGREE_BEGIN] != r0[AGREE_BEGIN] ||
            a[AGREE_END] != r0[AGREE_END]) {
            if (job->rank == 0)
                wsrt_err("ranks disagree on the indices to run: rank 0 has count %llu "
                       "[%llu, %llu), rank %d has count %llu [%llu, %llu); the plugin's init "
                       "must set the same count on every rank (or give --count)",
                       (unsigned long long)r0[AGREE_COUNT], (unsigned long long)r0[AGREE_BEGIN],
                       (unsigned long long)r0[AGREE_END], r, (unsigned long long)a[AGREE_COUNT],
                       (unsigned long long)a[AGREE_BEGIN], (unsigned long long)a[AGREE_END]);
            return WSRT_EXIT_USAGE;
        }
    }
    if (job->size > 1 && !(job->run->desc.flags & WS_PLUGIN_RESUMABLE)) {
        if (job->rank == 0)
            wsrt_err("plugin %s cannot run on several ranks (its output is made from all "
                   "indices together, so each rank's part alone would be incomplete); run it "
                   "with wsrun, or on one rank",
                   job->run->desc.name);
        return WSRT_EXIT_USAGE;
    }
    return 0;
}

static int hook_before_run(void *arg, wsrt_session *s, ws_run *run)
{
    wsrt_mpi_job *job = arg;
    job->run = run;
    job->session = s;
    job->begin = run->ranged ? run->range_begin : 0;
    job->end = run->ranged ? run->range_end : run->count;
    uint64_t mine[AGREE_FIELDS] = {1, 0, run->count, job->begin, job->end, run->jobs};
    uint64_t *all = malloc((size_t)job->size * AGREE_FIELDS * sizeof *all);
    if (!all)
        fatal("out of memory for the start-up agreement");
    allgather_u64(mine, AGREE_FIELDS, all);
    int status = judge_agreement(job, all);
    uint64_t min_jobs = UINT64_MAX;
    for (int r = 0; r < job->size; r++)
        if (all[(size_t)r * AGREE_FIELDS + AGREE_JOBS] < min_jobs)
            min_jobs = all[(size_t)r * AGREE_FIELDS + AGREE_JOBS];
    free(all);
    if (status) {
        job->phase = PHASE_REFUSED;
        job->refused_status = status;
        return status;
    }
    wsrt_guided_init(&job->guided, job->begin, job->end, GUIDED_K * (uint64_t)job->size,
                   min_jobs ? min_jobs : 1);
    open_window(job);
    run->hooks.next_block = next_block;
    run->hooks.block_arg = job;
    job->phase = PHASE_RUNNING;
    job->t_run0_ns = wsrt_now_ns();
    monitor_start(job);
    return 0;
}

static void fill_row(const wsrt_mpi_job *job, const wsrt_pool_result *r, int pool_rc, int signo,
                     uint64_t *row)
{
    memset(row, 0, ROW_FIELDS * sizeof *row);
    row[ROW_DONE] = r->indices_done;
    row[ROW_FAILED] = r->failed;
    row[ROW_STOPPED] = (uint64_t)r->stopped_early;
    row[ROW_SIGNAL] = (uint64_t)(signo > 0 ? signo : 0);
    row[ROW_POOL_ERR] = pool_rc != 0;
    row[ROW_INIT_FAILED] = (uint64_t)r->worker_init_failed;
    row[ROW_BLOCKS] = job->blocks;
    row[ROW_COUNTER_NS] = job->counter_ns;
    row[ROW_WALL_NS] = r->wall_ns;
    row[ROW_JOBS] = r->jobs ? r->jobs : job->run->jobs;
    for (unsigned w = 0; r->workers && w < r->jobs; w++) {
        const wsrt_worker_stats *s = &r->workers[w];
        row[ROW_SKIPPED] += s->skipped;
        row[ROW_TASKS] += s->tasks;
        row[ROW_STEALS] += s->steals;
        row[ROW_BUSY_NS] += s->busy_ns;
        row[ROW_IDLE_NS] += s->idle_ns;
        row[ROW_PARKED_NS] += s->parked_ns;
    }
}

static wsrt_mpi_summary summary_of(const wsrt_mpi_job *job)
{
    wsrt_mpi_summary s = {
        .plugin = job->run->desc.name,
        .ranks = job->size,
        .expected = job->end - job->begin,
        .run_s = job->run_s,
        .stats = job->run->stats,
        .rows = job->rows,
    };
    return s;
}

static int hook_after_pool(void *arg, ws_run *run, const struct wsrt_pool_result *result,
                           int pool_rc, int signo)
{
    wsrt_mpi_job *job = arg;
    (void)run;
    if (job->phase != PHASE_RUNNING)
        fatal("internal error: after_pool without a running MPI job");
    monitor_stop(job);
    push_final_progress(job, result);
    /* A stop here that nobody raised yet (it came in the monitor's last
     * period) still has to reach ranks that are working. */
    if ((result->stopped_early && !atomic_load(&job->stop_seen)) || pool_rc != 0 ||
        result->worker_init_failed)
        raise_stop(job);
    uint64_t mine[ROW_FIELDS];
    fill_row(job, result, pool_rc, signo, mine);
    job->rows = malloc((size_t)job->size * ROW_FIELDS * sizeof *job->rows);
    if (!job->rows)
        fatal("out of memory for the ranks' results");
    uint64_t t0 = wsrt_now_ns();
    allgather_u64(mine, ROW_FIELDS, job->rows);
    job->end_wait_ns = wsrt_now_ns() - t0;
    if (job->rank == 0)
        read_final_progress(job);
    job->run_s = (double)(wsrt_now_ns() - job->t_run0_ns) / 1e9;
    job->phase = PHASE_POOL_DONE;
    wsrt_mpi_summary s = summary_of(job);
    if (job->rank == 0)
        wsrt_mpi_report_failures(&s);
    return wsrt_mpi_rows_status(&s);
}

static int hook_after_finish(void *arg, ws_run *run, const struct wsrt_pool_result *result,
                             int status)
{
    wsrt_mpi_job *job = arg;
    (void)result;
    if (job->phase == PHASE_REFUSED) {
        job->phase = PHASE_ENDED;
        return job->refused_status > status ? job->refused_status : status;
    }
    if (job->phase != PHASE_POOL_DONE)
        fatal("internal error: after_finish before after_pool");
    uint64_t mine[END_FIELDS] = {(uint64_t)status, job->end_wait_ns};
    uint64_t *all = malloc((size_t)job->size * END_FIELDS * sizeof *all);
    if (!all)
        fatal("out of memory for the final exchange");
    allgather_u64(mine, END_FIELDS, all);
    int final = 0;
    for (int r = 0; r < job->size; r++) {
        int st = (int)all[(size_t)r * END_FIELDS + END_STATUS];
        final = st > final ? st : final;
        job->rows[(size_t)r * ROW_FIELDS + ROW_END_WAIT_NS] = all[(size_t)r * END_FIELDS + END_WAIT_NS];
    }
    free(all);
    if (job->rank == 0 && !run->quiet) {
        wsrt_mpi_summary s = summary_of(job);
        wsrt_mpi_report_summary(&s);
    }
    MPI_Win_unlock_all(job->win);
    MPI_Win_free(&job->win);
    job->phase = PHASE_ENDED;
    return final;
}

static uint64_t hook_progress_done(void *arg)
{
    wsrt_mpi_job *job = arg;
    return atomic_load_explicit(&job->job_done, memory_order_relaxed);
}

/* ---------------------------------------------------------------- API */

wsrt_mpi_job *wsrt_mpi_job_new(int rank, int size)
{
    wsrt_mpi_job *job = calloc(1, sizeof *job);
    if (!job) {
        wsrt_err("out of memory");
        return NULL;
    }
    job->rank = rank;
    job->size = size;
    job->phase = PHASE_IDLE;
    pthread_mutex_init(&job->mpi_lock, NULL);
    pthread_mutex_init(&job->monitor_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* wsrt_deadline_in gives CLOCK_MONOTONIC times (clock.h). */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&job->monitor_wake, &attr);
    pthread_condattr_destroy(&attr);
    return job;
}

void wsrt_mpi_job_hooks(wsrt_mpi_job *job, wsrt_job_hooks *hooks)
{
    memset(hooks, 0, sizeof *hooks);
    hooks->arg = job;
    hooks->program = "wsrun-mpi";
    hooks->no_progress = job->rank != 0;
    snprintf(job->report_tag, sizeof job->report_tag, "rank%d", job->rank);
    hooks->report_tag = job->report_tag;
    if (job->size > 1)
        hooks->journal_refused =
            "wsrun-mpi cannot share one journal between ranks; split the run with --shard "
            "instead, one journal per part (docs/distributed.md)";
    hooks->progress_done = hook_progress_done;
    hooks->before_run = hook_before_run;
    hooks->after_pool = hook_after_pool;
    hooks->after_finish = hook_after_finish;
}

int wsrt_mpi_job_end(wsrt_mpi_job *job, int status)
{
    switch (job->phase) {
    case PHASE_IDLE: {
        /* This rank stopped before its run began (bad option, plugin not
         * found, init failed, --help): the others wait for it in the
         * agreement, so it takes part, saying "not ready". */
        uint64_t mine[AGREE_FIELDS] = {0, (uint64_t)status, 0, 0, 0, 0};
        uint64_t *all = malloc((size_t)job->size * AGREE_FIELDS * sizeof *all);
        if (!all)
            fatal("out of memory for the start-up agreement");
        allgather_u64(mine, AGREE_FIELDS, all);
        free(all);
        return status;
    }
    case PHASE_REFUSED:
    case PHASE_ENDED:
        return status;
    default:
        fatal("internal error: the run ended without the MPI end-of-run exchange");
    }
    return status;
}

void wsrt_mpi_job_free(wsrt_mpi_job *job)
{
    if (!job)
        return;
    monitor_stop(job);
    free(job->rows);
    pthread_cond_destroy(&job->monitor_wake);
    pthread_mutex_destroy(&job->monitor_lock);
    pthread_mutex_destroy(&job->mpi_lock);
    free(job);
}
