/*
 * args.c - the one parser of the wsrun and wsrun-mpi command line (args.h):
 * getopt_long over the options of wsrun(1), each value checked, and the
 * --help texts: the command's, and a loaded plugin's.
 *
 * Must never act on what it parses (no plugin, file or thread is touched
 * here) and never print more than one "wsrun: ..." line per mistake; the
 * messages are pinned by the tests/cli scripts and the man pages.
 */
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "run.h"
#include "shard.h"
#include "placement.h"
#include "pool.h"
#include "term_text.h"

#define MAX_RETRIES 1000
#define MAX_COUNT ((uint64_t)INT64_MAX)

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
    OPT_STACK,
    OPT_ISOLATE,       /* issue 24 */
    OPT_TIMEOUT,       /* issue 24 */
    OPT_WORKER_MEMORY, /* issue 24 */
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
    {"stack", required_argument, NULL, OPT_STACK},
    {"isolate", optional_argument, NULL, OPT_ISOLATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"worker-memory", required_argument, NULL, OPT_WORKER_MEMORY},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void wsrt_args_print_usage(FILE *out, const char *program)
{
    fprintf(out, "usage: %s --plugin NAME [--count N] [-o key=value ...] [options]\n",
            program);
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
            "      --stack SIZE    each worker's stack, e.g. 256M (default 64M; 256K..64G):\n"
            "                      the depth tasks may recurse to; a quarter more goes to\n"
            "                      fork-join frames (SIZE/256 of them); all of it counts\n"
            "                      against ulimit -v, times -j\n"
            "      --keep-going    run every index even after failures\n"
            "      --retries N     extra attempts for a failing index (default 0)\n"
            "      --isolate[=force|off]  run the plugin's per-worker calls in one process\n"
            "                      per worker: a crash fails its index only; =force for a\n"
            "                      plugin not marked isolatable (docs/failures.md)\n"
            "      --timeout S     with --isolate: kill an index running over S seconds\n"
            "      --worker-memory SIZE  with --isolate: memory limit per worker process\n"
            "                      (RLIMIT_DATA; SIZE in bytes or with K, M, G)\n"
            "      --journal FILE  record finished indices in FILE (docs/failures.md);\n"
            "                      only for --count up to 2^40, also under --shard\n"
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
            "failed; 2 bad command line, plugin not loadable, bad -o option, the\n"
            "plugin's init failed, or the workers could not start (see --stack); 3 the plugin called exit() in a callback; 130 / 143\n"
            "stopped by SIGINT / SIGTERM; 128+N the plugin crashed with signal N (139\n"
            "SIGSEGV, 134 SIGABRT, 136 SIGFPE).\n",
            WSRT_MAX_JOBS);
}

/* --count, --jobs, --seed, --retries: one message style for all. */
static int parse_number(const char *option, const char *text, uint64_t min, uint64_t max,
                        uint64_t *out)
{
    uint64_t value;
    if (wsrt_parse_u64(text, UINT64_MAX, &value) != 0) {
        wsrt_err("%s: expected a whole number from %llu to %llu, got '%s'", option,
               (unsigned long long)min, (unsigned long long)max, text);
        return -1;
    }
    if (value < min || value > max) {
        wsrt_err("%s: %s is out of range %llu..%llu", option, text, (unsigned long long)min,
               (unsigned long long)max);
        return -1;
    }
    *out = value;
    return 0;
}

/* A size: plain decimal bytes, or digits with K, M, G or T (powers of
 * 1024), an optional B after it.  -1 for anything else; the caller words
 * the message, naming its option. */
static int parse_size_text(const char *text, uint64_t *out)
{
    char digits[32];
    size_t n = strlen(text);
    if (n > 0 && n < sizeof digits && (text[n - 1] == 'B' || text[n - 1] == 'b'))
        n--;
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, text, n);
    digits[n] = '\0';
    unsigned shift = 0;
    switch (digits[n - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift)
        digits[n - 1] = '\0';
    uint64_t value;
    if (wsrt_parse_u64(digits, UINT64_MAX >> shift, &value) != 0)
        return -1;
    *out = value << shift;
    return 0;
}

/* --stack SIZE, 256K..64G. */
static int parse_stack(const char *text, size_t *out)
{
    uint64_t value;
    if (parse_size_text(text, &value) != 0) {
        wsrt_err("--stack: expected a size such as 256M, 1G or 65536, got '%s'", text);
        return -1;
    }
    if (value < WSRT_WORKER_STACK_MIN || value > WSRT_WORKER_STACK_MAX) {
        wsrt_err("--stack: %s is out of range 256K..64G", text);
        return -1;
    }
    *out = (size_t)value;
    return 0;
}

/* --timeout: seconds, whole or with a fraction (0.5), to milliseconds. */
static int parse_timeout(const char *text, uint64_t *ms)
{
    char *end;
    errno = 0;
    double s = strtod(text, &end);
    if (errno || end == text || *end || !(s >= 0.001) || s > 1e9) {
        wsrt_err("--timeout: expected seconds from 0.001 to 1e9 (30, 0.5), got '%s'", text);
        return -1;
    }
    *ms = (uint64_t)(s * 1000.0 + 0.5);
    return 0;
}

/* --worker-memory SIZE, at least 1M. */
static int parse_worker_memory(const char *text, uint64_t *bytes)
{
    if (parse_size_text(text, bytes) != 0 || *bytes < ((uint64_t)1 << 20)) {
        wsrt_err("--worker-memory: expected a size of at least 1M (512M, 2G, or bytes), got "
                 "'%s'", text);
        return -1;
    }
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

int wsrt_args_parse(int argc, char **argv, wsrt_args *a)
{
    memset(a, 0, sizeof *a);
    a->progress = WSRT_PROGRESS_AUTO;
    a->assignments = calloc((size_t)argc + 1, sizeof *a->assignments);
    if (!a->assignments) {
        wsrt_err("out of memory");
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
            if (parse_number("--jobs", optarg, 1, WSRT_MAX_JOBS, &value) != 0)
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
        case OPT_PROGRESS: a->progress = WSRT_PROGRESS_ON; break;
        case OPT_NO_PROGRESS: a->progress = WSRT_PROGRESS_OFF; break;
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
            if (wsrt_shard_parse(optarg, &a->shard_k, &a->shard_n, why, sizeof why) != 0) {
                wsrt_err("%s", why);
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
        case OPT_STACK:
            if (parse_stack(optarg, &a->stack_bytes) != 0)
                return -1;
            break;
        case OPT_ISOLATE:
            if (optarg && strcmp(optarg, "force") != 0 && strcmp(optarg, "off") != 0) {
                wsrt_err("--isolate: unknown value '%s' (--isolate, --isolate=force or "
                         "--isolate=off)", optarg);
                return -1;
            }
            a->isolate = !optarg ? 1 : strcmp(optarg, "force") == 0 ? 2 : 0;
            a->isolate_given = 1;
            break;
        case OPT_TIMEOUT:
            if (parse_timeout(optarg, &a->timeout_ms) != 0)
                return -1;
            break;
        case OPT_WORKER_MEMORY:
            if (parse_worker_memory(optarg, &a->worker_memory) != 0)
                return -1;
            break;
        case 'h': a->help = 1; break;
        case 'V': a->version = 1; break;
        case ':':
            wsrt_err("option '%s' needs a value (see wsrun --help)",
                   option_as_typed(argv, optind, optopt, name, sizeof name));
            return -1;
        default:
            if (optopt > 0 && optopt < 128)
                wsrt_err("unknown option '-%c' (see wsrun --help)", optopt);
            else
                wsrt_err("unknown option '%s' (see wsrun --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        wsrt_err("unexpected argument '%s' (plugin options are given as -o key=value)",
               argv[optind]);
        return -1;
    }
    if (a->resume && !a->journal_path) {
        wsrt_err("--resume needs --journal FILE (the journal of the run to resume)");
        return -1;
    }
    const char *orphan = wsrt_scaling_orphan_option(&a->scaling);
    if (orphan) {
        wsrt_err("%s needs --scaling (it is an option of the scaling study)", orphan);
        return -1;
    }
    if (a->jobs == 0)
        a->jobs = wsrt_cpus_allowed(WSRT_MAX_JOBS);
    return 0;
}

void wsrt_args_free(wsrt_args *a)
{
    free(a->assignments);
    a->assignments = NULL;
}

void wsrt_args_print_plugin_help(FILE *out, const ws_run *run, const char *program)
{
    const ws_plugin *d = &run->desc;
    /* The descriptor's text and the paths as a terminal shows them as is
     * (term_text.h): the name equals the file's name, and either may hold
     * control sequences. */
    char name[256], version[256], description[1024], file[4200], prog[1024];
    const char *v = d->version ? d->version : "(no version)";
    const char *desc = d->description ? d->description : "(no description)";
    wsrt_term_text(name, sizeof name, d->name, strlen(d->name));
    wsrt_term_text(version, sizeof version, v, strlen(v));
    wsrt_term_text(description, sizeof description, desc, strlen(desc));
    const char *path = run->plugin_path ? run->plugin_path : "(none)";
    wsrt_term_text(file, sizeof file, path, strlen(path));
    wsrt_term_text(prog, sizeof prog, program, strlen(program));
    fprintf(out, "%s %s - %s\n", name, version, description);
    fprintf(out, "file: %s (built for plugin ABI %u.%u)\n\n", file, d->abi_major,
            d->abi_minor);
    fprintf(out, "usage: %s --plugin %s [--count N] [-o key=value ...]\n\n", prog, name);
    fprintf(out, "options:\n");
    wsrt_opts_print_table(out, d->options);
}
