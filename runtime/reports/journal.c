/*
 * journal.c - --journal and --resume: opening a journal (reading it back
 * with journal_format.c when resuming) and the writer that the pool calls
 * after each finished index (journal.h has the format).
 *
 * Workers append records to their own buffer and write it out in one
 * write(2) on an O_APPEND descriptor when it holds a batch or has aged, so
 * records of different workers never interleave within a record.  Must
 * never let a failed write stop the run (the run's results do not depend
 * on the journal; a missing record only means an index is redone), and
 * never trust a record it cannot check.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define BATCH_RECORDS WSRT_JOURNAL_BATCH
#define BATCH_MAX_AGE_NS (WSRT_JOURNAL_BATCH_MS * 1000000ull)

typedef struct journal_buffer {
    _Alignas(64) _Atomic uint32_t n; /* records filled; release-stored after each */
    uint64_t first_ns;              /* when record 0 of this batch was added */
    unsigned char rec[BATCH_RECORDS][WSRT_JOURNAL_RECORD];
} journal_buffer;

struct wsrt_journal {
    char *path;
    int fd;
    wsrt_journal_key key;
    uint64_t count;
    uint64_t *skip_bits; /* mmap'd, count bits; NULL when nothing was done */
    size_t skip_bytes;
    uint64_t done, ignored;
    _Atomic uint64_t written;
    journal_buffer *buffers; /* one per worker */
    unsigned n_buffers;
    pthread_mutex_t write_lock; /* completes a short write before the next batch */
    _Atomic int write_errno;    /* first write failure; journaling stops there */
};

/* The open journal, for the signal-safe flush, and the number of signal
 * handlers using it: close waits for them before freeing it. */
static wsrt_journal *_Atomic active_journal;
static _Atomic int signal_flushers;

/* ------------------------------------------------------------- writer */

static void store_le64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* The batches' clock: the system's, or a test's (wsrt_journal_set_clock), so
 * that the age rule is tested by events, never by sleeping past it. */
static uint64_t (*batch_clock)(void) = wsrt_now_coarse_ns;

void wsrt_journal_set_clock(uint64_t (*now_ns)(void))
{
    batch_clock = now_ns ? now_ns : wsrt_now_coarse_ns;
}

static uint64_t coarse_now_ns(void)
{
    return batch_clock();
}

/* write(2) all of it; returns 0 or an errno. */
static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void flush_buffer(wsrt_journal *j, journal_buffer *b)
{
    /* relaxed: only the owning worker (or the main thread after the pool
     * stopped) changes n outside the signal path. */
    uint32_t n = atomic_load_explicit(&b->n, memory_order_relaxed);
    if (n == 0)
        return;
    if (!atomic_load_explicit(&j->write_errno, memory_order_relaxed)) {
        pthread_mutex_lock(&j->write_lock);
        int e = write_all(j->fd, &b->rec[0][0], (size_t)n * WSRT_JOURNAL_RECORD);
        pthread_mutex_unlock(&j->write_lock);
        if (e) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&j->write_errno, &expected, e))
                wsrt_err("journal %s: cannot write: %s (indices finished from now on are not "
                       "recorded; the run goes on)", j->path, strerror(e));
        } else {
            atomic_fetch_add_explicit(&j->written, n, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&b->n, 0, memory_order_relaxed);
}

static void journal_index_done(void *arg, unsigned worker, uint64_t index)
{
    wsrt_journal *j = arg;
    if (worker >= j->n_buffers)
        worker = j->n_buffers - 1; /* never: the pool's workers are 0..jobs-1 */
    journal_buffer *b = &j->buffers[worker];
    uint32_t n = atomic_load_explicit(&b->n, memory_order_relaxed);
    store_le64(b->rec[n], index);
    store_le64(b->rec[n] + 8, wsrt_journal_check(index, j->key.id));
    /* release: a signal-time flush that sees n + 1 sees the record. */
    atomic_store_explicit(&b->n, n + 1, memory_order_release);
    if (n == 0)
        b->first_ns = coarse_now_ns();
    else if (n + 1 == BATCH_RECORDS || coarse_now_ns() - b->first_ns >= BATCH_MAX_AGE_NS)
        flush_buffer(j, b);
}

void wsrt_journal_flush_from_signal(void)
{
    /* seq_cst: pairs with close's store of NULL then load of the count. */
    atomic_fetch_add(&signal_flushers, 1);
    wsrt_journal *j = atomic_load(&active_journal);
    if (!j || atomic_load_explicit(&j->write_errno, memory_order_relaxed)) {
        atomic_fetch_sub(&signal_flushers, 1);
        return;
    }
    /* No lock: this thread may hold it.  Each write is whole records on an
     * O_APPEND descriptor, so it lands after everything written so far. */
    for (unsigned w = 0; w < j->n_buffers; w++) {
        journal_buffer *b = &j->buffers[w];
        uint32_t n = atomic_load_explicit(&b->n, memory_order_acquire);
        if (n > BATCH_RECORDS)
            n = BATCH_RECORDS;
        if (n)
            (void)!write(j->fd, &b->rec[0][0], (size_t)n * WSRT_JOURNAL_RECORD);
    }
    atomic_fetch_sub(&signal_flushers, 1);
}

static void journal_free(wsrt_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->skip_bits)
        munmap(j->skip_bits, j->skip_bytes);
    wsrt_journal_key_free(&j->key);
    free(j->buffers);
    free(j->path);
    pthread_mutex_destroy(&j->write_lock);
    free(j);
}

/* Read the existing journal in fd and build the skip bits.  0, or -1. */
static int journal_resume(wsrt_journal *j, off_t size, char *err, size_t err_size)
{
    int fresh = 1;
    if (size > 0) {
        const unsigned char *data = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, j->fd, 0);
        if (data == MAP_FAILED)
            return wsrt_errf(err, err_size, "--journal %s: cannot read: %s", j->path, strerror(errno));
        j->skip_bytes = (size_t)((j->count + 63) / 64 * 8);
        if (j->skip_bytes == 0)
            j->skip_bytes = 8;
        j->skip_bits = mmap(NULL, j->skip_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (j->skip_bits == MAP_FAILED) {
            j->skip_bits = NULL;
            munmap((void *)data, (size_t)size);
            return wsrt_errf(err, err_size, "--journal %s: no memory for %" PRIu64 " resume bits",
                        j->path, j->count);
        }
        wsrt_journal_scan scan;
        char why[1024];
        int rc = wsrt_journal_scan_data(data, (size_t)size, &j->key, j->skip_bits, &scan, why,
                                      sizeof why);
        munmap((void *)data, (size_t)size);
        if (rc != 0)
            return wsrt_errf(err, err_size, "--resume: journal %s %s; run the command that wrote it, "
                        "or remove the journal to start over", j->path, why);
        fresh = scan.fresh;
        j->done = scan.done;
        j->ignored = scan.ignored;
        if (!fresh && (off_t)scan.keep_len < size && ftruncate(j->fd, (off_t)scan.keep_len) != 0)
            return wsrt_errf(err, err_size, "--journal %s: cannot cut its torn last record: %s",
                        j->path, strerror(errno));
        if (j->done == 0) {
            munmap(j->skip_bits, j->skip_bytes);
            j->skip_bits = NULL;
        }
    }
    if (fresh) {
        if (ftruncate(j->fd, 0) != 0)
            return wsrt_errf(err, err_size, "--journal %s: cannot truncate: %s", j->path,
                        strerror(errno));
        int e = write_all(j->fd, (const unsigned char *)j->key.header, j->key.header_len);
        if (e)
            return wsrt_errf(err, err_size, "--journal %s: cannot write: %s", j->path, strerror(e));
    }
    return 0;
}

wsrt_journal *wsrt_journal_open(const char *path, int resume, const ws_run *run, char *err,
                            size_t err_size)
{
    if (run->count > WSRT_JOURNAL_MAX_COUNT) {
        wsrt_errf(err, err_size, "--journal %s: --count %" PRIu64 " is above the journal's limit "
                  "of 2^40 = %" PRIu64 " indices (a journal holds one bit per index of the whole "
                  "--count, also for a --shard part); run without --journal, or split the work "
                  "into commands of at most 2^40 indices each", path, run->count,
                  WSRT_JOURNAL_MAX_COUNT);
        return NULL;
    }
    wsrt_journal *j = calloc(1, sizeof *j);
    char *options = wsrt_journal_options_text(run);
    if (!j || !options || !(j->path = strdup(path)) ||
        wsrt_journal_key_build(run->desc.name, run->count, run->seed, options, &j->key) != 0) {
        free(options);
        if (j)
            free(j->path);
        free(j);
        wsrt_errf(err, err_size, "--journal %s: out of memory", path);
        return NULL;
    }
    free(options);
    j->fd = -1;
    j->count = run->count;
    pthread_mutex_init(&j->write_lock, NULL);
    j->n_buffers = run->jobs ? run->jobs : 1;
    if (posix_memalign((void **)&j->buffers, 64, j->n_buffers * sizeof *j->buffers) != 0) {
        j->buffers = NULL;
        wsrt_errf(err, err_size, "--journal %s: out of memory", path);
        goto bad;
    }
    memset(j->buffers, 0, j->n_buffers * sizeof *j->buffers);

    /* O_NOFOLLOW: the journal is written in place, so a symlink at its
     * name would let the run create or append to the file it points at
     * (a victim planted by someone else); outputs are replaced instead. */
    j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (j->fd < 0) {
        struct stat lst;
        if (errno == ELOOP && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            wsrt_errf(err, err_size, "--journal %s: is a symbolic link; the journal is written "
                      "in place and never through a link: name the file itself", path);
        else
            wsrt_errf(err, err_size, "--journal %s: cannot open: %s", path, strerror(errno));
        goto bad;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        wsrt_errf(err, err_size, "--journal %s: not a regular file", path);
        goto bad;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        wsrt_errf(err, err_size, "--journal %s: in use by another wsrun", path);
        goto bad;
    }
    if (!resume && st.st_size > 0) {
        wsrt_errf(err, err_size, "--journal %s: already exists; add --resume to continue the run it "
             "records, or remove it to start over", path);
        goto bad;
    }
    if (journal_resume(j, st.st_size, err, err_size) != 0)
        goto bad;
    atomic_store_explicit(&active_journal, j, memory_order_release);
    return j;
bad:
    journal_free(j);
    return NULL;
}

uint64_t wsrt_journal_done(const wsrt_journal *j)
{
    return j->done;
}

uint64_t wsrt_journal_ignored(const wsrt_journal *j)
{
    return j->ignored;
}

uint64_t wsrt_journal_written(const wsrt_journal *j)
{
    return atomic_load_explicit(&j->written, memory_order_relaxed);
}

void wsrt_journal_attach(wsrt_journal *j, ws_run *run)
{
    run->hooks.skip_bits = j->skip_bits;
    run->hooks.index_done = journal_index_done;
    run->hooks.done_arg = j;
}

int wsrt_journal_close(wsrt_journal *j, char *err, size_t err_size)
{
    if (!j)
        return 0;
    wsrt_journal *expected = j;
    atomic_compare_exchange_strong(&active_journal, &expected, NULL);
    while (atomic_load(&signal_flushers) > 0) /* a handler about to end the process */
        sched_yield();
    for (unsigned w = 0; w < j->n_buffers; w++)
        flush_buffer(j, &j->buffers[w]);
    int rc = 0;
    int e = atomic_load_explicit(&j->write_errno, memory_order_relaxed);
    if (e)
        rc = wsrt_errf(err, err_size, "journal %s: a write failed (%s): it lacks some finished "
                  "indices, which a resume would run again", j->path, strerror(e));
    else if (fdatasync(j->fd) != 0 && errno != EINVAL)
        rc = wsrt_errf(err, err_size, "journal %s: cannot sync: %s", j->path, strerror(errno));
    journal_free(j);
    return rc;
}

/* ---------------------------------------------------------------- CLI */

int wsrt_journal_start(wsrt_journal **out, const char *path, int resume, ws_run *run)
{
    *out = NULL;
    if (!path)
        return 0;
    if (!(run->desc.flags & WS_PLUGIN_RESUMABLE)) {
        wsrt_err("--journal: plugin %s cannot be resumed (its output is made from all indices "
               "together, so skipping some would leave it incomplete); run it without "
               "--journal", run->desc.name);
        return -1;
    }
    char err[2048];
    wsrt_journal *j = wsrt_journal_open(path, resume, run, err, sizeof err);
    if (!j) {
        wsrt_err("%s", err);
        return -1;
    }
    if (resume && !run->quiet) {
        if (j->ignored)
            wsrt_err("%s: resuming from journal %s: %" PRIu64 " of %" PRIu64
                   " indices already done (%" PRIu64 " unusable records ignored)",
                   run->desc.name, path, j->done, run->count, j->ignored);
        else
            wsrt_err("%s: resuming from journal %s: %" PRIu64 " of %" PRIu64
                   " indices already done",
                   run->desc.name, path, j->done, run->count);
    }
    wsrt_journal_attach(j, run);
    *out = j;
    return 0;
}

void wsrt_journal_finish(wsrt_journal *j)
{
    char err[2048];
    if (j && wsrt_journal_close(j, err, sizeof err) != 0)
        wsrt_err("%s", err);
}
