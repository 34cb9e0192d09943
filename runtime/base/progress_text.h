/*
 * progress_text.h - internal, header-only: the text of a progress line,
 * "wsrun: NAME: done/total (x%) rate/s ETA m:ss, N workers busy", from
 * counts and the time elapsed.  wsrun's line (runtime/cmd/progress.c) and
 * wsrun.map's (python/wsrun_progress.c) both draw it, so the two look
 * alike; header-only because the Python extension links nothing of
 * libwsrun but its public API.
 *
 * Must never depend on anything but libc (no runtime state, no other
 * runtime header, no function defined in a .c file), and never write or
 * allocate: it only formats into the caller's buffer.
 */
#ifndef WSRT_PROGRESS_TEXT_H
#define WSRT_PROGRESS_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Room for the longest text snprintf can make here (gcc counts %.0f of a
 * double as up to 309 digits), so no build level warns of truncation. */
#define WSRT_PROGRESS_TEXT_MAX 1024

/* The line for `name` (shown as given: escape it first) with done of
 * total indices finished after elapsed_s seconds and busy workers, into
 * out[out_size] (out_size >= WSRT_PROGRESS_TEXT_MAX: never cut).  The rate
 * is the mean since the start; the ETA is the rest at that rate, "--:--"
 * before the first index.  Returns the length written. */
static inline size_t wsrt_progress_text(char *out, size_t out_size, const char *name,
                                        uint64_t done, uint64_t total, double elapsed_s,
                                        unsigned busy)
{
    if (done > total)
        done = total;
    double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
    char eta[32] = "--:--";
    if (rate > 0) {
        unsigned long long left = (unsigned long long)((double)(total - done) / rate + 0.5);
        if (left >= 3600)
            snprintf(eta, sizeof eta, "%lluh%02llum", left / 3600, left / 60 % 60);
        else
            snprintf(eta, sizeof eta, "%llu:%02llu", left / 60, left % 60);
    }
    int n = snprintf(out, out_size, "wsrun: %s: %llu/%llu (%.1f%%) %.0f/s ETA %s, %u workers busy",
                     name, (unsigned long long)done, (unsigned long long)total,
                     total ? 100.0 * (double)done / (double)total : 100.0, rate, eta, busy);
    if (n < 0)
        return 0;
    return (size_t)n < out_size ? (size_t)n : out_size - 1;
}

#endif
