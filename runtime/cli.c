/*
 * cli.c - the wsrun command line: parses arguments, loads the plugin,
 * applies its options, calls init / the pool / finish in that order, and
 * prints help, version, the progress line and --stats.
 *
 * Must never call finish without a successful init, never skip finish
 * after a successful init, and never exit 0 when any index or finish
 * failed.  Every user error ends in one "wsrun: ..." line naming what was
 * wrong and exit status 2 (WS_EXIT_USAGE) before any index runs.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "crash.h"
#include "journal.h"
#include "loader.h"
#include "options.h"
#include "plugin_exit.h"
#include "run.h"
#include "pool.h"
#include "pool_registry.h"
#include "discover.h"
#include "run_reports.h"
#include "scaling.h"
#include "shard.h"

#define MAX_JOBS 4096
#define MAX_RETRIES 1000
#define MAX_COUNT ((uint64_t)INT64_MAX)

enum progress_mode { PROGRESS_AUTO = -1, PROGRESS_OFF = 0, PROGRESS_ON = 1 };

typedef struct cli_args {
    const char *plugin;
    const char **assignments; /* the -o values, in order */
    size_t n_assignments;
    uint64_t count;
    int count_given;
    uint64_t seed;
    unsigned jobs;
    int quiet, stats, keep_going, help, version;
    int progress; /* enum progress_mode */
    unsigned retries;
    const char *trace_path, *stats_json_path; /* --trace, --stats-json */
    const char *journal_path; /* --journal */
    int resume;
    int list_plugins;
    int shard_given; /* --shard K/N */
    uint64_t shard_k, shard_n;
    int jobs_given;
    ws_scaling_args scaling; /* --scaling and its options (scaling.h) */
} cli_args;

/* wsrun-mpi's hooks (ws_cli_main_hooked); NULL for plain wsrun. */
static const ws_cli_hooks *cli_hooks;

enum {
    OPT_SEED = 256,
    OPT_STATS,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_KEEP_GOING,
    OPT_RETRIES,
    OPT_TRACE,
    OPT_STATS_JSON,
    OPT_LIST_PLUGINS,
    OPT_JOURNAL,
    OPT_RESUME,
    OPT_SHARD,
    OPT_SCALING,
    OPT_REPEAT,
    OPT_SCALING_CSV,
    OPT_SCALING_PLOT,
    OPT_SCALING_KEEP_OUTPUT,
    OPT_SCALING_ALLOW_DIFF,
};

static const struct option long_options[] = {
    {"plugin", required_argument, NULL, 'p'},
    {"count", required_argument, NULL, 'n'},
    {"jobs", required_argument, NULL, 'j'},
    {"option", required_argument, NULL, 'o'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"quiet", no_argument, NULL, 'q'},
    {"stats", no_argument, NULL, OPT_STATS},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"keep-going", no_argument, NULL, OPT_KEEP_GOING},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"stats-json", required_argument, NULL, OPT_STATS_JSON},
    {"list-plugins", no_argument, NULL, OPT_LIST_PLUGINS},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"scaling", optional_argument, NULL, OPT_SCALING},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"scaling-csv", required_argument, NULL, OPT_SCALING_CSV},
    {"scaling-plot", required_argument, NULL, OPT_SCALING_PLOT},
    {"scaling-keep-output", required_argument, NULL, OPT_SCALING_KEEP_OUTPUT},
    {"scaling-allow-diff", no_argument, NULL, OPT_SCALING_ALLOW_DIFF},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The command's name in --help: wsrun, or a hooked program's own. */
static const char *program_name(void)
{
    return cli_hooks && cli_hooks->program ? cli_hooks->program : "wsrun";
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: %s --plugin NAME [--count N] [-o key=value ...] [options]\n",
            program_name());
    fprintf(out,
            "\n"
            "Runs the plugin's run_one for every index 0..N-1 on a work-stealing pool.\n"
            "\n"
            "  -p, --plugin NAME   plugin to run: a name looked up in $WSRUN_PLUGIN_PATH,\n"
            "                      then beside wsrun (plugins/, ../lib/wsrun), or a path\n"
            "                      containing '/' (./my.so)\n"
            "  -n, --count N       number of indices (0 to 2^63-1); some plugins choose it\n"
            "  -o, --option key=value  set a plugin option (repeatable; the last one wins)\n"
            "  -j, --jobs N        worker threads, 1..%d (default: CPUs this process may use)\n"
            "      --seed N        seed of the per-index random streams (default 0)\n"
            "      --keep-going    run every index even after failures\n"
            "      --retries N     extra attempts for a failing index (default 0)\n"
            "      --journal FILE  record finished indices in FILE (docs/failures.md)\n"
            "      --resume        skip the indices FILE records as done (same command)\n"
            "      --shard K/N     run only part K (0..N-1) of N equal contiguous parts of\n"
            "                      the indices; parts 0..N-1 together are the whole run\n"
            "  -q, --quiet         no plugin log lines and no progress line\n"
            "      --progress      show the progress line even when stderr is not a terminal\n"
            "      --no-progress   never show the progress line\n"
            "      --stats         print scheduler statistics after the run (stderr)\n"
            "      --stats-json FILE  write them as JSON to FILE ('-': stdout)\n"
            "      --trace FILE    write a Chrome trace-event JSON of the schedule to FILE\n"
            "                      (open it in Perfetto or chrome://tracing)\n"
            "      --scaling [LIST]  scaling study: run the command once per -j of LIST\n"
            "                      (1,2,4 or 1-16; default 1,2,4,.. and the CPUs allowed)\n"
            "                      per round, each run a fresh process, and print a table\n"
            "                      of its parallel span (docs/benchmarks.md)\n"
            "      --repeat R      rounds of the study, 1..1000 (default 5)\n"
            "      --scaling-csv FILE  write the study's per-round figures as CSV\n"
            "      --scaling-plot FILE.png  draw speedup against -j (needs gnuplot)\n"
            "      --scaling-keep-output FILE  save the first run's stdout (captured)\n"
            "      --scaling-allow-diff  the runs' outputs may differ (no warning)\n"
            "      --list-plugins  list the plugins on the search path and exit\n"
            "  -h, --help          this help; with --plugin, the plugin's options\n"
            "  -V, --version       version and plugin ABI\n"
            "\n"
            "Exit status: 0 every index succeeded; 1 an index or the plugin's finish\n"
            "failed; 2 bad command line, plugin not loadable, bad -o option, or the\n"
            "plugin's init failed; 3 the plugin called exit() in a callback; 130 / 143\n"
            "stopped by SIGINT / SIGTERM; 128+N the plugin crashed with signal N (139\n"
            "SIGSEGV, 134 SIGABRT, 136 SIGFPE).\n",
            MAX_JOBS);
}

static unsigned default_jobs(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    return n > MAX_JOBS ? MAX_JOBS : (unsigned)n;
}

/* --count, --jobs, --seed, --retries: one message style for all. */
static int parse_number(const char *option, const char *text, uint64_t min, uint64_t max,
                        uint64_t *out)
{
    uint64_t value;
    if (ws_parse_u64(text, UINT64_MAX, &value) != 0) {
        ws_err("%s: expected a whole number from %llu to %llu, got '%s'", option,
               (unsigned long long)min, (unsigned long long)max, text);
        return -1;
    }
    if (value < min || value > max) {
        ws_err("%s: %s is out of range %llu..%llu", option, text, (unsigned long long)min,
               (unsigned long long)max);
        return -1;
    }
    *out = value;
    return 0;
}

/* The option as the user wrote it, for messages about getopt's findings. */
static const char *option_as_typed(char **argv, int index, int short_opt, char *buf,
                                   size_t size)
{
    const char *arg = index > 0 ? argv[index - 1] : "";
    if (strncmp(arg, "--", 2) == 0) {
        snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
        return buf;
    }
    snprintf(buf, size, "-%c", short_opt);
    return buf;
}

static int parse_args(int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->progress = PROGRESS_AUTO;
    a->assignments = calloc((size_t)argc + 1, sizeof *a->assignments);
    if (!a->assignments) {
        ws_err("out of memory");
        return -1;
    }
    uint64_t value;
    char name[64];
    opterr = 0; /* our messages, with the wsrun: prefix */
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, ":p:n:j:o:qhV", long_options, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'p': a->plugin = optarg; break;
        case 'n':
            if (parse_number("--count", optarg, 0, MAX_COUNT, &a->count) != 0)
                return -1;
            a->count_given = 1;
            break;
        case 'j':
            if (parse_number("--jobs", optarg, 1, MAX_JOBS, &value) != 0)
                return -1;
            a->jobs = (unsigned)value;
            a->jobs_given = 1;
            break;
        case 'o': a->assignments[a->n_assignments++] = optarg; break;
        case OPT_SEED:
            if (parse_number("--seed", optarg, 0, UINT64_MAX, &a->seed) != 0)
                return -1;
            break;
        case 'q': a->quiet = 1; break;
        case OPT_STATS: a->stats = 1; break;
        case OPT_PROGRESS: a->progress = PROGRESS_ON; break;
        case OPT_NO_PROGRESS: a->progress = PROGRESS_OFF; break;
        case OPT_KEEP_GOING: a->keep_going = 1; break;
        case OPT_RETRIES:
            if (parse_number("--retries", optarg, 0, MAX_RETRIES, &value) != 0)
                return -1;
            a->retries = (unsigned)value;
            break;
        case OPT_TRACE: a->trace_path = optarg; break;
        case OPT_STATS_JSON: a->stats_json_path = optarg; break;
        case OPT_LIST_PLUGINS: a->list_plugins = 1; break;
        case OPT_JOURNAL: a->journal_path = optarg; break;
        case OPT_RESUME: a->resume = 1; break;
        case OPT_SHARD: {
            char why[256];
            if (ws_shard_parse(optarg, &a->shard_k, &a->shard_n, why, sizeof why) != 0) {
                ws_err("%s", why);
                return -1;
            }
            a->shard_given = 1;
            break;
        }
        case OPT_SCALING:
            /* "--scaling 1,2" as well as "--scaling=1,2"; bare: the default */
            if (!optarg && optind < argc && argv[optind][0] != '-')
                optarg = argv[optind++];
            a->scaling.given = 1;
            a->scaling.list = optarg;
            break;
        case OPT_REPEAT: a->scaling.repeat = optarg; break;
        case OPT_SCALING_CSV: a->scaling.csv_path = optarg; break;
        case OPT_SCALING_PLOT: a->scaling.plot_path = optarg; break;
        case OPT_SCALING_KEEP_OUTPUT: a->scaling.keep_output = optarg; break;
        case OPT_SCALING_ALLOW_DIFF: a->scaling.allow_diff = 1; break;
        case 'h': a->help = 1; break;
        case 'V': a->version = 1; break;
        case ':':
            ws_err("option '%s' needs a value (see wsrun --help)",
                   option_as_typed(argv, optind, optopt, name, sizeof name));
            return -1;
        default:
            if (optopt > 0 && optopt < 128)
                ws_err("unknown option '-%c' (see wsrun --help)", optopt);
            else
                ws_err("unknown option '%s' (see wsrun --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        ws_err("unexpected argument '%s' (plugin options are given as -o key=value)",
               argv[optind]);
        return -1;
    }
    if (a->resume && !a->journal_path) {
        ws_err("--resume needs --journal FILE (the journal of the run to resume)");
        return -1;
    }
    const char *orphan = ws_scaling_orphan_option(&a->scaling);
    if (orphan) {
        ws_err("%s needs --scaling (it is an option of the scaling study)", orphan);
        return -1;
    }
    if (a->jobs == 0)
        a->jobs = default_jobs();
    return 0;
}

/* --scaling: what a study cannot honour, for its message. */
static const char *scaling_clash(const cli_args *a)
{
    return cli_hooks            ? "wsrun-mpi"
           : a->jobs_given      ? "--jobs"
           : a->trace_path      ? "--trace"
           : a->stats_json_path ? "--stats-json"
           : a->journal_path    ? "--journal"
                                : NULL;
}

static void print_plugin_help(const ws_run *run)
{
    const ws_plugin *d = &run->desc;
    printf("%s %s - %s\n", d->name, d->version ? d->version : "(no version)",
           d->description ? d->description : "(no description)");
    printf("file: %s (built for plugin ABI %u.%u)\n\n", run->plugin_path, d->abi_major,
           d->abi_minor);
    printf("usage: %s --plugin %s [--count N] [-o key=value ...]\n\n", program_name(), d->name);
    printf("options:\n");
    ws_opts_print_table(stdout, d->options);
}

/* ------------------------------------------------------------ progress */

typedef struct progress {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    uint64_t total;
    const char *plugin;
    struct timespec start;
} progress;

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

static uint64_t progress_now(void)
{
    return cli_hooks && cli_hooks->progress_done ? cli_hooks->progress_done(cli_hooks->arg)
                                                 : wsrt_registry_progress();
}

static void draw_progress(const progress *p, uint64_t done)
{
    if (done > p->total)
        done = p->total;
    double elapsed = seconds_since(&p->start);
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32] = "--:--";
    if (rate > 0) {
        unsigned long long left = (unsigned long long)((double)(p->total - done) / rate + 0.5);
        if (left >= 3600)
            snprintf(eta, sizeof eta, "%lluh%02llum", left / 3600, left / 60 % 60);
        else
            snprintf(eta, sizeof eta, "%llu:%02llu", left / 60, left % 60);
    }
    char line[192];
    snprintf(line, sizeof line, "wsrun: %s: %llu/%llu (%.1f%%) %.0f/s ETA %s, %u workers busy",
             p->plugin, (unsigned long long)done, (unsigned long long)p->total,
             p->total ? 100.0 * (double)done / (double)p->total : 100.0, rate, eta,
             wsrt_registry_busy_workers());
    ws_log_progress_show(line);
}

static void *progress_main(void *arg)
{
    progress *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        draw_progress(p, progress_now());
        pthread_mutex_lock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 200 * 1000 * 1000; /* about 5 redraws a second */
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int progress_start(progress *p, uint64_t total, const char *plugin)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    p->plugin = plugin;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, progress_main, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        return -1; /* no progress line is no reason to fail the run */
    }
    return 0;
}

/* Stop the redraws; the line stays drawn until progress_end. */
static void progress_stop_redraws(progress *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
}

/* One last line with the final count `done`, then erase it.  The last
 * line must not depend on the timer: a run shorter than a period, or a
 * thread scheduled late, would otherwise show no line or a stale count (on
 * a terminal the erase follows at once; a log keeps the final count). */
static void progress_end(progress *p, uint64_t done)
{
    draw_progress(p, done);
    ws_log_progress_clear();
}

/* What the pool finished: run, failed, or skipped as done by a resume. */
static uint64_t pool_final_count(const ws_pool_result *r)
{
    uint64_t n = r->indices_done + r->failed;
    for (unsigned w = 0; r->workers && w < r->jobs; w++)
        n += r->workers[w].skipped;
    return n;
}

/* --------------------------------------------------------------- stats */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* The indices this process must run: all, or its --shard. */
static uint64_t run_total(const ws_run *run)
{
    return run->ranged ? run->range_end - run->range_begin : run->count;
}

static void print_stats(const ws_run *run, const ws_pool_result *r)
{
    double wall = (double)r->wall_ns / 1e9;
    fprintf(stderr, "wsrun stats: plugin %s, %llu indices (%llu ok, %llu failed), %u workers\n",
            run->desc.name, (unsigned long long)run_total(run),
            (unsigned long long)r->indices_done, (unsigned long long)r->failed, r->jobs);
    ws_worker_stats total;
    memset(&total, 0, sizeof total);
    for (unsigned w = 0; r->workers && w < r->jobs; w++) {
        const ws_worker_stats *s = &r->workers[w];
        total.indices += s->indices;
        total.tasks += s->tasks;
        total.steals += s->steals;
        total.steal_tries += s->steal_tries;
        total.splits += s->splits;
        total.retried += s->retried;
        total.busy_ns += s->busy_ns;
        total.idle_ns += s->idle_ns;
        total.parked_ns += s->parked_ns;
    }
    fprintf(stderr, "  wall %.3f s, %.0f indices/s, %llu tasks, %llu retries\n", wall,
            wall > 0 ? (double)r->indices_done / wall : 0.0, (unsigned long long)total.tasks,
            (unsigned long long)total.retried);
    if (!r->workers || r->jobs == 0)
        return;
    fprintf(stderr, "  %6s %12s %12s %15s %8s %10s %10s %10s\n", "worker", "indices", "tasks",
            "steals/tried", "splits", "busy_ms", "idle_ms", "parked_ms");
    char steals[48];
    for (unsigned w = 0; w <= r->jobs; w++) {
        const ws_worker_stats *s = w < r->jobs ? &r->workers[w] : &total;
        snprintf(steals, sizeof steals, "%llu/%llu", (unsigned long long)s->steals,
                 (unsigned long long)s->steal_tries);
        char label[16];
        snprintf(label, sizeof label, w < r->jobs ? "%u" : "total", w);
        fprintf(stderr, "  %6s %12llu %12llu %15s %8llu %10.1f %10.1f %10.1f\n", label,
                (unsigned long long)s->indices, (unsigned long long)s->tasks, steals,
                (unsigned long long)s->splits, ms(s->busy_ns), ms(s->idle_ns),
                ms(s->parked_ns));
    }
}

/* ----------------------------------------------------------------- run */

static const char *error_or_default(const ws_ctx *ctx)
{
    const char *msg = ws_ctx_error(ctx);
    return msg[0] ? msg : WS_NO_MESSAGE;
}

/* The pool, with the progress line around it (crash.c handles Ctrl-C).
 * Returns the run status handed to finish: 0 when every index succeeded. */
static int run_indices(ws_run *run, int show_progress, ws_pool_result *result)
{
    memset(result, 0, sizeof *result);
    uint64_t total = run_total(run);
    if (total == 0)
        return 0;
    if (ws_interrupted()) { /* during init: run nothing */
        ws_err("%s: interrupted by %s before any index ran", run->desc.name,
               ws_signal_name(ws_interrupted()));
        return 1;
    }
    progress p;
    int progress_on = show_progress && progress_start(&p, total, run->desc.name) == 0;
    int rc = wsrt_pool_run(wsrt_registry_pool(), run, result);
    if (progress_on) {
        progress_stop_redraws(&p);
        progress_end(&p, pool_final_count(result));
    }
    if (rc != 0)
        return 1;
    uint64_t skipped = 0; /* --resume: done by an earlier run */
    for (unsigned w = 0; result->workers && w < result->jobs; w++)
        skipped += result->workers[w].skipped;
    if (result->failed > 0) {
        uint64_t not_run = total - skipped - result->indices_done - result->failed;
        if (not_run > 0 && result->stopped_early)
            ws_err("%llu of %llu tasks failed (stopped early: %llu not run; --keep-going runs "
                   "them all)",
                   (unsigned long long)result->failed, (unsigned long long)total,
                   (unsigned long long)not_run);
        else
            ws_err("%llu of %llu tasks failed%s", (unsigned long long)result->failed,
                   (unsigned long long)total,
                   result->failed > 20 ? " (the first 20 are shown above)" : "");
    }
    int sig = ws_interrupted();
    if (sig)
        ws_err("%s: interrupted by %s: %llu of %llu indices done%s", run->desc.name,
               ws_signal_name(sig), (unsigned long long)(result->indices_done + skipped),
               (unsigned long long)total,
               run->hooks.index_done ? " (journaled: add --resume to the same command to finish)"
                                     : "");
    return result->failed > 0 || result->indices_done + skipped != total || sig;
}

/* wsrun-mpi: this rank's pool, blocks from the hooks; the hooks judge the
 * whole job and return its run status (the same on every rank). */
static int run_indices_hooked(ws_run *run, int show_progress, ws_pool_result *result)
{
    memset(result, 0, sizeof *result);
    progress p;
    int progress_on = show_progress && !cli_hooks->no_progress &&
                      progress_start(&p, run_total(run), run->desc.name) == 0;
    int rc = ws_interrupted() ? 0 : wsrt_pool_run(wsrt_registry_pool(), run, result);
    if (progress_on)
        progress_stop_redraws(&p);
    /* after_pool gathers every rank's final count: the last line shows it. */
    int status = cli_hooks->after_pool(cli_hooks->arg, run, result, rc, ws_interrupted());
    if (progress_on) /* the hook's count: all ranks, final after after_pool */
        progress_end(&p, progress_now());
    return status;
}

/* wsrun-mpi: each rank writes its own report, trace.json -> trace.rank1.json
 * ("-", stdout, stays). */
static const char *tagged_path(const char *path, char *buf, size_t size)
{
    if (!path || !cli_hooks || !cli_hooks->report_tag || strcmp(path, "-") == 0)
        return path;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    snprintf(buf, size, "%.*s.%s%s", (int)stem, path, cli_hooks->report_tag, path + stem);
    return buf;
}

/* After load and -o: init, count, pool, finish, stats. */
static int run_plugin(ws_run *run, const cli_args *a)
{
    const char *name = run->desc.name;
    ws_ctx_base main_ctx;
    ws_ctx_base_init(&main_ctx, run, UINT32_MAX);
    ws_ctx *ctx = &main_ctx.ctx;

    /* Opened before init: a bad report path stops the run before it starts. */
    ws_run_reports reports;
    char trace_buf[4200], json_buf[4200];
    if (ws_run_reports_open(&reports, run, tagged_path(a->trace_path, trace_buf, sizeof trace_buf),
                            tagged_path(a->stats_json_path, json_buf, sizeof json_buf)) != 0)
        return WS_EXIT_USAGE;
    run->state = NULL;
    ws_interrupts_install();
    ws_crash_set_phase("init");
    if (run->desc.init && run->desc.init(ctx, &run->state) != WS_OK) {
        ws_crash_set_phase(NULL);
        ws_interrupts_restore();
        ws_err("%s: init failed: %s", name, error_or_default(ctx));
        ws_run_reports_abort(&reports, NULL);
        return ws_interrupted() ? 128 + ws_interrupted() : WS_EXIT_USAGE;
    }
    ws_crash_set_phase(NULL);
    ws_scaling_child_span_start(); /* a --scaling run's span: from here ... */
    ws_journal *journal = NULL;
    int status = WS_EXIT_OK;
    int run_status = 1;
    ws_pool_result result;
    memset(&result, 0, sizeof result);
    int hooked = 0; /* before_run was called: after_finish must follow */
    if (run->count != WS_COUNT_UNSET && a->shard_given) {
        run->ranged = 1;
        ws_shard_range(run->count, a->shard_k, a->shard_n, &run->range_begin, &run->range_end);
    }
    if (run->count == WS_COUNT_UNSET) {
        ws_err("%s: --count is required", name);
        status = WS_EXIT_USAGE;
    } else if (ws_journal_start(&journal, a->journal_path, a->resume, run) != 0) {
        status = WS_EXIT_USAGE;
    } else if (cli_hooks && (status = cli_hooks->before_run(cli_hooks->arg, run)) != 0) {
        hooked = -1; /* the job refused to run: finish sees a failed run */
    } else {
        int show = a->progress == PROGRESS_ON ||
                   (a->progress == PROGRESS_AUTO && !a->quiet && isatty(STDERR_FILENO));
        hooked = cli_hooks != NULL;
        run_status = hooked ? run_indices_hooked(run, show, &result)
                            : run_indices(run, show, &result);
        if (run_status != 0)
            status = WS_EXIT_TASK_FAILED;
    }
    ws_journal_finish(journal);
    ws_scaling_child_span_end(&result); /* ... to here */
    ws_ctx_clear_error(ctx);
    ws_crash_set_phase("finish");
    if (run->desc.finish && run->desc.finish(run->state, run_status, ctx) != WS_OK) {
        ws_err("%s: finish failed: %s", name, error_or_default(ctx));
        if (status == WS_EXIT_OK)
            status = WS_EXIT_TASK_FAILED;
    }
    ws_crash_set_phase(NULL);
    ws_interrupts_restore();
    if (ws_interrupted())
        status = 128 + ws_interrupted(); /* 130 SIGINT, 143 SIGTERM */
    if (hooked) /* wsrun-mpi: every rank's status, and rank 0's summary */
        status = cli_hooks->after_finish(cli_hooks->arg, run, &result, status);
    else if (a->stats && run->count != WS_COUNT_UNSET)
        print_stats(run, &result);
    if (run->count == WS_COUNT_UNSET || status == WS_EXIT_USAGE) /* the pool never ran */
        ws_run_reports_abort(&reports, &result);
    else if (ws_run_reports_write(&reports, run, &result) != 0 && status == WS_EXIT_OK)
        status = WS_EXIT_TASK_FAILED;
    free(result.workers);
    return status;
}

int ws_cli_main(int argc, char **argv)
{
    return ws_cli_main_hooked(argc, argv, NULL);
}

int ws_cli_main_hooked(int argc, char **argv, const ws_cli_hooks *hooks)
{
    cli_hooks = hooks;
    cli_args a;
    if (parse_args(argc, argv, &a) != 0) {
        free(a.assignments);
        return WS_EXIT_USAGE;
    }
    /* A run of a --scaling study: a plain run at the study's -j. */
    int child = cli_hooks ? 0 : ws_scaling_child_take(&a.jobs);
    if (child < 0) {
        free(a.assignments);
        return WS_EXIT_USAGE;
    }
    if (child) {
        a.scaling.given = 0;
        a.progress = PROGRESS_OFF;
    }
    if (a.version) {
        printf("wsrun %s (plugin ABI %d.%d)\n", WS_VERSION, WS_ABI_MAJOR, WS_ABI_MINOR);
        free(a.assignments);
        return WS_EXIT_OK;
    }
    if (a.list_plugins) {
        free(a.assignments);
        return ws_discover_list(stdout, getenv("WSRUN_PLUGIN_PATH"), NULL) < 0 ? WS_EXIT_USAGE
                                                                              : WS_EXIT_OK;
    }
    if (!a.plugin) {
        free(a.assignments);
        if (a.help) {
            print_usage(stdout);
            return WS_EXIT_OK;
        }
        ws_err("--plugin is required (see wsrun --help)");
        return WS_EXIT_USAGE;
    }
    if (a.scaling.given && !a.help) {
        int study = ws_scaling_main(&a.scaling, a.plugin, scaling_clash(&a), argv);
        free(a.assignments);
        return study;
    }

    ws_run run;
    memset(&run, 0, sizeof run);
    char err[2048];
    int status = WS_EXIT_USAGE;
    ws_crash_install(NULL);
    /* The workers' threads start while the plugin loads (standby.h);
     * every way out below ends them if no run comes. */
    if (!a.help && wsrt_registry_register(wsrt_pool_create(a.jobs)) != 0) {
        ws_err("cannot set up %u workers: %s", a.jobs, strerror(errno));
        goto out;
    }
    if (ws_loader_load(&run, a.plugin, err, sizeof err) != 0) {
        ws_err("%s", err);
        goto out;
    }
    ws_crash_install(run.desc.name);
    ws_crash_set_plugin_code((const void *)(uintptr_t)run.desc.run_one);
    ws_plugin_exit_guard_install();
    if (a.help) {
        print_plugin_help(&run);
        status = WS_EXIT_OK;
        goto out;
    }
    if (ws_opts_setup(&run, err, sizeof err) != 0) {
        ws_err("%s", err);
        goto out;
    }
    for (size_t k = 0; k < a.n_assignments; k++) {
        if (ws_opts_apply(&run, a.assignments[k], err, sizeof err) != 0) {
            ws_err("%s", err);
            goto out;
        }
    }
    if (a.journal_path && cli_hooks && cli_hooks->journal_refused) {
        ws_err("--journal: %s", cli_hooks->journal_refused);
        goto out;
    }
    if (a.shard_given && !(run.desc.flags & WS_PLUGIN_RESUMABLE)) {
        ws_err("--shard: plugin %s cannot run in parts (its output is made from all indices "
               "together, so one part alone would be incomplete); run it without --shard",
               run.desc.name);
        goto out;
    }
    run.count = a.count_given ? a.count : WS_COUNT_UNSET;
    run.count_given = a.count_given;
    run.seed = a.seed;
    run.jobs = a.jobs;
    run.quiet = a.quiet;
    run.stats = a.stats;
    run.policy.keep_going = a.keep_going;
    run.policy.retries = a.retries;
    status = run_plugin(&run, &a);
out:
    /* The workers' threads end while finish runs, and threads
     * wsrt_pool_create started may have had no run: join them all now. */
    wsrt_pool_destroy(wsrt_registry_unregister());
    /* The plugin stays loaded until exit: dlclose could unmap code that a
     * library it uses registered with atexit or as a thread-local
     * destructor. */
    ws_opts_free(&run);
    free((char *)run.plugin_path);
    free(a.assignments);
    fflush(stdout);
    return status;
}
