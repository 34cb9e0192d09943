/*
 * stats_json.c - --stats-json: the counters of wsrt_worker_stats per worker
 * and summed, as JSON.  Field names are the counters' names, so the file
 * reads like pool.h; times stay integers in nanoseconds (no rounding).
 *
 * Must never print a number JSON cannot hold, and never change the meaning
 * of a field once written: scripts read these files.
 */
#include "stats_json.h"

#include <string.h>

#include "report.h"

void wsrt_stats_total(const wsrt_pool_result *result, wsrt_worker_stats *total)
{
    memset(total, 0, sizeof *total);
    for (unsigned w = 0; result->workers && w < result->jobs; w++) {
        const wsrt_worker_stats *s = &result->workers[w];
        total->indices += s->indices;
        total->tasks += s->tasks;
        total->steal_tries += s->steal_tries;
        total->steals += s->steals;
        total->publishes += s->publishes;
        total->splits += s->splits;
        total->failed += s->failed;
        total->retried += s->retried;
        total->skipped += s->skipped;
        total->busy_ns += s->busy_ns;
        total->idle_ns += s->idle_ns;
        total->parked_ns += s->parked_ns;
    }
}

static void write_counters(FILE *out, const wsrt_worker_stats *s)
{
    fprintf(out,
            "\"indices\":%llu,\"tasks\":%llu,\"steal_tries\":%llu,\"steals\":%llu,"
            "\"publishes\":%llu,\"splits\":%llu,\"failed\":%llu,\"retried\":%llu,"
            "\"skipped\":%llu,\"busy_ns\":%llu,\"idle_ns\":%llu,\"parked_ns\":%llu",
            (unsigned long long)s->indices, (unsigned long long)s->tasks,
            (unsigned long long)s->steal_tries, (unsigned long long)s->steals,
            (unsigned long long)s->publishes, (unsigned long long)s->splits,
            (unsigned long long)s->failed, (unsigned long long)s->retried,
            (unsigned long long)s->skipped, (unsigned long long)s->busy_ns,
            (unsigned long long)s->idle_ns, (unsigned long long)s->parked_ns);
}

void wsrt_stats_json_write(FILE *out, const ws_run *run, const wsrt_pool_result *result)
{
    wsrt_worker_stats total;
    wsrt_stats_total(result, &total);
    double wall_s = (double)result->wall_ns / 1e9;
    fputs("{\n  \"wsrun\": ", out);
    wsrt_json_string(out, WS_VERSION);
    fputs(",\n  \"plugin\": ", out);
    wsrt_json_string(out, run->desc.name);
    uint64_t count = run->count == WS_COUNT_UNSET ? 0 : run->count;
    /* begin/end: the indices this process was given (all, or its --shard). */
    fprintf(out,
            ",\n  \"count\": %llu,\n  \"begin\": %llu,\n  \"end\": %llu,\n  \"jobs\": %u,\n"
            "  \"seed\": %llu,\n",
            (unsigned long long)count, (unsigned long long)(run->ranged ? run->range_begin : 0),
            (unsigned long long)(run->ranged ? run->range_end : count), result->jobs,
            (unsigned long long)run->seed);
    fprintf(out, "  \"indices_ok\": %llu,\n  \"indices_failed\": %llu,\n",
            (unsigned long long)result->indices_done, (unsigned long long)result->failed);
    fprintf(out, "  \"stopped_early\": %s,\n  \"wall_ns\": %llu,\n",
            result->stopped_early ? "true" : "false", (unsigned long long)result->wall_ns);
    fputs("  \"indices_per_s\": ", out);
    wsrt_json_double(out, wall_s > 0 ? (double)result->indices_done / wall_s : 0.0);
    fputs(",\n  \"tasks_per_s\": ", out);
    wsrt_json_double(out, wall_s > 0 ? (double)total.tasks / wall_s : 0.0);
    fputs(",\n  \"total\": {", out);
    write_counters(out, &total);
    fputs("},\n  \"workers\": [", out);
    for (unsigned w = 0; result->workers && w < result->jobs; w++) {
        fprintf(out, "%s\n    {\"worker\":%u,", w ? "," : "", w);
        write_counters(out, &result->workers[w]);
        putc('}', out);
    }
    fputs("\n  ]\n}\n", out);
}
