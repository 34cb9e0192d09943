/*
 * wsrun.h - the one public header of wsrun: the plugin ABI (v1) and the
 * runtime calls a plugin may make.
 *
 * A plugin is a shared object that defines one descriptor with
 * WS_PLUGIN_DEFINE(desc).  wsrun calls the descriptor's callbacks; the
 * plugin calls back into wsrun only through the functions and inline
 * helpers declared here.  This header must never expose runtime internals
 * beyond the few ws_ctx fields the inline fork-join fast path needs, and
 * must never change the layout of anything in it within ABI major 1:
 * new fields are only ever appended (see "ABI promise" below).
 *
 * Threads (each callback names the thread it runs on):
 *   init          main thread, once, before any worker starts.
 *   worker_init   each worker thread, once, before its first run_one.
 *   run_one       any worker thread, concurrently with other workers.
 *   worker_fini   each worker thread, once, after its last run_one.
 *   finish        main thread, once, after every worker has stopped;
 *                 always called when init succeeded, also after failures.
 * For a plugin built against ABI 1.2 or later, worker 0's thread is the
 * main thread (on a deep stack of its own), so a run starts and ends
 * without waiting for a thread; what worker 0 leaves in the thread
 * (thread-locals, the thread's name) is there in finish, and wsrun itself
 * puts back the thread's CPU affinity and signal mask.  Plugins built for
 * 1.0 and 1.1 keep a thread of its own for every worker.
 * The threads of workers 1.. may already exist while the plugin is loaded
 * and init runs (wsrun 1.3 starts them first, so a run does not wait for
 * them); they run no plugin code before init has returned.
 *
 * ABI promise (README.md, "ABI promise", says the same at length):
 * WS_ABI_MINOR grows when something is added: fields appended to ws_plugin,
 * functions, flag bits.  Within a major nothing that exists changes layout
 * or meaning: the descriptor, the ws_ctx and ws_frame fields the inline
 * helpers use, the option types, the random streams.  The loader reads only
 * the struct_size bytes a plugin's descriptor has, so plugins built for an
 * older minor keep loading; one built for a newer minor loads unless it
 * calls a function this wsrun lacks (dlopen fails naming it) or sets a flag
 * this wsrun does not know (refused).  WS_ABI_MAJOR changes when anything
 * that exists is removed, moved or changes meaning; the loader refuses a
 * plugin built for another major.
 */
#ifndef WSRUN_H
#define WSRUN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* memcpy, for the typed tasks */
#ifdef WS_DEBUG_FORKJOIN
#include <stdio.h>  /* the typed tasks' misuse reports */
#include <stdlib.h>
#endif

/* C++ (11 and later): g++ has no `_Atomic T`, and <stdatomic.h> cannot be
 * mixed with <atomic> before C++23.  So in C++ the few atomic fields below
 * are plain integers of the same size and alignment (the static assertions
 * after ws_plugin check the layout in both languages), and the inline code
 * reads them only through WS__LOAD_RELAXED, which is gcc's/clang's
 * __atomic_load_n there: the same instruction as C11's atomic_load_explicit
 * on a lock-free integer, so C and C++ code agree on every access.
 * std::atomic<T> is not used: it would make ws_frame and ws_ctx
 * non-trivially copyable, and its layout is not promised to equal T's. */
#ifdef __cplusplus
#define WS__ATOMIC(T) T
#define WS__LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define WS__STATIC_ASSERT(cond, why) static_assert(cond, why)
#else
#include <stdatomic.h>
#define WS__ATOMIC(T) _Atomic T
#define WS__LOAD_RELAXED(p) atomic_load_explicit((p), memory_order_relaxed)
#define WS__STATIC_ASSERT(cond, why) _Static_assert(cond, why)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define WS_ABI_MAJOR 1
#define WS_ABI_MINOR 4
#define WS_VERSION "1.5.0"

#define WS_OK 0
#define WS_ERR (-1)

#if defined(__GNUC__)
#define WS_LIKELY(x) __builtin_expect(!!(x), 1)
#define WS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define WS_EXPORT __attribute__((visibility("default")))
#else
#define WS_LIKELY(x) (x)
#define WS_UNLIKELY(x) (x)
#define WS_PRINTF(f, a)
#define WS_EXPORT
#endif

/* Marks each function wsrun exports to plugins.  wsrun exports exactly the
 * functions declared WS_API here, no other (its build lists them from this
 * header: scripts/public-functions; tests/cli/exports.sh checks it), so a
 * function without it is not there for a plugin at run time. */
#define WS_API WS_EXPORT

typedef struct ws_ctx ws_ctx;
typedef struct ws_frame ws_frame;
typedef struct ws_run ws_run;

/* ------------------------------------------------------------------ */
/* Options: a plugin declares a table; wsrun parses "-o key=value",    */
/* checks type and range, and answers ws_opt_* queries.                */
/* ------------------------------------------------------------------ */

typedef enum ws_opt_type {
    WS_OPT_INT = 1,    /* signed 64-bit integer, checked against min..max */
    WS_OPT_DOUBLE = 2, /* finite double, checked against min..max */
    WS_OPT_STRING = 3, /* any text */
    WS_OPT_BOOL = 4,   /* true/false, yes/no, on/off, 1/0 */
    WS_OPT_ENUM = 5,   /* one of the '|'-separated words in choices */
} ws_opt_type;

typedef struct ws_option {
    const char *name;          /* NULL ends the table */
    ws_opt_type type;
    const char *default_value; /* text form; NULL means "no default" (unset) */
    const char *help;          /* one line */
    const char *choices;       /* WS_OPT_ENUM: "gray|rgb" */
    double min, max;           /* WS_OPT_INT/DOUBLE range; min == max == 0: no range */
} ws_option;

/* Option values, by name.  Calling these with a name the plugin did not
 * declare, or of another type, is a plugin bug: wsrun aborts with a message.
 * May be called from any thread after the options were parsed. */
WS_API int64_t ws_opt_int(const ws_ctx *ctx, const char *name);
WS_API double ws_opt_double(const ws_ctx *ctx, const char *name);
WS_API const char *ws_opt_str(const ws_ctx *ctx, const char *name); /* NULL if unset */
WS_API int ws_opt_bool(const ws_ctx *ctx, const char *name);
WS_API int ws_opt_enum(const ws_ctx *ctx, const char *name); /* index in choices */
WS_API int ws_opt_given(const ws_ctx *ctx, const char *name); /* set with -o */

/* ------------------------------------------------------------------ */
/* The run: what init may read and set.                               */
/* ------------------------------------------------------------------ */

#define WS_COUNT_UNSET UINT64_MAX

/* ws_run_count is WS_COUNT_UNSET in init if --count was not given. */
WS_API uint64_t ws_run_count(const ws_ctx *ctx);
WS_API int ws_count_given(const ws_ctx *ctx);    /* 1 when the user gave --count */
WS_API void ws_set_count(ws_ctx *ctx, uint64_t count); /* init only; ignored if --count was given */
WS_API uint64_t ws_run_seed(const ws_ctx *ctx);
WS_API unsigned ws_run_jobs(const ws_ctx *ctx);
WS_API int ws_run_quiet(const ws_ctx *ctx);
WS_API const char *ws_plugin_name(const ws_ctx *ctx);

/* ABI 1.4.  Init only: make `key` part of what identifies this run to
 * --journal and --resume, beside the plugin, count, seed and options, so a
 * journal written under another key is refused on --resume.  For inputs
 * an option only names: the python plugin passes a hash of its script's
 * contents, so an edited script is not resumed.  At most WS_RUN_KEY_MAX
 * printable ASCII characters, no space; a second call replaces the first.
 * WS_OK, or WS_ERR with a message (ws_fail). */
#define WS_RUN_KEY_MAX 256
WS_API int ws_set_run_key(ws_ctx *ctx, const char *key);

/* Record an error message for the current callback and return WS_ERR, so a
 * plugin writes "return ws_fail(ctx, "cannot open %s: %s", path, why);".
 * wsrun prints it on one line with the plugin name and the index. */
WS_API int ws_fail(ws_ctx *ctx, const char *fmt, ...) WS_PRINTF(2, 3);
WS_API int ws_vfail(ws_ctx *ctx, const char *fmt, va_list ap);

/* Print a diagnostic line to stderr (prefixed "wsrun: <plugin>: "), unless
 * --quiet.  Thread-safe; lines never interleave. */
WS_API void ws_log(const ws_ctx *ctx, const char *fmt, ...) WS_PRINTF(2, 3);

/* ABI 1.4.  `size` bytes of zeroed memory that the run's worker processes
 * share with wsrun under --isolate (MAP_SHARED): what run_one writes there
 * is seen by finish.  Without isolation it is plain memory.  Call it in
 * init (under --isolate a call elsewhere returns NULL: a worker process's
 * mapping would be its own).  The runtime frees it after finish; NULL
 * when the memory cannot be had (errno set). */
WS_API void *ws_shared_alloc(ws_ctx *ctx, size_t size);

/* ABI 1.4.  Init or finish: fn(arg) is called when wsrun is interrupted (its
 * first SIGINT or SIGTERM), in every process that runs run_one: wsrun
 * itself, and each worker process under --isolate, where the interrupt
 * arrives as a stop request of its own (a worker process forked after it
 * calls fn before worker_init).  Only then: a run stopped by a failure
 * (no --keep-going) or a failed worker_init makes ws_stopping true and
 * calls no fn.  For code that cannot poll ws_stopping (an interpreter, a
 * blocking call): the python plugin raises KeyboardInterrupt with it.  fn
 * runs inside a signal handler, on any thread: it must be
 * async-signal-safe.  A system call blocked in the thread the signal
 * lands on returns EINTR (a failure stop's does not).  An index that fails once the
 * interrupt came is not done (--resume runs it again) and not reported as
 * a failure; nor is a worker_init that fails then (a worker process still
 * in worker_init gets the stop request too).  A second call replaces the
 * first; fn NULL removes it (finish must, before freeing what arg points
 * to). */
WS_API void ws_on_interrupt(ws_ctx *ctx, void (*fn)(void *arg), void *arg);

/* ------------------------------------------------------------------ */
/* Writing files safely: a temporary name in the target's folder,      */
/* renamed into place only on success.                                 */
/* ------------------------------------------------------------------ */

typedef struct ws_outfile {
    int fd;             /* open for writing on the temporary file */
    char final_path[4096];
    char temp_path[4096];
} ws_outfile;

/* Open a temporary file beside `path`.  On failure returns WS_ERR with a
 * message naming the path and the system's reason (via ws_fail). */
WS_API int ws_outfile_open(ws_ctx *ctx, ws_outfile *out, const char *path);
/* fsync-less close and rename into place; WS_ERR with a message on failure
 * (the temporary file is removed then). */
WS_API int ws_outfile_commit(ws_ctx *ctx, ws_outfile *out);
/* Close and remove the temporary file; never fails. */
WS_API void ws_outfile_abort(ws_outfile *out);
/* ABI 1.4.  ws_outfile_open with flags; 0 is ws_outfile_open.
 * WS_OUTFILE_KEEP_FD promises that out->fd stays open, never closed nor
 * wrapped in a FILE* that is closed, until ws_outfile_commit or
 * ws_outfile_abort closes it.  Then the runtime needs no descriptor of its
 * own beside it (two system calls fewer per file, where the file system's
 * close cannot fail).  A plugin that breaks the promise gets WS_ERR from
 * commit and no file.  Unknown flags: WS_ERR with a message. */
#define WS_OUTFILE_KEEP_FD 0x1u
WS_API int ws_outfile_open_flags(ws_ctx *ctx, ws_outfile *out, const char *path,
                                 unsigned flags);

/* ------------------------------------------------------------------ */
/* Deterministic random numbers: a counter-based stream per (seed,     */
/* index).  The stream for an index never depends on the worker or -j. */
/* ------------------------------------------------------------------ */

typedef struct ws_rng {
    uint64_t key;     /* derived from (seed, index) */
    uint64_t counter; /* number of 64-bit outputs drawn so far */
} ws_rng;

static inline uint64_t ws_mix64(uint64_t z)
{
    /* SplitMix64's finaliser (Stafford's variant 13): a bijection with
     * full avalanche, so output(key, counter) behaves as random. */
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline ws_rng ws_rng_make(uint64_t seed, uint64_t index)
{
    ws_rng r;
    r.key = ws_mix64(seed ^ ws_mix64(index + UINT64_C(0x632be59bd9b4e019)));
    r.counter = 0;
    return r;
}

/* The i-th output is mix64(key + (i+1) * golden): a pure function of
 * (key, i), so any output can be recomputed without replaying the stream. */
static inline uint64_t ws_rng_next(ws_rng *r)
{
    r->counter++;
    return ws_mix64(r->key + r->counter * UINT64_C(0x9e3779b97f4a7c15));
}

/* Uniform double in [0, 1). */
static inline double ws_rng_double(ws_rng *r)
{
    return (double)(ws_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fill n bytes; byte k of the output is byte (k % 8) (little-endian) of
 * output k / 8, so the result is the same on every machine. */
static inline void ws_rng_fill(ws_rng *r, void *buf, size_t n)
{
    unsigned char *p = (unsigned char *)buf;
    while (n >= 8) {
        uint64_t v = ws_rng_next(r);
        for (int k = 0; k < 8; k++)
            p[k] = (unsigned char)(v >> (8 * k));
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = ws_rng_next(r);
        for (size_t k = 0; k < n; k++)
            p[k] = (unsigned char)(v >> (8 * k));
    }
}

/* The stream of `index` in this run (seeded with --seed). */
static inline ws_rng ws_rng_for(const ws_ctx *ctx, uint64_t index);

/* ------------------------------------------------------------------ */
/* Fork-join: spawn child tasks from run_one (or from a child) and     */
/* wait for them.  Frames are synced in LIFO order.  The typed tasks   */
/* (WS_TASK_k, below) write the fastest form for you; the calls here   */
/* are what they are made of, and stay supported.                      */
/*                                                                     */
/*   ws_frame *f = ws_frame_new(ctx, child_fn);                        */
/*   f->arg[0].i = n - 1;                                              */
/*   ws_spawn(ctx, f);                                                 */
/*   ... other work ...                                                */
/*   int rc = ws_sync(ctx, f);           // child ran; f->ret is set   */
/*                                                                     */
/* The fast path (nobody stole the child) is a few plain loads and     */
/* stores: no allocation, no lock, no atomic read-modify-write, no     */
/* fence.  A frame's fields stay valid after its sync until the next   */
/* frame is made on the same ctx.                                      */
/*                                                                     */
/* Fastest form (ABI 1.1), for fine-grained recursion (fib): the "_at" */
/* calls.  The caller tracks the top of the frame stack itself, so it  */
/* stays in a register and the fast path stores nothing but the frame: */
/* one load and compare at the spawn, one at the pop.  Inside a task   */
/* the free space starts at self + 1; in run_one at ws_frame_top(ctx). */
/* Declare the recursive function static inline: gcc then inlines the  */
/* recursion a few levels deep, as it does with the serial code.       */
/*                                                                     */
/*   ws_frame *f = ws_frame_at(ctx, top, fib_task);                    */
/*   f->arg[0].i = n - 2;                                              */
/*   ws_spawn_at(ctx, f);                                              */
/*   a = fib(ctx, top + 1, n - 1);                                     */
/*   if (ws_pop_at(ctx, f)) b = fib(ctx, top, n - 2);  // not stolen   */
/*   else { rc = ws_join_at(ctx, f); b = f->ret.i; }  // stolen/shared */
/*                                                                     */
/* Rule: code between a ws_frame_at and its pop or join uses only the  */
/* _at calls (and ws_poll_at to poll), because ctx's own record of the */
/* top is not kept up to date there; a task function the runtime      */
/* starts (stolen, or synced) may use either form.  ABI 1.0's          */
/* ws_frame_at + ws_spawn +                                            */
/* ws_pop + ws_join keep that record (two more stores per spawn) and   */
/* still work as before.                                               */
/* ------------------------------------------------------------------ */

typedef int (*ws_task_fn)(ws_ctx *ctx, ws_frame *self);

typedef union ws_value {
    int64_t i;
    uint64_t u;
    double d;
    void *p;
} ws_value;

#define WS_FRAME_ARGS 3

struct ws_frame {
    ws_task_fn fn; /* NULL while the frame runs on its owner */
    /* WS_FRAME_PENDING until a thief that ran it stores WS_FRAME_DONE. */
    WS__ATOMIC(uint32_t) state;
    /* Worker id + 1 of the thief that took it; 0 while not stolen. */
    WS__ATOMIC(uint32_t) thief;
    int32_t status;  /* a stolen frame's return value, for its syncer */
    uint32_t reserved_;
    char *stolen_err; /* a stolen child's message, handed to the syncer */
    ws_value ret;                /* the child's result, by convention */
    ws_value arg[WS_FRAME_ARGS]; /* the child's arguments */
};

enum { WS_FRAME_PENDING = 0, WS_FRAME_DONE = 1 };

/* The worker context.  Plugins read only the public fields and must treat
 * the fork-join fields as private to the inline functions below. */
struct ws_ctx {
    uint32_t struct_size; /* sizeof(ws_ctx) of the runtime */
    uint32_t worker_id;   /* 0..jobs-1 on workers; UINT32_MAX on the main thread */
    void *worker_data;    /* per-worker scratch, owned by worker_init/fini */
    const ws_run *run;    /* opaque: use the ws_run_* / ws_opt_* calls */
    uint64_t seed;        /* --seed, copied for ws_rng_for */

    /* Fork-join fast path (private to this header's inline code). */
    ws_frame *fj_head;  /* next free frame */
    ws_frame *fj_pub;   /* frames below this were handed to thieves */
    ws_frame *fj_limit; /* end of this worker's frame stack */
    /* Non-zero when a thief asked for work or the run must stop; the owner
     * polls it with a relaxed load (a plain load on x86). */
    WS__ATOMIC(uint32_t) attention;
    uint32_t pad_;

    /* ABI 1.1.  The spawn fast path calls the runtime when the frame it
     * just wrote is at or above this address: fj_limit normally (the
     * stack holds one spare frame there, so that write is in bounds),
     * 0 while attention is non-zero.  One compare covers both. */
    WS__ATOMIC(uintptr_t) fj_trigger;
};

/* Slow paths of the fork-join calls, out of line in the runtime. */
WS_API void ws__attend(ws_ctx *ctx);
WS_API int ws__sync_slow(ws_ctx *ctx, ws_frame *f);
WS_API void ws__frames_exhausted(ws_ctx *ctx);
/* ABI 1.1: the same, told the top of the frame stack (the _at calls). */
WS_API void ws__attend_at(ws_ctx *ctx, ws_frame *top);
WS_API int ws__join_at(ws_ctx *ctx, ws_frame *f);

static inline ws_rng ws_rng_for(const ws_ctx *ctx, uint64_t index)
{
    return ws_rng_make(ctx->seed, index);
}

/* Take the next frame on this worker's frame stack and set its function.
 * The depth limit is checked by ws_spawn (see ws_ctx.fj_trigger). */
static inline ws_frame *ws_frame_new(ws_ctx *ctx, ws_task_fn fn)
{
    ws_frame *f = ctx->fj_head;
    f->fn = fn;
    return f;
}

/* The first free frame of this worker's stack: where run_one's first
 * child goes.  Inside a task function it is always self + 1. */
static inline ws_frame *ws_frame_top(const ws_ctx *ctx)
{
    return ctx->fj_head;
}

/* As ws_frame_new, at a position the caller tracks (the current top:
 * ws_frame_top in run_one, self + 1 in a task, the last frame + 1 after a
 * spawn).  Avoids reloading the top from memory on every spawn. */
static inline ws_frame *ws_frame_at(ws_ctx *ctx, ws_frame *top, ws_task_fn fn)
{
    (void)ctx;
    top->fn = fn;
    return top;
}

/* 1 when the spawn of frame f must call the runtime: a thief asked for
 * work, the run is stopping, or f is the spare frame past the limit.
 * relaxed: a hint; a request missed now is seen at a later spawn. */
#define WS__MUST_ATTEND(ctx, f)                                           \
    WS_UNLIKELY((uintptr_t)(f) >=                                         \
                WS__LOAD_RELAXED(&(ctx)->fj_trigger))

/* Make `f` (the frame ws_frame_new just returned) runnable.  It is private
 * to this worker until a thief asks for work; then the oldest private frames
 * are published for stealing. */
static inline void ws_spawn(ws_ctx *ctx, ws_frame *f)
{
    /* A private frame needs nothing else: its state and thief fields are
     * set by the runtime when (and only if) it is published. */
    ctx->fj_head = f + 1;
    if (WS__MUST_ATTEND(ctx, f))
        ws__attend_at(ctx, f + 1);
}

/* As ws_spawn, for a frame from ws_frame_at: leaves ctx's record of the
 * top alone (the caller tracks it), so the fast path is the frame's own
 * stores plus one load and compare. */
static inline void ws_spawn_at(ws_ctx *ctx, ws_frame *f)
{
#ifdef WS_CHECK_SPAWNS
    /* Keep the record as ws_spawn does: a run_one that returns with this
     * frame unsynced is then named by wsrun (docs/failures.md). */
    ctx->fj_head = f + 1;
#endif
    if (WS__MUST_ATTEND(ctx, f))
        ws__attend_at(ctx, f + 1);
}

/* Run a private frame here, now, as a plain call.  While it runs its
 * frame stays reserved (its children go above it) and is marked running
 * (fn = NULL) so the runtime never publishes it. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int ws__run_private(ws_ctx *ctx, ws_frame *f, ws_task_fn fn)
{
    f->fn = NULL;
    int status = fn(ctx, f);
    ctx->fj_head = f;
    /* Publishing may have stepped over this running frame; it is gone
     * now, so the boundary comes back down to the free space. */
    if (WS_UNLIKELY(ctx->fj_pub > f))
        ctx->fj_pub = f;
    return status;
}

/* Wait for `f`, the most recent unsynced frame, and return its status.
 * If nobody stole it, it runs here now, as a plain call. */
static inline int ws_sync(ws_ctx *ctx, ws_frame *f)
{
    if (WS_LIKELY(f >= ctx->fj_pub))
        return ws__run_private(ctx, f, f->fn);
    return ws__sync_slow(ctx, f);
}

/* As ws_sync, when the caller knows the frame's function: the private case
 * becomes a direct call the compiler can inline (Lace's SYNC). */
#define WS_SYNC(ctx, f, fn_name)                                          \
    (WS_LIKELY((f) >= (ctx)->fj_pub) ? ws__run_private((ctx), (f), fn_name) \
                                     : ws__sync_slow((ctx), (f)))

/* Take `f`, the most recent unsynced frame, back if nobody stole it or
 * may steal it: returns 1 and the caller does the child's work itself,
 * directly (its frame is free again: the work's own children go at f).
 * Returns 0 when f was published; then call ws_join. */
static inline int ws_pop(ws_ctx *ctx, ws_frame *f)
{
    if (WS_LIKELY(f >= ctx->fj_pub)) {
        ctx->fj_head = f;
        return 1;
    }
    return 0;
}

/* After ws_pop returned 0: run f here if no thief took it yet, or wait for
 * the thief (helping it meanwhile).  Returns f's status; f->ret is set. */
static inline int ws_join(ws_ctx *ctx, ws_frame *f)
{
    return ws__sync_slow(ctx, f);
}

/* The _at forms of ws_pop and ws_join, for frames spawned by ws_spawn_at:
 * they leave ctx's record of the top alone.  ws_pop_at costs one load and
 * compare: published frames are exactly those below fj_pub. */
static inline int ws_pop_at(ws_ctx *ctx, ws_frame *f)
{
#ifdef WS_CHECK_SPAWNS
    if (f < ctx->fj_pub)
        return 0;
    ctx->fj_head = f;
    return 1;
#else
    return WS_LIKELY(f >= ctx->fj_pub);
#endif
}

static inline int ws_join_at(ws_ctx *ctx, ws_frame *f)
{
#ifdef WS_CHECK_SPAWNS
    int status = ws__join_at(ctx, f);
    ctx->fj_head = f;
    return status;
#else
    return ws__join_at(ctx, f);
#endif
}

/* Let the runtime split work or stop: long loops inside run_one may call
 * this now and then so idle thieves are served.  Costs one plain load. */
static inline void ws_poll(ws_ctx *ctx)
{
    if (WS_UNLIKELY(WS__LOAD_RELAXED(&ctx->attention)))
        ws__attend(ctx);
}

/* ws_poll for code that uses the _at calls; `top` is its current top. */
static inline void ws_poll_at(ws_ctx *ctx, ws_frame *top)
{
    if (WS_UNLIKELY(WS__LOAD_RELAXED(&ctx->attention)))
        ws__attend_at(ctx, top);
}

/* 1 when the run is stopping (a failure, or an interrupt): long tasks may
 * return early.  In init and finish (the main thread's context) it is 1
 * once wsrun got SIGINT or SIGTERM, so a long init (listing inputs) may
 * give up: return ws_fail(...) and wsrun exits 130 (143). */
WS_API int ws_stopping(const ws_ctx *ctx);

/* ABI 1.4, for the typed tasks below: typed task `task` returned with a
 * spawn it never awaited.  Prints "wsrun: <plugin>: fork-join misuse in
 * task <task>: returned with spawns never synced (WS_AWAIT)" and aborts. */
#if defined(__GNUC__)
#define WS__NORETURN_COLD __attribute__((noreturn, cold))
#else
#define WS__NORETURN_COLD
#endif
WS_API void ws__task_unawaited(ws_ctx *ctx, const char *task) WS__NORETURN_COLD;

/* ------------------------------------------------------------------ */
/* Typed tasks (ABI 1.3): the fast _at form, written for you.          */
/*                                                                     */
/*   WS_TASK_1(int64_t, fib, int64_t, n)                               */
/*   {                                                                 */
/*       if (n < 2)                                                    */
/*           return n;                                                 */
/*       WS_SPAWN(fib, n - 2);            // child: may be stolen      */
/*       int64_t a = WS_CALL(fib, n - 1); // plain call, here          */
/*       return a + WS_AWAIT(fib);        // the child's value         */
/*   }                                                                 */
/*   ... in run_one:  st->result = WS_RUN(ctx, fib, st->n);            */
/*                                                                     */
/* WS_TASK_<k>(RET, name, T1, a1, ..., Tk, ak), k = 0..4, declares the */
/* task; the block after it is its body.  WS_VOID_TASK_<k>(name, ...)  */
/* is the same for a task with no value.  In a body:                   */
/*   WS_SPAWN(name, args...)  make the child runnable (a thief may run */
/*                            it); costs the frame's stores, one load  */
/*                            and one compare, as ws_spawn_at;         */
/*   WS_AWAIT(name)           sync the LAST spawn not yet awaited and  */
/*                            give its value: if nobody took it, a     */
/*                            plain call (one load and compare first), */
/*                            else wait for the thief (ws_join_at);    */
/*   WS_CALL(name, args...)   a plain call of the task's body;         */
/*   WS_POLL()                ws_poll_at at the current top;          */
/*   WS_CTX                   the worker's ws_ctx.                     */
/* Outside any task (run_one): WS_RUN(ctx, name, args...) calls it.    */
/* The frame-stack top is a parameter of each body, so it stays in a   */
/* register; bodies are static inline, so the compiler inlines the     */
/* recursion as in serial code.                                        */
/*                                                                     */
/* What the macros rule out: an await always syncs the most recent     */
/* unsynced spawn (LIFO by construction) and hands back its value at   */
/* once (no frame to read later, so no reused frame to misread).  A    */
/* body that returns with spawns not awaited is reported naming the    */
/* task, then aborts, in every build (ABI 1.4: ws__task_unawaited).    */
/* What else types cannot check, -DWS_DEBUG_FORKJOIN checks at run     */
/* time and reports the same way: an await naming another task than   */
/* the spawn it syncs, and an await with no spawn left.  Rules: arguments take at     */
/* most 32 bytes in all (each at most 8-byte aligned), the value at    */
/* most 8; both are copied with memcpy (plain data only).  Two awaits */
/* in one expression run in an order the compiler picks: give each its */
/* own statement (a + WS_AWAIT(f) is fine, WS_AWAIT(f) - WS_AWAIT(f)   */
/* is not).  Typed tasks cannot fail (use ws_fail and the frame calls  */
/* for that), and a body uses no ws_frame_new/ws_spawn/ws_sync.        */
/* ------------------------------------------------------------------ */

#if defined(__GNUC__)
#define WS__UNUSED __attribute__((unused))
#define WS__ALWAYS_INLINE __attribute__((always_inline))
#else
#define WS__UNUSED
#define WS__ALWAYS_INLINE
#endif
/* The top moves only inside these calls (a spawn after its arguments are
 * evaluated, an await before it syncs): function calls, so a spawn, an
 * await and a call in one expression never touch the top unsequenced. */
WS__ALWAYS_INLINE static inline ws_frame *ws__pop_top(ws_frame **top)
{
    return --*top;
}
#define WS__STRIP(...) __VA_ARGS__
/* A typed task's arguments, and later its value, live in the frame's ret
 * and arg words: 32 contiguous bytes (the runtime never reads them). */
#define WS__TASK_DATA(f) ((char *)(f) + offsetof(ws_frame, ret))
#define WS__TASK_DATA_SIZE (sizeof(ws_value) * (1 + WS_FRAME_ARGS))

#ifdef WS_DEBUG_FORKJOIN
/* The debug build threads this record instead of the bare top. */
typedef struct ws__task_check {
    ws_frame *top;    /* next free frame of this body */
    ws_frame *base;   /* the top the body started with */
    const char *name; /* the task, for messages */
} ws__task_check;

static inline void ws__task_misuse(const ws_ctx *ctx, const char *task, const char *what,
                                   const char *other)
{
    fprintf(stderr, "wsrun: %s: fork-join misuse in task %s: %s%s\n", ws_plugin_name(ctx), task,
            what, other);
    fflush(stderr);
    abort();
}

static inline ws_frame *ws__task_pop(ws_ctx *ctx, ws__task_check *check, ws_task_fn fn,
                                     const char *awaited)
{
    if (check->top == check->base)
        ws__task_misuse(ctx, check->name, "no spawn left to sync for WS_AWAIT of ", awaited);
    ws_frame *f = --check->top;
    /* A private frame still holds the function its spawn set. */
    if (f >= ctx->fj_pub && f->fn != fn)
        ws__task_misuse(ctx, check->name,
                        "the last unsynced spawn is of another task than WS_AWAIT's ", awaited);
    return f;
}

static inline void ws__task_end(ws_ctx *ctx, const ws__task_check *check)
{
    if (check->top != check->base)
        ws__task_misuse(ctx, check->name, "returned with spawns never synced (WS_AWAIT)", "");
}

#define WS__TOP_PARAM ws__task_check *ws__check
#define WS__BODY_INLINE
#define WS__TOP (ws__check->top)
#define WS__POP(name) ws__task_pop(ws__ctx, ws__check, name##_ws_task, #name)
#define WS__CALL_DEF(RET, name, PARAMS, ARGS)                                     \
    WS__UNUSED static inline RET name##_ws_call(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        ws__task_check ws__k = {ws__t, ws__t, #name};                             \
        RET ws__r = name##_ws_body(ws__c, &ws__k WS__STRIP ARGS);                 \
        ws__task_end(ws__c, &ws__k);                                              \
        return ws__r;                                                             \
    }
#define WS__VCALL_DEF(name, PARAMS, ARGS)                                         \
    WS__UNUSED static inline void name##_ws_call(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        ws__task_check ws__k = {ws__t, ws__t, #name};                             \
        name##_ws_body(ws__c, &ws__k WS__STRIP ARGS);                             \
        ws__task_end(ws__c, &ws__k);                                              \
    }
#else
/* ABI 1.4: the body moves its caller's copy of the top (through a
 * pointer), so the call sees where the body left it: a body that returns
 * with a spawn it never awaited (a forgotten WS_AWAIT) is named at once,
 * at any -j, instead of its child's work being silently lost (-j1) or
 * reported later as a ws_spawn the author never wrote.  The body is always
 * inlined into name_ws_run, the function the recursion goes through, so
 * the pointer never leaves it: the top stays in a register, and where
 * spawns and awaits pair up in straight-line code (fib) the compare folds
 * away.  name_ws_call is a plain wrapper of it, so gcc inlines the
 * recursion as it did with the 1.3 macros (body -> call -> body); making
 * the call itself the recursive function changed that and cost 6% on fib.
 * Never let the pointer escape a non-inlined body: that put the top in
 * memory at every call (+8% on fib).  Figures: docs/benchmarks.md. */
#if defined(__cplusplus) && defined(__GNUC__)
#define WS__RESTRICT __restrict__
#elif defined(__cplusplus)
#define WS__RESTRICT
#else
#define WS__RESTRICT restrict
#endif
#define WS__TOP_PARAM ws_frame **WS__RESTRICT ws__topp
#define WS__BODY_INLINE WS__ALWAYS_INLINE
#define WS__TOP (*ws__topp)
#define WS__POP(name) ws__pop_top(ws__topp)
#define WS__CALL_DEF(RET, name, PARAMS, ARGS)                                     \
    WS__UNUSED static inline RET name##_ws_run(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        ws_frame *ws__top = ws__t;                                                \
        RET ws__r = name##_ws_body(ws__c, &ws__top WS__STRIP ARGS);               \
        if (WS_UNLIKELY(ws__top != ws__t))                                        \
            ws__task_unawaited(ws__c, #name);                                     \
        return ws__r;                                                             \
    }                                                                             \
    WS__UNUSED static inline RET name##_ws_call(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        return name##_ws_run(ws__c, ws__t WS__STRIP ARGS);                        \
    }
#define WS__VCALL_DEF(name, PARAMS, ARGS)                                         \
    WS__UNUSED static inline void name##_ws_run(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        ws_frame *ws__top = ws__t;                                                \
        name##_ws_body(ws__c, &ws__top WS__STRIP ARGS);                           \
        if (WS_UNLIKELY(ws__top != ws__t))                                        \
            ws__task_unawaited(ws__c, #name);                                     \
    }                                                                             \
    WS__UNUSED static inline void name##_ws_call(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS) \
    {                                                                             \
        name##_ws_run(ws__c, ws__t WS__STRIP ARGS);                               \
    }
#endif

/* What every task has: its argument record, the body's declaration, the
 * call, and the typed spawn.  NARGS 0 stores nothing. */
#define WS__TASK_COMMON(RET, name, NARGS, PARAMS, FIELDS, ARGS, STORE)            \
    struct name##_ws_args {                                                       \
        WS__STRIP FIELDS                                                          \
    };                                                                            \
    WS__STATIC_ASSERT(sizeof(struct name##_ws_args) <= WS__TASK_DATA_SIZE,        \
                      "task " #name ": its arguments take more than 32 bytes");   \
    WS__BODY_INLINE static inline RET name##_ws_body(ws_ctx *ws__ctx WS__UNUSED,  \
                                     WS__TOP_PARAM WS__UNUSED WS__STRIP PARAMS);  \
    WS__UNUSED static inline int name##_ws_task(ws_ctx *ws__c, ws_frame *ws__s);             \
    WS__UNUSED WS__ALWAYS_INLINE static inline void name##_ws_spawn(                \
        ws_ctx *ws__c, ws_frame **ws__tp WS__STRIP PARAMS)                       \
    {                                                                             \
        struct name##_ws_args ws__a;                                              \
        WS__STRIP STORE                                                           \
        ws_frame *ws__f = (*ws__tp)++;                                            \
        ws__f->fn = name##_ws_task;                                               \
        if (NARGS)                                                                \
            memcpy(WS__TASK_DATA(ws__f), &ws__a, sizeof ws__a);                   \
        ws_spawn_at(ws__c, ws__f);                                                \
    }

#define WS__TASK(RET, name, NARGS, PARAMS, FIELDS, ARGS, STORE, FROM_A)           \
    WS__TASK_COMMON(RET, name, NARGS, PARAMS, FIELDS, ARGS, STORE)                \
    WS__STATIC_ASSERT(sizeof(RET) <= sizeof(ws_value),                            \
                      "task " #name ": its value takes more than 8 bytes");       \
    WS__CALL_DEF(RET, name, PARAMS, ARGS)                                         \
    WS__UNUSED static inline int name##_ws_task(ws_ctx *ws__c, ws_frame *ws__s)              \
    {                                                                             \
        struct name##_ws_args ws__a;                                              \
        if (NARGS)                                                                \
            memcpy(&ws__a, WS__TASK_DATA(ws__s), sizeof ws__a);                   \
        RET ws__r = name##_ws_call(ws__c, ws__s + 1 WS__STRIP FROM_A);            \
        memcpy(WS__TASK_DATA(ws__s), &ws__r, sizeof ws__r);                       \
        return WS_OK;                                                             \
    }                                                                             \
    WS__UNUSED WS__ALWAYS_INLINE static inline RET name##_ws_await(ws_ctx *ws__c,   \
                                                                   ws_frame *ws__f) \
    {                                                                             \
        if (WS_LIKELY(ws_pop_at(ws__c, ws__f))) {                                 \
            struct name##_ws_args ws__a;                                          \
            if (NARGS)                                                            \
                memcpy(&ws__a, WS__TASK_DATA(ws__f), sizeof ws__a);               \
            return name##_ws_call(ws__c, ws__f WS__STRIP FROM_A);                 \
        }                                                                         \
        (void)ws_join_at(ws__c, ws__f); /* typed tasks return WS_OK */            \
        RET ws__r;                                                                \
        memcpy(&ws__r, WS__TASK_DATA(ws__f), sizeof ws__r);                       \
        return ws__r;                                                             \
    }                                                                             \
    static inline RET name##_ws_body(ws_ctx *ws__ctx WS__UNUSED,                  \
                                     WS__TOP_PARAM WS__UNUSED WS__STRIP PARAMS)

#define WS__VOID_TASK(name, NARGS, PARAMS, FIELDS, ARGS, STORE, FROM_A)           \
    WS__TASK_COMMON(void, name, NARGS, PARAMS, FIELDS, ARGS, STORE)               \
    WS__VCALL_DEF(name, PARAMS, ARGS)                                             \
    WS__UNUSED static inline int name##_ws_task(ws_ctx *ws__c, ws_frame *ws__s)              \
    {                                                                             \
        struct name##_ws_args ws__a;                                              \
        if (NARGS)                                                                \
            memcpy(&ws__a, WS__TASK_DATA(ws__s), sizeof ws__a);                   \
        name##_ws_call(ws__c, ws__s + 1 WS__STRIP FROM_A);                        \
        return WS_OK;                                                             \
    }                                                                             \
    WS__UNUSED WS__ALWAYS_INLINE static inline void name##_ws_await(ws_ctx *ws__c,  \
                                                                    ws_frame *ws__f) \
    {                                                                             \
        if (WS_LIKELY(ws_pop_at(ws__c, ws__f))) {                                 \
            struct name##_ws_args ws__a;                                          \
            if (NARGS)                                                            \
                memcpy(&ws__a, WS__TASK_DATA(ws__f), sizeof ws__a);               \
            name##_ws_call(ws__c, ws__f WS__STRIP FROM_A);                        \
            return;                                                               \
        }                                                                         \
        (void)ws_join_at(ws__c, ws__f);                                           \
    }                                                                             \
    static inline void name##_ws_body(ws_ctx *ws__ctx WS__UNUSED,                 \
                                      WS__TOP_PARAM WS__UNUSED WS__STRIP PARAMS)

/* The argument lists of each arity: parameters, record fields, names,
 * the stores into the record, the loads out of it. */
#define WS__L0 (), (char ws__none;), (), (), ()
#define WS__L1(T1, a1) (, T1 a1), (T1 a1;), (, a1), (ws__a.a1 = a1;), (, ws__a.a1)
#define WS__L2(T1, a1, T2, a2)                                                    \
    (, T1 a1, T2 a2), (T1 a1; T2 a2;), (, a1, a2), (ws__a.a1 = a1; ws__a.a2 = a2;), \
        (, ws__a.a1, ws__a.a2)
#define WS__L3(T1, a1, T2, a2, T3, a3)                                            \
    (, T1 a1, T2 a2, T3 a3), (T1 a1; T2 a2; T3 a3;), (, a1, a2, a3),              \
        (ws__a.a1 = a1; ws__a.a2 = a2; ws__a.a3 = a3;), (, ws__a.a1, ws__a.a2, ws__a.a3)
#define WS__L4(T1, a1, T2, a2, T3, a3, T4, a4)                                    \
    (, T1 a1, T2 a2, T3 a3, T4 a4), (T1 a1; T2 a2; T3 a3; T4 a4;), (, a1, a2, a3, a4), \
        (ws__a.a1 = a1; ws__a.a2 = a2; ws__a.a3 = a3; ws__a.a4 = a4;),            \
        (, ws__a.a1, ws__a.a2, ws__a.a3, ws__a.a4)
#define WS__EXPAND(m, ...) m(__VA_ARGS__)

#define WS_TASK_0(RET, name) WS__EXPAND(WS__TASK, RET, name, 0, WS__L0)
#define WS_TASK_1(RET, name, ...) WS__EXPAND(WS__TASK, RET, name, 1, WS__L1(__VA_ARGS__))
#define WS_TASK_2(RET, name, ...) WS__EXPAND(WS__TASK, RET, name, 2, WS__L2(__VA_ARGS__))
#define WS_TASK_3(RET, name, ...) WS__EXPAND(WS__TASK, RET, name, 3, WS__L3(__VA_ARGS__))
#define WS_TASK_4(RET, name, ...) WS__EXPAND(WS__TASK, RET, name, 4, WS__L4(__VA_ARGS__))
#define WS_VOID_TASK_0(name) WS__EXPAND(WS__VOID_TASK, name, 0, WS__L0)
#define WS_VOID_TASK_1(name, ...) WS__EXPAND(WS__VOID_TASK, name, 1, WS__L1(__VA_ARGS__))
#define WS_VOID_TASK_2(name, ...) WS__EXPAND(WS__VOID_TASK, name, 2, WS__L2(__VA_ARGS__))
#define WS_VOID_TASK_3(name, ...) WS__EXPAND(WS__VOID_TASK, name, 3, WS__L3(__VA_ARGS__))
#define WS_VOID_TASK_4(name, ...) WS__EXPAND(WS__VOID_TASK, name, 4, WS__L4(__VA_ARGS__))

/* Declarations only, for tasks that use each other (mutual recursion):
 * WS_DECLARE_TASK_<k> / WS_DECLARE_VOID_TASK_<k> with the same arguments
 * as the task's WS_TASK_<k>, before the first body that uses it. */
#define WS__DECLARE(RET, name, NARGS, PARAMS, FIELDS, ARGS, STORE, FROM_A)        \
    static inline int name##_ws_task(ws_ctx *ws__c, ws_frame *ws__s);             \
    WS__ALWAYS_INLINE static inline void name##_ws_spawn(ws_ctx *ws__c,             \
                                                         ws_frame **ws__tp WS__STRIP PARAMS); \
    WS__ALWAYS_INLINE static inline RET name##_ws_await(ws_ctx *ws__c, ws_frame *ws__f); \
    static inline RET name##_ws_call(ws_ctx *ws__c, ws_frame *ws__t WS__STRIP PARAMS)
#define WS_DECLARE_TASK_0(RET, name) WS__EXPAND(WS__DECLARE, RET, name, 0, WS__L0)
#define WS_DECLARE_TASK_1(RET, name, ...) WS__EXPAND(WS__DECLARE, RET, name, 1, WS__L1(__VA_ARGS__))
#define WS_DECLARE_TASK_2(RET, name, ...) WS__EXPAND(WS__DECLARE, RET, name, 2, WS__L2(__VA_ARGS__))
#define WS_DECLARE_TASK_3(RET, name, ...) WS__EXPAND(WS__DECLARE, RET, name, 3, WS__L3(__VA_ARGS__))
#define WS_DECLARE_TASK_4(RET, name, ...) WS__EXPAND(WS__DECLARE, RET, name, 4, WS__L4(__VA_ARGS__))
#define WS_DECLARE_VOID_TASK_0(name) WS_DECLARE_TASK_0(void, name)
#define WS_DECLARE_VOID_TASK_1(name, ...) WS_DECLARE_TASK_1(void, name, __VA_ARGS__)
#define WS_DECLARE_VOID_TASK_2(name, ...) WS_DECLARE_TASK_2(void, name, __VA_ARGS__)
#define WS_DECLARE_VOID_TASK_3(name, ...) WS_DECLARE_TASK_3(void, name, __VA_ARGS__)
#define WS_DECLARE_VOID_TASK_4(name, ...) WS_DECLARE_TASK_4(void, name, __VA_ARGS__)

/* Inside a task body (they use its hidden ctx and top). */
#define WS_CTX ws__ctx
#define WS_SPAWN(...) WS__BY_ARGS(WS__SPAWN_, __VA_ARGS__)(__VA_ARGS__)
#define WS_AWAIT(name) name##_ws_await(ws__ctx, WS__POP(name))
#define WS_CALL(...) WS__BY_ARGS(WS__CALL_, __VA_ARGS__)(ws__ctx, WS__TOP, __VA_ARGS__)
#define WS_POLL() ws_poll_at(ws__ctx, WS__TOP)
/* From run_one (or any code outside a task that holds ctx). */
#define WS_RUN(ctx, ...) WS__BY_ARGS(WS__CALL_, __VA_ARGS__)((ctx), ws_frame_top(ctx), __VA_ARGS__)

/* WS__BY_ARGS(prefix, name, args...) is prefix0 for no args, else
 * prefixN: ISO C/C++ has no empty __VA_ARGS__ before C23/C++20, so the
 * no-argument forms get their own macro (and -Wpedantic stays quiet). */
#define WS__CAT(a, b) WS__CAT_(a, b)
#define WS__CAT_(a, b) a##b
#define WS__ARGS_ARE(...) WS__ARGS_ARE_(__VA_ARGS__, N, N, N, N, 0, ws__none)
#define WS__ARGS_ARE_(name, a1, a2, a3, a4, n, ...) n
#define WS__BY_ARGS(prefix, ...) WS__CAT(prefix, WS__ARGS_ARE(__VA_ARGS__))
#define WS__SPAWN_0(name) name##_ws_spawn(ws__ctx, &WS__TOP)
#define WS__SPAWN_N(name, ...) name##_ws_spawn(ws__ctx, &WS__TOP, __VA_ARGS__)
#define WS__CALL_0(ctx, top, name) name##_ws_call(ctx, top)
#define WS__CALL_N(ctx, top, name, ...) name##_ws_call(ctx, top, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* The descriptor.                                                     */
/* ------------------------------------------------------------------ */

typedef struct ws_plugin {
    uint32_t abi_major;   /* WS_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* WS_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(ws_plugin) the plugin was built with */
    uint32_t flags;       /* WS_PLUGIN_* bits below; 0 for none */
    const char *name;        /* must match the file name: noise -> noise.so */
    const char *version;     /* the plugin's own version, free text */
    const char *description; /* one line */
    const ws_option *options; /* NULL-name terminated; may be NULL */

    /* Main thread.  Parse options, build the run-wide state, may call
     * ws_set_count.  Return WS_OK, or ws_fail(...). */
    int (*init)(ws_ctx *ctx, void **state);
    /* Any worker thread.  Do index `index`.  Return WS_OK, or ws_fail(...). */
    int (*run_one)(void *state, uint64_t index, ws_ctx *ctx);
    /* Main thread, after all workers stopped.  run_status is 0 when every
     * task succeeded, non-zero otherwise (then only clean up and discard
     * partial results).  Frees the state.  WS_OK or ws_fail(...). */
    int (*finish)(void *state, int run_status, ws_ctx *ctx);
    /* Optional.  Each worker thread, before its first run_one / after its
     * last; worker_init may set ctx->worker_data. */
    int (*worker_init)(void *state, ws_ctx *ctx);
    void (*worker_fini)(void *state, ws_ctx *ctx);
} ws_plugin;

/* The layout is the ABI: the same in C and C++ (where the atomic fields are
 * plain integers), checked here for LP64 targets (x86-64, AArch64). */
#if defined(__LP64__)
WS__STATIC_ASSERT(sizeof(ws_frame) == 64 && offsetof(ws_frame, state) == 8 &&
                      offsetof(ws_frame, thief) == 12 && offsetof(ws_frame, status) == 16 &&
                      offsetof(ws_frame, stolen_err) == 24 && offsetof(ws_frame, ret) == 32 &&
                      offsetof(ws_frame, arg) == 40,
                  "ws_frame layout is ABI 1");
WS__STATIC_ASSERT(sizeof(ws_ctx) == 72 && offsetof(ws_ctx, worker_data) == 8 &&
                      offsetof(ws_ctx, run) == 16 && offsetof(ws_ctx, seed) == 24 &&
                      offsetof(ws_ctx, fj_head) == 32 && offsetof(ws_ctx, fj_pub) == 40 &&
                      offsetof(ws_ctx, fj_limit) == 48 && offsetof(ws_ctx, attention) == 56 &&
                      offsetof(ws_ctx, fj_trigger) == 64,
                  "ws_ctx layout is ABI 1");
WS__STATIC_ASSERT(sizeof(ws_plugin) == 88 && offsetof(ws_plugin, name) == 16 &&
                      offsetof(ws_plugin, options) == 40 && offsetof(ws_plugin, init) == 48 &&
                      offsetof(ws_plugin, run_one) == 56 && offsetof(ws_plugin, finish) == 64 &&
                      offsetof(ws_plugin, worker_init) == 72 &&
                      offsetof(ws_plugin, worker_fini) == 80,
                  "ws_plugin layout is ABI 1");
#endif
WS__STATIC_ASSERT(sizeof(((ws_frame *)0)->state) == 4 && sizeof(((ws_ctx *)0)->attention) == 4 &&
                      sizeof(((ws_ctx *)0)->fj_trigger) == sizeof(uintptr_t),
                  "atomic fields keep their integer's size");

/* The smallest descriptor the loader accepts: every field above. */
#define WS_PLUGIN_V1_SIZE ((uint32_t)(offsetof(ws_plugin, worker_fini) + sizeof(void (*)(void))))

#define WS_PLUGIN_SYMBOL "ws_plugin_descriptor"

/* Define the descriptor-returning function wsrun looks up.  It is a
 * function, not a data symbol, because dlsym is specified for functions
 * (PostgreSQL's module magic does the same). */
#ifdef __cplusplus
#define WS__EXTERN_C extern "C"
#else
#define WS__EXTERN_C
#endif
#define WS_PLUGIN_DEFINE(desc)                                            \
    WS__EXTERN_C WS_EXPORT const ws_plugin *ws_plugin_descriptor(void);  \
    WS__EXTERN_C WS_EXPORT const ws_plugin *ws_plugin_descriptor(void) { return &(desc); }

/* ws_plugin.flags: each index's output stands alone (noise: one file per
 * index, written whole or not at all), so --resume may skip the indices a
 * --journal records as done, and --shard or wsrun-mpi may run them in
 * separate processes.  A plugin whose finish combines all indices (read's
 * manifest, fill's array) must not set it. */
#define WS_PLUGIN_RESUMABLE 0x1u
/* ABI 1.4.  run_one's effects survive in a child process: everything it
 * produces goes to files or to ws_shared_alloc memory, never only into
 * the process's own memory, so `wsrun --isolate` may run it in worker
 * processes (docs/failures.md, "Isolating tasks").  Without it --isolate
 * is refused (--isolate=force runs the plugin anyway). */
#define WS_PLUGIN_ISOLATABLE 0x2u
/* ABI 1.4.  The plugin asks to run isolated by default, as if --isolate
 * were given (implies WS_PLUGIN_ISOLATABLE's promise). */
#define WS_PLUGIN_ISOLATE_DEFAULT 0x4u
#define WS_PLUGIN_KNOWN_FLAGS \
    (WS_PLUGIN_RESUMABLE | WS_PLUGIN_ISOLATABLE | WS_PLUGIN_ISOLATE_DEFAULT)

/* Fill the header fields of a descriptor: WS_PLUGIN_HEADER, .name = ...
 * or, with flags, WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE), .name = ... */
#define WS_PLUGIN_HEADER_FLAGS(f)                                         \
    .abi_major = WS_ABI_MAJOR, .abi_minor = WS_ABI_MINOR,                 \
    .struct_size = (uint32_t)sizeof(ws_plugin), .flags = (f)
#define WS_PLUGIN_HEADER WS_PLUGIN_HEADER_FLAGS(0)

#ifdef __cplusplus
}
#endif
#endif /* WSRUN_H */
