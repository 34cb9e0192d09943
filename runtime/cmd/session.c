/*
 * session.c - one wsrun session (session.h): answers --version,
 * --list-plugins, --help and --scaling, or loads the plugin, applies its
 * options, and calls init / the pool / finish in that order, then --stats
 * and the report files.  Every call of the pool API is in the "pool"
 * section below, so the pool's interface changes in one place.
 *
 * Must never call finish without a successful init, never skip finish
 * after a successful init, and never exit 0 when any index or finish
 * failed.  Every user error ends in one "wsrun: ..." line naming what was
 * wrong and exit status 2 (WSRT_EXIT_USAGE) before any index runs.  Keeps
 * no file-scope state: what a session knows is in its wsrt_session.
 */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "discover.h"
#include "isolate.h"
#include "journal.h"
#include "loader.h"
#include "log.h"
#include "options.h"
#include "plugin_exit.h"
#include "pool.h"
#include "pool_registry.h"
#include "progress.h"
#include "run_reports.h"
#include "scaling.h"
#include "shard.h"
#include "shared.h"
#include "wsrt_assert.h"

struct wsrt_session {
    const wsrt_args *args;
    char **argv;
    const wsrt_job_hooks *job; /* NULL: plain wsrun */
    ws_run run;
    wsrt_pool_result result;
    wsrt_pool *pool; /* NULL until pool_prepare, and for --help */
    int isolate;          /* issue 24: 1 run in worker processes (isolate.h) */
    wsrt_isolation *iso;  /* from after init until the pool ran */
};

/* ---------------------------------------------------------------- pool */

/* The session's pool, created before the plugin loads so that its threads
 * start meanwhile (standby.h), and registered for the command's signal
 * handlers and progress line (pool_registry.h).  0, or -1 with a message. */
static int pool_prepare(wsrt_session *s)
{
    /* Each worker thread gets crash reporting's alternate signal stack. */
    wsrt_pool_options o = {.jobs = s->args->jobs,
                           .thread_start = wsrt_crash_thread_init,
                           .stack_bytes = s->args->stack_bytes};
    s->pool = wsrt_pool_create_with(&o);
    if (!s->pool || wsrt_registry_register(s->pool) != 0) {
        wsrt_err("cannot set up %u workers: %s", s->args->jobs, strerror(errno));
        wsrt_pool_destroy(s->pool);
        s->pool = NULL;
        return -1;
    }
    return 0;
}

static int pool_run(wsrt_session *s)
{
    return wsrt_pool_run(s->pool, &s->run, &s->result);
}

/* The run's workers could not start (their threads, or their frame
 * stacks): one line with the cause and the way out; exit status 2. */
static void start_failed_message(const wsrt_pool_result *r)
{
    char why[512];
    wsrt_pool_start_error(r, why, sizeof why);
    wsrt_err("cannot run: %s; use a smaller -j or --stack SIZE, or raise ulimit -v", why);
}

/* Unregister (waiting for any handler or progress read still inside),
 * then end the pool's threads and free it; no pool (--help): nothing. */
static void pool_end(wsrt_session *s)
{
    if (!s->pool)
        return;
    wsrt_pool *registered = wsrt_registry_unregister();
    WSRT_ASSERT(registered == s->pool);
    (void)registered;
    wsrt_pool_destroy(s->pool);
    s->pool = NULL;
}

uint64_t wsrt_session_pool_progress(wsrt_session *s)
{
    return s->pool ? wsrt_pool_progress(s->pool) : 0;
}

int wsrt_session_pool_stopping(wsrt_session *s)
{
    return s->pool ? wsrt_pool_stopping(s->pool) : 0;
}

void wsrt_session_request_stop(wsrt_session *s)
{
    if (s->pool)
        wsrt_pool_request_stop(s->pool);
}

/* The progress line's source (progress.h): the job's count when there is
 * a job, else this process's pool. */
static uint64_t progress_done(void *arg)
{
    wsrt_session *s = arg;
    return s->job ? s->job->progress_done(s->job->arg) : wsrt_session_pool_progress(s);
}

static unsigned progress_busy(void *arg)
{
    wsrt_session *s = arg;
    return s->pool ? wsrt_pool_busy_workers(s->pool) : 0;
}

/* ------------------------------------------------------------- helpers */

static const char *program(const wsrt_session *s)
{
    return s->job && s->job->program ? s->job->program : "wsrun";
}

/* --scaling: what a study cannot honour, for its message. */
static const char *scaling_clash(const wsrt_session *s)
{
    const wsrt_args *a = s->args;
    return s->job               ? program(s)
           : a->jobs_given      ? "--jobs"
           : a->trace_path      ? "--trace"
           : a->stats_json_path ? "--stats-json"
           : a->journal_path    ? "--journal"
                                : NULL;
}

/* The indices this process must run: all, or its --shard. */
static uint64_t run_total(const ws_run *run)
{
    return run->ranged ? run->range_end - run->range_begin : run->count;
}

/* What the pool finished: run, failed, or skipped as done by a resume. */
static uint64_t pool_final_count(const wsrt_pool_result *r)
{
    uint64_t n = r->indices_done + r->failed;
    for (unsigned w = 0; r->workers && w < r->jobs; w++)
        n += r->workers[w].skipped;
    return n;
}

static const char *error_or_default(const ws_ctx *ctx)
{
    const char *msg = wsrt_ctx_error(ctx);
    return msg[0] ? msg : WSRT_NO_MESSAGE;
}

/* A job's ranks each write their own report, trace.json ->
 * trace.rank1.json ("-", stdout, stays). */
static const char *tagged_path(const wsrt_session *s, const char *path, char *buf, size_t size)
{
    if (!path || !s->job || !s->job->report_tag || strcmp(path, "-") == 0)
        return path;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    snprintf(buf, size, "%.*s.%s%s", (int)stem, path, s->job->report_tag, path + stem);
    return buf;
}

static int progress_wanted(const wsrt_session *s)
{
    const wsrt_args *a = s->args;
    if (s->job && s->job->no_progress)
        return 0;
    return a->progress == WSRT_PROGRESS_ON ||
           (a->progress == WSRT_PROGRESS_AUTO && !a->quiet && isatty(STDERR_FILENO));
}

static int progress_begin(wsrt_session *s, wsrt_progress *p)
{
    wsrt_progress_source src = {progress_done, progress_busy, s};
    return progress_wanted(s) &&
           wsrt_progress_start(p, run_total(&s->run), s->run.desc.name, src) == 0;
}

/* ----------------------------------------------------------------- run */

/* The pool, with the progress line around it (crash.c handles Ctrl-C).
 * Returns the run status handed to finish: 0 when every index succeeded. */
static int run_indices(wsrt_session *s)
{
    ws_run *run = &s->run;
    wsrt_pool_result *result = &s->result;
    memset(result, 0, sizeof *result);
    uint64_t total = run_total(run);
    if (total == 0)
        return 0;
    if (wsrt_interrupted()) { /* during init: run nothing */
        wsrt_err("%s: interrupted by %s before any index ran", run->desc.name,
               wsrt_signal_name(wsrt_interrupted()));
        return 1;
    }
    wsrt_progress p;
    int progress_on = progress_begin(s, &p);
    int rc = pool_run(s);
    if (progress_on) {
        wsrt_progress_stop_redraws(&p);
        wsrt_progress_end(&p, pool_final_count(result));
    }
    if (rc != 0 && result->start_failed)
        start_failed_message(result);
    if (rc != 0)
        return 1;
    uint64_t skipped = 0; /* --resume: done by an earlier run */
    for (unsigned w = 0; result->workers && w < result->jobs; w++)
        skipped += result->workers[w].skipped;
    if (result->failed > 0) {
        uint64_t not_run = total - skipped - result->indices_done - result->failed;
        if (not_run > 0 && result->stopped_early)
            wsrt_err("%llu of %llu tasks failed (stopped early: %llu not run; --keep-going runs "
                   "them all)",
                   (unsigned long long)result->failed, (unsigned long long)total,
                   (unsigned long long)not_run);
        else
            wsrt_err("%llu of %llu tasks failed%s", (unsigned long long)result->failed,
                   (unsigned long long)total,
                   result->failed > 20 ? " (the first 20 are shown above)" : "");
    }
    int sig = wsrt_interrupted();
    if (sig)
        wsrt_err("%s: interrupted by %s: %llu of %llu indices done%s", run->desc.name,
               wsrt_signal_name(sig), (unsigned long long)(result->indices_done + skipped),
               (unsigned long long)total,
               run->hooks.index_done ? " (journaled: add --resume to the same command to finish)"
                                     : "");
    return result->failed > 0 || result->indices_done + skipped != total || sig;
}

/* In a job: this process's pool, blocks from the job; the job judges the
 * whole of it and returns its run status (the same in every process). */
static int run_indices_in_job(wsrt_session *s)
{
    const wsrt_job_hooks *job = s->job;
    memset(&s->result, 0, sizeof s->result);
    wsrt_progress p;
    int progress_on = progress_begin(s, &p);
    int rc = wsrt_interrupted() ? 0 : pool_run(s);
    if (progress_on)
        wsrt_progress_stop_redraws(&p);
    if (rc != 0 && s->result.start_failed)
        start_failed_message(&s->result);
    /* after_pool gathers every rank's final count: the last line shows it. */
    int status = job->after_pool(job->arg, &s->run, &s->result, rc, wsrt_interrupted());
    if (progress_on) /* the job's count: all ranks, final after after_pool */
        wsrt_progress_end(&p, progress_done(s));
    return status;
}

/* ------------------------------------------------------------ isolate */

/* Issue 24: after load, whether the run is isolated (--isolate, or the
 * plugin's default) and what refuses it.  Under isolation no thread may
 * exist when init returns, so a pool made ahead is ended here and made
 * again after the template (isolate_begin).  0, or -1 after a message. */
static int isolate_decide(wsrt_session *s)
{
    const wsrt_args *a = s->args;
    const ws_plugin *d = &s->run.desc;
    int mode = a->isolate_given ? a->isolate : (d->flags & WS_PLUGIN_ISOLATE_DEFAULT) ? 1 : 0;
    if (mode && s->job) {
        if (!a->isolate_given)
            mode = 0; /* the plugin's wish; wsrun-mpi runs threads */
        else {
            wsrt_err("--isolate: %s refuses it: MPI_Init starts threads before init, and "
                     "worker processes are only forked from a single-threaded process",
                     program(s));
            return -1;
        }
    }
    if (mode == 1 && !(d->flags & (WS_PLUGIN_ISOLATABLE | WS_PLUGIN_ISOLATE_DEFAULT))) {
        wsrt_err("--isolate: plugin %s is not marked isolatable (WS_PLUGIN_ISOLATABLE): what "
                 "its run_one keeps in wsrun's memory would be lost in a worker process; "
                 "--isolate=force runs it anyway",
                 d->name);
        return -1;
    }
    if (!mode && (a->timeout_ms || a->worker_memory)) {
        wsrt_err("%s needs --isolate (only a worker process can be killed or limited alone)",
                 a->timeout_ms ? "--timeout" : "--worker-memory");
        return -1;
    }
    s->isolate = mode != 0;
    if (s->isolate)
        pool_end(s); /* its threads would be forked with the template */
    return 0;
}

/* Right after init: fork the template while single-threaded, then make
 * the pool (its threads).  0, or -1 after a message. */
static int isolate_begin(wsrt_session *s)
{
    if (!s->isolate)
        return 0;
    wsrt_isolate_opts o = {s->args->timeout_ms, s->args->worker_memory, s->args->stack_bytes,
                           .what = "--isolate",
                           .child_thread_start = wsrt_crash_thread_init,
                           .child_temp_mirror = wsrt_crash_set_temp_mirror};
    char err[WSRT_ERRBUF + 256];
    if (wsrt_isolate_start(&s->iso, &s->run, &o, err, sizeof err) != 0) {
        wsrt_err("%s", err);
        return -1;
    }
    return pool_prepare(s);
}

/* After load and -o: init, count, pool, finish, stats. */
static int run_plugin(wsrt_session *s)
{
    const wsrt_args *a = s->args;
    const wsrt_job_hooks *job = s->job;
    ws_run *run = &s->run;
    const char *name = run->desc.name;
    wsrt_ctx_base main_ctx;
    wsrt_ctx_base_init(&main_ctx, run, UINT32_MAX);
    ws_ctx *ctx = &main_ctx.ctx;

    /* Opened before init: a bad report path stops the run before it starts. */
    wsrt_run_reports reports;
    char trace_buf[4200], json_buf[4200];
    if (wsrt_run_reports_open(&reports, run,
                            tagged_path(s, a->trace_path, trace_buf, sizeof trace_buf),
                            tagged_path(s, a->stats_json_path, json_buf, sizeof json_buf)) != 0)
        return WSRT_EXIT_USAGE;
    run->state = NULL;
    wsrt_shared_set_isolated(s->isolate); /* issue 24: ws_shared_alloc's kind */
    wsrt_interrupts_install();
    wsrt_crash_set_phase("init");
    if (run->desc.init && run->desc.init(ctx, &run->state) != WS_OK) {
        wsrt_crash_set_phase(NULL);
        wsrt_interrupts_restore();
        wsrt_err("%s: init failed: %s", name, error_or_default(ctx));
        wsrt_run_reports_abort(&reports, NULL);
        return wsrt_interrupted() ? 128 + wsrt_interrupted() : WSRT_EXIT_USAGE;
    }
    wsrt_crash_set_phase(NULL);
    wsrt_scaling_child_span_start(); /* a --scaling run's span: from here ... */
    wsrt_journal *journal = NULL;
    int status = WSRT_EXIT_OK;
    int run_status = 1;
    wsrt_pool_result *result = &s->result;
    memset(result, 0, sizeof *result);
    int in_job = 0; /* before_run was called: after_finish must follow */
    if (run->count != WS_COUNT_UNSET && a->shard_given) {
        run->ranged = 1;
        wsrt_shard_range(run->count, a->shard_k, a->shard_n, &run->range_begin, &run->range_end);
    }
    if (run->count == WS_COUNT_UNSET) {
        wsrt_err("%s: --count is required", name);
        status = WSRT_EXIT_USAGE;
    } else if (isolate_begin(s) != 0) { /* issue 24: template forked, then threads */
        status = WSRT_EXIT_USAGE;
    } else if (wsrt_journal_start(&journal, a->journal_path, a->resume, run) != 0) {
        status = WSRT_EXIT_USAGE;
    } else if (job && (status = job->before_run(job->arg, s, run)) != 0) {
        in_job = -1; /* the job refused to run: finish sees a failed run */
    } else {
        in_job = job != NULL;
        run_status = in_job ? run_indices_in_job(s) : run_indices(s);
        if (run_status != 0)
            status = result->start_failed ? WSRT_EXIT_USAGE : WSRT_EXIT_TASK_FAILED;
    }
    if (wsrt_isolate_end(s->iso, run, NULL, 0) != 0 && status == WSRT_EXIT_OK) /* issue 24 */
        status = WSRT_EXIT_TASK_FAILED;
    s->iso = NULL;
    wsrt_journal_finish(journal);
    wsrt_scaling_child_span_end(result); /* ... to here */
    wsrt_ctx_clear_error(ctx);
    wsrt_crash_set_phase("finish");
    if (run->desc.finish && run->desc.finish(run->state, run_status, ctx) != WS_OK) {
        wsrt_err("%s: finish failed: %s", name, error_or_default(ctx));
        if (status == WSRT_EXIT_OK)
            status = WSRT_EXIT_TASK_FAILED;
    }
    wsrt_crash_set_phase(NULL);
    wsrt_interrupts_restore();
    if (wsrt_interrupted())
        status = 128 + wsrt_interrupted(); /* 130 SIGINT, 143 SIGTERM */
    if (in_job) /* wsrun-mpi: every rank's status, and rank 0's summary */
        status = job->after_finish(job->arg, run, result, status);
    else if (a->stats && run->count != WS_COUNT_UNSET)
        wsrt_stats_print(run, result);
    if (run->count == WS_COUNT_UNSET || status == WSRT_EXIT_USAGE) /* the pool never ran */
        wsrt_run_reports_abort(&reports, result);
    else if (wsrt_run_reports_write(&reports, run, result) != 0 && status == WSRT_EXIT_OK)
        status = WSRT_EXIT_TASK_FAILED;
    free(result->workers);
    result->workers = NULL;
    wsrt_shared_free_all(); /* issue 24: ws_shared_alloc's memory, after finish */
    return status;
}

/* Load the plugin, apply -o, then run_plugin. */
static int load_and_run(wsrt_session *s)
{
    const wsrt_args *a = s->args;
    ws_run *run = &s->run;
    char err[2048];
    int status = WSRT_EXIT_USAGE;
    wsrt_crash_install(NULL);
    /* The workers' threads start while the plugin loads (standby.h);
     * every way out below ends them if no run comes. */
    if (!a->help && !(a->isolate_given && a->isolate) /* issue 24: threads after init */ &&
        pool_prepare(s) != 0)
        goto out;
    if (wsrt_loader_load(run, a->plugin, err, sizeof err) != 0) {
        wsrt_err("%s", err);
        goto out;
    }
    wsrt_crash_install(run->desc.name);
    wsrt_crash_set_plugin_code((const void *)(uintptr_t)run->desc.run_one);
    wsrt_plugin_exit_guard_install();
    if (a->help) {
        wsrt_args_print_plugin_help(stdout, run, program(s));
        status = WSRT_EXIT_OK;
        goto out;
    }
    if (wsrt_opts_setup(run, err, sizeof err) != 0) {
        wsrt_err("%s", err);
        goto out;
    }
    for (size_t k = 0; k < a->n_assignments; k++) {
        if (wsrt_opts_apply(run, a->assignments[k], err, sizeof err) != 0) {
            wsrt_err("%s", err);
            goto out;
        }
    }
    if (a->journal_path && s->job && s->job->journal_refused) {
        wsrt_err("--journal: %s", s->job->journal_refused);
        goto out;
    }
    if (a->shard_given && !(run->desc.flags & WS_PLUGIN_RESUMABLE)) {
        wsrt_err("--shard: plugin %s cannot run in parts (its output is made from all indices "
               "together, so one part alone would be incomplete); run it without --shard",
               run->desc.name);
        goto out;
    }
    if (isolate_decide(s) != 0) /* issue 24 */
        goto out;
    run->count = a->count_given ? a->count : WS_COUNT_UNSET;
    run->count_given = a->count_given;
    run->seed = a->seed;
    run->jobs = a->jobs;
    run->quiet = a->quiet;
    run->stats = a->stats;
    run->policy.keep_going = a->keep_going;
    run->policy.retries = a->retries;
    status = run_plugin(s);
out:
    /* The workers' threads end while finish runs, and threads
     * pool_prepare started may have had no run: join them all now. */
    pool_end(s);
    /* The plugin stays loaded until exit: dlclose could unmap code that a
     * library it uses registered with atexit or as a thread-local
     * destructor. */
    wsrt_opts_free(run);
    free((char *)run->plugin_path);
    return status;
}

int wsrt_session_main(const wsrt_args *args, char **argv, const wsrt_job_hooks *job)
{
    wsrt_session s;
    memset(&s, 0, sizeof s);
    s.args = args;
    s.argv = argv;
    s.job = job;
    if (args->version) {
        printf("wsrun %s (plugin ABI %d.%d)\n", WS_VERSION, WS_ABI_MAJOR, WS_ABI_MINOR);
        return WSRT_EXIT_OK;
    }
    if (args->list_plugins)
        return wsrt_discover_list(stdout, getenv("WSRUN_PLUGIN_PATH"), NULL) < 0 ? WSRT_EXIT_USAGE
                                                                              : WSRT_EXIT_OK;
    if (!args->plugin) {
        if (args->help) {
            wsrt_args_print_usage(stdout, program(&s));
            return WSRT_EXIT_OK;
        }
        wsrt_err("--plugin is required (see wsrun --help)");
        return WSRT_EXIT_USAGE;
    }
    if (args->scaling.given && !args->help)
        return wsrt_scaling_main(&args->scaling, args->plugin, scaling_clash(&s), s.argv);
    int status = load_and_run(&s);
    fflush(stdout);
    return status;
}
