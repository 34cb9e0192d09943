/*
 * trace.c - --trace: writes the pool's trace events as Chrome trace-event
 * JSON (the "JSON Object Format": {"traceEvents": [...]}).
 *
 * Must never write a timestamp that was rounded (nested spans must stay
 * nested in the viewer, so times are printed exactly, as ns / 1000 with
 * three decimals), never invent events the pool did not record, and never
 * run while the pool does (it reads the logs wsrt_pool_run handed back).
 */
#include "trace.h"

#include <stdlib.h>

#include "report.h"

/* Chrome trace viewers key tracks by (pid, tid); 0 is avoided for tid
 * because some importers treat it as "no thread". */
#define TRACE_PID 1

static int by_start_then_longest(const void *pa, const void *pb)
{
    const wsrt_trace_event *a = pa, *b = pb;
    if (a->t0_ns != b->t0_ns)
        return a->t0_ns < b->t0_ns ? -1 : 1;
    if (a->t1_ns != b->t1_ns)
        return a->t1_ns > b->t1_ns ? -1 : 1;
    return 0;
}

static void event_head(FILE *out, const char *ph, unsigned worker, uint64_t t0)
{
    fprintf(out, ",\n{\"ph\":\"%s\",\"pid\":%d,\"tid\":%u,\"ts\":", ph, TRACE_PID, worker + 1);
    wsrt_json_us(out, t0);
}

static void write_span(FILE *out, unsigned worker, const wsrt_trace_event *e)
{
    uint64_t dur = e->t1_ns > e->t0_ns ? e->t1_ns - e->t0_ns : 0;
    switch (e->kind) {
    case WSRT_TRACE_RANGE:
        event_head(out, "X", worker, e->t0_ns);
        fputs(",\"dur\":", out);
        wsrt_json_us(out, dur);
        /* The name shows inclusive bounds as people count; args keep the
         * half-open range the runtime uses. */
        fprintf(out,
                ",\"cat\":\"range\",\"name\":\"indices %llu-%llu\",\"args\":{\"begin\":%llu,"
                "\"end\":%llu,\"indices\":%llu}}",
                (unsigned long long)e->a, (unsigned long long)(e->b - 1),
                (unsigned long long)e->a, (unsigned long long)e->b,
                (unsigned long long)(e->b - e->a));
        break;
    case WSRT_TRACE_TASK:
        event_head(out, "X", worker, e->t0_ns);
        fputs(",\"dur\":", out);
        wsrt_json_us(out, dur);
        fprintf(out, ",\"cat\":\"task\",\"name\":\"stolen task\",\"args\":{\"victim\":%llu}}",
                (unsigned long long)e->a);
        break;
    case WSRT_TRACE_PARK:
        event_head(out, "X", worker, e->t0_ns);
        fputs(",\"dur\":", out);
        wsrt_json_us(out, dur);
        fputs(",\"cat\":\"park\",\"name\":\"parked\"}", out);
        break;
    case WSRT_TRACE_STEAL:
        event_head(out, "i", worker, e->t0_ns);
        fprintf(out,
                ",\"s\":\"t\",\"cat\":\"steal\",\"name\":\"steal from worker %llu\","
                "\"args\":{\"victim\":%llu}}",
                (unsigned long long)e->a, (unsigned long long)e->a);
        break;
    default:
        break; /* a kind this writer does not know: leave it out */
    }
}

void wsrt_trace_write(FILE *out, const ws_run *run, wsrt_pool_result *result)
{
    const char *name = run->desc.name ? run->desc.name : "?";
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"wsrun\":", out);
    wsrt_json_string(out, WS_VERSION);
    fputs(",\"plugin\":", out);
    wsrt_json_string(out, name);
    uint64_t count = run->count == WS_COUNT_UNSET ? 0 : run->count;
    /* The indices this process was given: all, or its --shard. */
    fprintf(out,
            ",\"count\":%llu,\"begin\":%llu,\"end\":%llu,\"jobs\":%u,\"wall_ns\":%llu},\n"
            "\"traceEvents\":[",
            (unsigned long long)count, (unsigned long long)(run->ranged ? run->range_begin : 0),
            (unsigned long long)(run->ranged ? run->range_end : count), result->jobs,
            (unsigned long long)result->wall_ns);
    fprintf(out, "\n{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\",\"args\":{"
                 "\"name\":", TRACE_PID);
    char label[320];
    snprintf(label, sizeof label, "wsrun %s", name);
    wsrt_json_string(out, label);
    fputs("}}", out);
    for (unsigned w = 0; w < result->jobs; w++) {
        fprintf(out,
                ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%u,\"name\":\"thread_name\",\"args\":{"
                "\"name\":\"worker %u\"}}",
                TRACE_PID, w + 1, w);
        fprintf(out,
                ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%u,\"name\":\"thread_sort_index\","
                "\"args\":{\"sort_index\":%u}}",
                TRACE_PID, w + 1, w);
    }
    for (unsigned w = 0; result->traces && w < result->jobs; w++) {
        wsrt_trace_log *log = &result->traces[w];
        if (log->n > 1)
            qsort(log->events, log->n, sizeof *log->events, by_start_then_longest);
        for (size_t k = 0; k < log->n; k++)
            write_span(out, w, &log->events[k]);
    }
    fputs("\n]}\n", out);
}

void wsrt_trace_free(wsrt_pool_result *result)
{
    if (!result->traces)
        return;
    for (unsigned w = 0; w < result->jobs; w++)
        free(result->traces[w].events);
    free(result->traces);
    result->traces = NULL;
}
