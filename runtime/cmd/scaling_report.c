/*
 * scaling_report.c - what `wsrun --scaling` shows (scaling.h): the table
 * of medians per -j with speedup and efficiency against the smallest -j,
 * the machine line, the warnings (busy machine, wide spread, output that
 * differs between runs), the per-round CSV and the gnuplot script.
 *
 * Must never print a figure the CSV does not support: every number of the
 * table is the median, minimum or maximum of a CSV column over the rounds
 * done.  Never runs anything or touches a file itself.
 */
#include "scaling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "term_text.h"

/* Spread above which a -j's times are flagged (max over min). */
#define WIDE_SPREAD 1.2

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double wsrt_scaling_median(const wsrt_scaling_study *s, size_t k,
                         double (*field)(const wsrt_scaling_run *))
{
    unsigned n = s->rounds_done;
    if (n == 0)
        return 0.0;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return NAN;
    for (unsigned r = 0; r < n; r++)
        v[r] = field(&s->runs[r * s->n_jobs + k]);
    qsort(v, n, sizeof *v, by_value);
    double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    free(v);
    return m;
}

static double span_of(const wsrt_scaling_run *r) { return r->span_s; }
static double cpu_per_wall_of(const wsrt_scaling_run *r)
{
    return r->span_s > 0 ? r->cpu_s / r->span_s : 0.0;
}
static double steals_of(const wsrt_scaling_run *r) { return (double)r->steals; }
static double parked_of(const wsrt_scaling_run *r) { return r->parked_ms; }

static void span_range(const wsrt_scaling_study *s, size_t k, double *lo, double *hi)
{
    *lo = *hi = s->runs[k].span_s;
    for (unsigned r = 1; r < s->rounds_done; r++) {
        double v = s->runs[r * s->n_jobs + k].span_s;
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
}

static void print_jobs_list(FILE *out, const wsrt_scaling_study *s)
{
    for (size_t k = 0; k < s->n_jobs; k++)
        fprintf(out, "%s%u", k ? "," : "", s->jobs[k]);
}

/* The first run whose output differs from round 1's at the smallest -j,
 * or -1. */
static long first_output_difference(const wsrt_scaling_study *s)
{
    const wsrt_scaling_run *first = &s->runs[0];
    size_t n = (size_t)s->rounds_done * s->n_jobs;
    for (size_t i = 1; i < n; i++)
        if (s->runs[i].output_hash != first->output_hash ||
            s->runs[i].output_bytes != first->output_bytes)
            return (long)i;
    return -1;
}

static void print_output_check(FILE *out, const wsrt_scaling_study *s)
{
    size_t n = (size_t)s->rounds_done * s->n_jobs;
    long diff = first_output_difference(s);
    if (diff < 0) {
        fprintf(out, "output: the same in all %zu runs (%llu bytes on stdout, captured)\n", n,
                (unsigned long long)s->runs[0].output_bytes);
        return;
    }
    if (s->allow_diff) {
        fprintf(out, "output: differs between runs (allowed by --scaling-allow-diff)\n");
        return;
    }
    const wsrt_scaling_run *d = &s->runs[diff];
    fprintf(out,
            "warning: the plugin's output differs between runs: round 1 at -j %u gave %llu "
            "bytes (hash %016llx), round %zu at -j %u gave %llu bytes (hash %016llx); its "
            "result may depend on the schedule (--scaling-keep-output FILE saves the first "
            "run's; --scaling-allow-diff when that is expected)\n",
            s->jobs[0], (unsigned long long)s->runs[0].output_bytes,
            (unsigned long long)s->runs[0].output_hash, (size_t)diff / s->n_jobs + 1,
            s->jobs[(size_t)diff % s->n_jobs], (unsigned long long)d->output_bytes,
            (unsigned long long)d->output_hash);
}

void wsrt_scaling_print_table(FILE *out, const wsrt_scaling_study *s)
{
    char plugin[256]; /* may hold control bytes (term_text.h) */
    wsrt_term_text(plugin, sizeof plugin, s->plugin, strlen(s->plugin));
    fprintf(out, "wsrun --scaling: plugin %s, -j ", plugin);
    print_jobs_list(out, s);
    fprintf(out, ", %u round%s", s->rounds_done, s->rounds_done == 1 ? "" : "s");
    if (s->rounds_done < s->rounds)
        fprintf(out, " of %u (stopped early)", s->rounds);
    fprintf(out, " interleaved; times: the parallel span (end of init to start of finish)\n");
    fprintf(out, "machine: %s, %u CPUs allowed, load average %.2f before, %.2f after\n",
            s->cpu_model, s->cpus_allowed, s->load_before, s->load_after);
    fprintf(out, "%5s %11s %11s %11s %8s %10s %9s %10s %10s\n", "-j", "median_s", "min_s",
            "max_s", "speedup", "efficiency", "cpu/wall", "steals", "parked_ms");
    double base = wsrt_scaling_median(s, 0, span_of);
    double worst_spread = 0;
    unsigned worst_jobs = 0;
    for (size_t k = 0; k < s->n_jobs; k++) {
        double median = wsrt_scaling_median(s, k, span_of), lo, hi;
        span_range(s, k, &lo, &hi);
        double speedup = median > 0 ? base / median : 0.0;
        double efficiency = speedup * (double)s->jobs[0] / (double)s->jobs[k];
        fprintf(out, "%5u %11.6f %11.6f %11.6f %8.2f %10.2f %9.2f %10.0f %10.1f\n", s->jobs[k],
                median, lo, hi, speedup, efficiency, wsrt_scaling_median(s, k, cpu_per_wall_of),
                wsrt_scaling_median(s, k, steals_of), wsrt_scaling_median(s, k, parked_of));
        double spread = lo > 0 ? hi / lo : 0.0;
        if (spread > worst_spread) {
            worst_spread = spread;
            worst_jobs = s->jobs[k];
        }
    }
    fprintf(out, "speedup and efficiency: against -j %u; medians over the rounds\n", s->jobs[0]);
    print_output_check(out, s);
    if (s->load_before >= (double)s->cpus_allowed / 2)
        fprintf(out,
                "warning: the machine was busy: load average %.2f at the start, at least half "
                "of the %u CPUs allowed; the times may be off\n",
                s->load_before, s->cpus_allowed);
    if (worst_spread > WIDE_SPREAD)
        fprintf(out,
                "warning: wide spread: max/min %.2f at -j %u (over %.1f); more rounds "
                "(--repeat) or a quieter machine give steadier figures\n",
                worst_spread, worst_jobs, WIDE_SPREAD);
}

void wsrt_scaling_write_csv(FILE *out, const wsrt_scaling_study *s)
{
    fprintf(out, "round,jobs,span_s,cpu_s,cpu_per_wall,steals,parked_ms,output_bytes,"
                 "output_hash\n");
    for (unsigned r = 0; r < s->rounds_done; r++)
        for (size_t k = 0; k < s->n_jobs; k++) {
            const wsrt_scaling_run *run = &s->runs[r * s->n_jobs + k];
            fprintf(out, "%u,%u,%.9f,%.9f,%.6f,%llu,%.6f,%llu,%016llx\n", r + 1, s->jobs[k],
                    run->span_s, run->cpu_s, cpu_per_wall_of(run),
                    (unsigned long long)run->steals, run->parked_ms,
                    (unsigned long long)run->output_bytes,
                    (unsigned long long)run->output_hash);
        }
}

/* Text inside a gnuplot double-quoted string: no quote, no backslash. */
static void put_plain(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        putc(*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p, out);
}

void wsrt_scaling_write_plot_script(FILE *out, const wsrt_scaling_study *s)
{
    unsigned lo = s->jobs[0], hi = s->jobs[s->n_jobs - 1];
    double base = wsrt_scaling_median(s, 0, span_of);
    double top = (double)hi / lo;
    fprintf(out, "set terminal pngcairo size 900,560 noenhanced\nset output\n");
    fprintf(out, "set title \"wsrun --scaling: ");
    put_plain(out, s->plugin);
    fprintf(out, " on ");
    put_plain(out, s->cpu_model);
    fprintf(out, " (%u CPUs allowed)\"\n", s->cpus_allowed);
    fprintf(out, "set xlabel \"-j (worker threads)\"\nset ylabel \"speedup over -j %u\"\n", lo);
    fprintf(out, "set key top left\nset grid\n");
    fprintf(out, "set xrange [%g:%g]\n", lo - 0.2 * lo, hi + 0.05 * hi + 0.2);
    fprintf(out, "set xtics (");
    for (size_t k = 0; k < s->n_jobs; k++)
        fprintf(out, "%s%u", k ? ", " : "", s->jobs[k]);
    fprintf(out, ")\n$speedup << EOD\n");
    for (size_t k = 0; k < s->n_jobs; k++) {
        double m = wsrt_scaling_median(s, k, span_of);
        fprintf(out, "%u %.6f\n", s->jobs[k], m > 0 ? base / m : 0.0);
        if (m > 0 && base / m > top)
            top = base / m;
    }
    fprintf(out, "EOD\nset yrange [0:%g]\n", top * 1.15);
    fprintf(out, "plot $speedup using 1:2 with linespoints lw 2 pt 7 title \"median span\", \\\n"
                 "     x / %u.0 with lines dt 2 lc rgb \"gray\" title \"ideal\"\n", lo);
}
