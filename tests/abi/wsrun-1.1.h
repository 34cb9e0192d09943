/*
 * wsrun-1.1.h - FROZEN: include/wsrun.h exactly as released with plugin
 * ABI 1.1 (wsrun 1.2.0, commit 00955e1), kept so a test can build a fork-
 * join plugin the way one built against 1.1 is built
 * (tests/plugins/abi11.c) and check that today's wsrun still runs it,
 * inline fork-join code included.  Must never be edited except for this
 * paragraph; a plugin never includes it.
 *
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
 * Worker 0's thread is the main thread (since wsrun 1.2; on a deep stack
 * of its own), the other workers' are threads of their own.  So what
 * worker 0 leaves in the thread (thread-locals, the thread's name) is there
 * in finish; wsrun itself puts back its CPU affinity and signal mask.
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
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_ABI_MAJOR 1
#define WS_ABI_MINOR 1
#define WS_VERSION "1.2.0"

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
int64_t ws_opt_int(const ws_ctx *ctx, const char *name);
double ws_opt_double(const ws_ctx *ctx, const char *name);
const char *ws_opt_str(const ws_ctx *ctx, const char *name); /* NULL if unset */
int ws_opt_bool(const ws_ctx *ctx, const char *name);
int ws_opt_enum(const ws_ctx *ctx, const char *name); /* index in choices */
int ws_opt_given(const ws_ctx *ctx, const char *name); /* set with -o */

/* ------------------------------------------------------------------ */
/* The run: what init may read and set.                               */
/* ------------------------------------------------------------------ */

#define WS_COUNT_UNSET UINT64_MAX

uint64_t ws_run_count(const ws_ctx *ctx); /* WS_COUNT_UNSET in init if --count was not given */
int ws_count_given(const ws_ctx *ctx);    /* 1 when the user gave --count */
void ws_set_count(ws_ctx *ctx, uint64_t count); /* init only; ignored if --count was given */
uint64_t ws_run_seed(const ws_ctx *ctx);
unsigned ws_run_jobs(const ws_ctx *ctx);
int ws_run_quiet(const ws_ctx *ctx);
const char *ws_plugin_name(const ws_ctx *ctx);

/* Record an error message for the current callback and return WS_ERR, so a
 * plugin writes "return ws_fail(ctx, "cannot open %s: %s", path, why);".
 * wsrun prints it on one line with the plugin name and the index. */
int ws_fail(ws_ctx *ctx, const char *fmt, ...) WS_PRINTF(2, 3);
int ws_vfail(ws_ctx *ctx, const char *fmt, va_list ap);

/* Print a diagnostic line to stderr (prefixed "wsrun: <plugin>: "), unless
 * --quiet.  Thread-safe; lines never interleave. */
void ws_log(const ws_ctx *ctx, const char *fmt, ...) WS_PRINTF(2, 3);

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
int ws_outfile_open(ws_ctx *ctx, ws_outfile *out, const char *path);
/* fsync-less close and rename into place; WS_ERR with a message on failure
 * (the temporary file is removed then). */
int ws_outfile_commit(ws_ctx *ctx, ws_outfile *out);
/* Close and remove the temporary file; never fails. */
void ws_outfile_abort(ws_outfile *out);

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
/* wait for them.  Frames are synced in LIFO order.                    */
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
    _Atomic uint32_t state;
    /* Worker id + 1 of the thief that took it; 0 while not stolen. */
    _Atomic uint32_t thief;
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
    _Atomic uint32_t attention;
    uint32_t pad_;

    /* ABI 1.1.  The spawn fast path calls the runtime when the frame it
     * just wrote is at or above this address: fj_limit normally (the
     * stack holds one spare frame there, so that write is in bounds),
     * 0 while attention is non-zero.  One compare covers both. */
    _Atomic uintptr_t fj_trigger;
};

/* Slow paths of the fork-join calls, out of line in the runtime. */
void ws__attend(ws_ctx *ctx);
int ws__sync_slow(ws_ctx *ctx, ws_frame *f);
void ws__frames_exhausted(ws_ctx *ctx);
/* ABI 1.1: the same, told the top of the frame stack (the _at calls). */
void ws__attend_at(ws_ctx *ctx, ws_frame *top);
int ws__join_at(ws_ctx *ctx, ws_frame *f);

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
                atomic_load_explicit(&(ctx)->fj_trigger, memory_order_relaxed))

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
    return WS_LIKELY(f >= ctx->fj_pub);
}

static inline int ws_join_at(ws_ctx *ctx, ws_frame *f)
{
    return ws__join_at(ctx, f);
}

/* Let the runtime split work or stop: long loops inside run_one may call
 * this now and then so idle thieves are served.  Costs one plain load. */
static inline void ws_poll(ws_ctx *ctx)
{
    if (WS_UNLIKELY(atomic_load_explicit(&ctx->attention, memory_order_relaxed)))
        ws__attend(ctx);
}

/* ws_poll for code that uses the _at calls; `top` is its current top. */
static inline void ws_poll_at(ws_ctx *ctx, ws_frame *top)
{
    if (WS_UNLIKELY(atomic_load_explicit(&ctx->attention, memory_order_relaxed)))
        ws__attend_at(ctx, top);
}

/* 1 when the run is stopping (a failure, or an interrupt): long tasks may
 * return early. */
int ws_stopping(const ws_ctx *ctx);

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

/* The smallest descriptor the loader accepts: every field above. */
#define WS_PLUGIN_V1_SIZE ((uint32_t)(offsetof(ws_plugin, worker_fini) + sizeof(void (*)(void))))

#define WS_PLUGIN_SYMBOL "ws_plugin_descriptor"

/* Define the descriptor-returning function wsrun looks up.  It is a
 * function, not a data symbol, because dlsym is specified for functions
 * (PostgreSQL's module magic does the same). */
#define WS_PLUGIN_DEFINE(desc)                                            \
    WS_EXPORT const ws_plugin *ws_plugin_descriptor(void);               \
    WS_EXPORT const ws_plugin *ws_plugin_descriptor(void) { return &(desc); }

/* ws_plugin.flags: each index's output stands alone (noise: one file per
 * index, written whole or not at all), so --resume may skip the indices a
 * --journal records as done, and --shard or wsrun-mpi may run them in
 * separate processes.  A plugin whose finish combines all indices (read's
 * manifest, fill's array) must not set it. */
#define WS_PLUGIN_RESUMABLE 0x1u
#define WS_PLUGIN_KNOWN_FLAGS WS_PLUGIN_RESUMABLE

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
