/*
 * args.h - internal: the command line of wsrun and wsrun-mpi, parsed by one
 * parser (args.c) into a wsrt_args.  Both programs call it: wsrun-mpi
 * never parses options of its own, so every option means the same in both.
 *
 * The parser never loads, runs or opens anything: it checks the text of
 * the arguments and prints one "wsrun: ..." line for the first mistake.
 */
#ifndef WSRT_ARGS_H
#define WSRT_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scaling.h"
#include "wsrun.h"

#define WSRT_MAX_JOBS 4096

enum wsrt_progress_mode {
    WSRT_PROGRESS_AUTO = -1, /* on when stderr is a terminal and not --quiet */
    WSRT_PROGRESS_OFF = 0,
    WSRT_PROGRESS_ON = 1,
};

typedef struct wsrt_args {
    const char *plugin;
    const char **assignments; /* the -o values, in order; wsrt_args_free */
    size_t n_assignments;
    uint64_t count;
    int count_given;
    uint64_t seed;
    unsigned jobs; /* --jobs, or the CPUs this process may use */
    int quiet, stats, keep_going, help, version;
    int progress; /* enum wsrt_progress_mode */
    unsigned retries;
    const char *trace_path, *stats_json_path; /* --trace, --stats-json */
    const char *journal_path; /* --journal */
    int resume;
    int list_plugins;
    int shard_given; /* --shard K/N */
    uint64_t shard_k, shard_n;
    int jobs_given;
    size_t stack_bytes; /* --stack; 0: the default (WSRT_WORKER_STACK_BYTES) */
    wsrt_scaling_args scaling; /* --scaling and its options (scaling.h) */
    /* --isolate[=force], --timeout, --worker-memory (issue 24, isolate.h) */
    int isolate;            /* 0 no, 1 --isolate, 2 --isolate=force */
    int isolate_given;
    uint64_t timeout_ms;    /* 0: none */
    uint64_t worker_memory; /* bytes; 0: none */
} wsrt_args;

/* Parse argv into *a (the strings stay argv's).  0, or -1 after printing
 * one "wsrun: ..." line; call wsrt_args_free either way. */
int wsrt_args_parse(int argc, char **argv, wsrt_args *a);
void wsrt_args_free(wsrt_args *a);

/* --help without --plugin; `program` is the command's name in it. */
void wsrt_args_print_usage(FILE *out, const char *program);
/* --help with --plugin, once the plugin is loaded: its options. */
void wsrt_args_print_plugin_help(FILE *out, const ws_run *run, const char *program);

#endif
