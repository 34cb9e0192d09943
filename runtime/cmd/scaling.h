/*
 * scaling.h - internal: `wsrun --scaling LIST`, a scaling study of any
 * plugin.  The parent (scaling.c) runs the same command once per -j value
 * and round, each run a fresh wsrun process; the child's half
 * (scaling_child.c) reports that run's parallel span back through an
 * inherited pipe; scaling_report.c prints the table and writes the CSV and
 * the plot; scaling_list.c reads the -j list.
 *
 * Never included by plugins.  Nothing here may change a run that was not
 * started by a study: the child calls are no-ops there.
 */
#ifndef WSRT_SCALING_H
#define WSRT_SCALING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct wsrt_pool_result;

/* The environment variable a study sets for its runs: "<fd>,<jobs>". */
#define WSRT_SCALING_CHILD_ENV "WSRUN_SCALING_CHILD"
/* Test hook, documented as test-only: after round K of a study ends, the
 * parent raises SIGINT in itself (tests/cli/scaling.sh). */
#define WSRT_SCALING_TEST_INTERRUPT_ENV "WSRUN_TEST_SCALING_INTERRUPT_AFTER_ROUND"

#define WSRT_SCALING_MAX_JOBS 4096
#define WSRT_SCALING_MAX_ROUNDS 1000
#define WSRT_SCALING_DEFAULT_ROUNDS 5

/* The study's options as typed; checked by wsrt_scaling_main. */
typedef struct wsrt_scaling_args {
    int given;                 /* --scaling */
    const char *list;          /* --scaling LIST ("" or NULL: the default) */
    const char *repeat;        /* --repeat R, or NULL */
    const char *csv_path;      /* --scaling-csv FILE */
    const char *plot_path;     /* --scaling-plot FILE.png */
    const char *keep_output;   /* --scaling-keep-output FILE */
    int allow_diff;            /* --scaling-allow-diff */
} wsrt_scaling_args;

/* Run the study of the command `argv` (the whole wsrun command line, which
 * each run gets again unchanged).  `plugin` names the plugin in the table.
 * `clash`: an option given that a study cannot honour ("--jobs"), or NULL.
 * Returns the exit status: 0, 1 a run failed, 2 bad study options or a
 * run refused its command line, 130/143 interrupted. */
int wsrt_scaling_main(const wsrt_scaling_args *args, const char *plugin, const char *clash,
                    char **argv);

/* The first study option given without --scaling ("--repeat"), or NULL. */
const char *wsrt_scaling_orphan_option(const wsrt_scaling_args *args);

/* LIST ("1,2,4", "1-16", "1,4-6") into ascending -j values (malloc'd).
 * Returns 0, or -1 with one line naming the bad value in err. */
int wsrt_scaling_parse_list(const char *text, unsigned **jobs, size_t *n, char *err,
                          size_t err_size);

/* The default list for `cpus` allowed CPUs: 1, 2, 4, ... below cpus, and
 * cpus itself (malloc'd).  Returns 0, or -1 when out of memory. */
int wsrt_scaling_default_list(unsigned cpus, unsigned **jobs, size_t *n);

/* ---------------------------------------------------------- the child */

/* Called once at start-up: when this process is a study's run, take the
 * variable out of the environment (the plugin's children never see it),
 * set *jobs to the run's -j and return 1.  Returns 0 for a plain run, -1
 * (message printed) when the variable is malformed. */
int wsrt_scaling_child_take(unsigned *jobs);
/* The span: starts when init has returned ... */
void wsrt_scaling_child_span_start(void);
/* ... and ends before finish is called; writes the report line. */
void wsrt_scaling_child_span_end(const struct wsrt_pool_result *result);

/* ---------------------------------------------------------- the report */

/* One run's figures, as the child reported them. */
typedef struct wsrt_scaling_run {
    double span_s, cpu_s;
    uint64_t steals;
    double parked_ms;
    uint64_t output_bytes, output_hash; /* of the plugin's stdout */
} wsrt_scaling_run;

typedef struct wsrt_scaling_study {
    const char *plugin;
    unsigned *jobs; /* ascending */
    size_t n_jobs;
    unsigned rounds;      /* asked for */
    unsigned rounds_done; /* complete rounds in runs[] */
    wsrt_scaling_run *runs; /* runs[round * n_jobs + k] */
    char cpu_model[256];
    unsigned cpus_allowed;
    double load_before, load_after; /* 1-minute load average; < 0 unknown */
    int allow_diff;
} wsrt_scaling_study;

/* The table, the machine line and the warnings, to `out`. */
void wsrt_scaling_print_table(FILE *out, const wsrt_scaling_study *s);
/* The per-round CSV (header line, one row per run of the rounds done). */
void wsrt_scaling_write_csv(FILE *out, const wsrt_scaling_study *s);
/* The gnuplot script that draws speedup against -j with the ideal line
 * (the PNG goes to gnuplot's standard output). */
void wsrt_scaling_write_plot_script(FILE *out, const wsrt_scaling_study *s);
/* Median of the figure `field` picks out at jobs[k] over the rounds done. */
double wsrt_scaling_median(const wsrt_scaling_study *s, size_t k,
                         double (*field)(const wsrt_scaling_run *));

#endif
