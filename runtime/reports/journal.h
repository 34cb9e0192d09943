/*
 * journal.h - internal: the --journal file that records which indices of a
 * run finished (writer: journal.c), and the --resume reader that turns it
 * into skip bits (the format: journal_format.c).
 *
 * File format (docs/failures.md): one text header line
 *   wsrun-journal 1 id=<16 hex> plugin=<name> count=<N> seed=<S> options=<k=v,...>\n
 * (fields %XX-escaped, id a hash of the other fields), then 16-byte records
 * appended in batches: the index and a check word, both little-endian u64,
 * check = ws_mix64(index ^ id).  A record that fails its check, a repeated
 * index or a torn tail is ignored, never trusted.
 *
 * Must never trust a journal of another command (the header must match the
 * run exactly), never overwrite a file that is not a journal, and never
 * block or allocate in the per-index hook beyond its own buffer.
 */
#ifndef WSRT_JOURNAL_H
#define WSRT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

#define WSRT_JOURNAL_MAGIC "wsrun-journal"
#define WSRT_JOURNAL_VERSION 1
#define WSRT_JOURNAL_RECORD 16
/* Each worker writes its records in batches: WSRT_JOURNAL_BATCH records (4
 * KiB, one write(2) per 256 indices) or WSRT_JOURNAL_BATCH_MS old, whichever
 * comes first.  A SIGKILL loses at most the unwritten batch per worker. */
#define WSRT_JOURNAL_BATCH 256
#define WSRT_JOURNAL_BATCH_MS 100
/* A resume bitmap for more indices would not fit in the address space we
 * are willing to reserve (it is mapped lazily: 2^40 bits = 128 GiB). */
#define WSRT_JOURNAL_MAX_COUNT ((uint64_t)1 << 40)

/* What ties a journal to one command: its header line and hash. */
typedef struct wsrt_journal_key {
    char *header; /* the whole header line, with its newline; free() */
    size_t header_len;
    uint64_t id;
    char *plugin, *options; /* escaped, for messages; free() */
    uint64_t count, seed;
} wsrt_journal_key;

/* Build the key for these fields; `options` is the canonical option text
 * (wsrt_journal_options_text).  0, or -1 when out of memory. */
int wsrt_journal_key_build(const char *plugin, uint64_t count, uint64_t seed, const char *options,
                         wsrt_journal_key *key);
/* The canonical "name=value,..." text of a run's effective plugin options
 * (given or default, in table order, parsed values so 0100 == 100); NULL
 * when out of memory.  free() it. */
char *wsrt_journal_options_text(const ws_run *run);
void wsrt_journal_key_free(wsrt_journal_key *key);

/* What a scan of a journal's bytes found. */
typedef struct wsrt_journal_scan {
    int fresh;         /* empty or a torn header: nothing recorded, start over */
    uint64_t done;     /* distinct valid indices recorded */
    uint64_t ignored;  /* records ignored: bad check, index >= count, or repeated */
    size_t keep_len;   /* header + whole records: where appending continues */
} wsrt_journal_scan;

/* Check `data` (a journal's bytes) against `key` and set bit i of
 * skip_bits (count bits, zeroed by the caller; may be NULL) for each index
 * recorded done.  0, or -1 with a one-line reason in err when the data is
 * not a journal or belongs to another command.  Never reads past len. */
int wsrt_journal_scan_data(const unsigned char *data, size_t len, const wsrt_journal_key *key,
                         uint64_t *skip_bits, wsrt_journal_scan *out, char *err, size_t err_size);

/* A record's check word: check = ws_mix64(index ^ id) (the format above;
 * written by journal.c, checked by journal_format.c). */
static inline uint64_t wsrt_journal_check(uint64_t index, uint64_t id)
{
    return ws_mix64(index ^ id);
}

typedef struct wsrt_journal wsrt_journal;

/* Open `path` for the run (plugin options, count and seed final; jobs
 * set).  Without `resume` the file must not exist or be empty; with it, a
 * journal of the same command is read (a missing or empty file starts a
 * fresh one).  NULL with a one-line reason naming the file in err. */
wsrt_journal *wsrt_journal_open(const char *path, int resume, const ws_run *run, char *err,
                            size_t err_size);
uint64_t wsrt_journal_done(const wsrt_journal *j);    /* indices the journal said were done */
uint64_t wsrt_journal_ignored(const wsrt_journal *j); /* records it ignored */
/* Records written by this process so far (flushed batches only). */
uint64_t wsrt_journal_written(const wsrt_journal *j);
/* Point run->hooks at the journal: skip bits (when resuming) and the
 * per-index completion call. */
void wsrt_journal_attach(wsrt_journal *j, ws_run *run);
/* Flush all buffers and close.  0, or -1 with the reason in err (a write
 * failed at some point: some done indices may be missing from the file). */
int wsrt_journal_close(wsrt_journal *j, char *err, size_t err_size);

/* The CLI's use of the above, with its messages printed ("wsrun: ...").
 * Opens `path` (NULL: no journal, *out = NULL), says how much a resume
 * skips (unless quiet), and attaches it to run->hooks.  0, or -1 after
 * printing why. */
int wsrt_journal_start(wsrt_journal **out, const char *path, int resume, ws_run *run);
/* Close it after the pool stopped; a write failure is printed (the run's
 * results do not depend on the journal, so it is only a warning). */
void wsrt_journal_finish(wsrt_journal *j);

/* Write every buffered record of the open journal, from a signal handler
 * about to end the process (async-signal-safe; may duplicate records). */
void wsrt_journal_flush_from_signal(void);

/* Tests only: the clock (nanoseconds, monotonic) that ages the batches;
 * NULL restores the system's.  Set it before any journal is attached. */
void wsrt_journal_set_clock(uint64_t (*now_ns)(void));

#endif
