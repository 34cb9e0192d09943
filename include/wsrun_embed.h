/*
 * wsrun_embed.h - embedding wsrun: run work on a wsrun pool inside your
 * own program, with no wsrun command (libwsrun, `pkg-config --cflags
 * --libs libwsrun`; docs/embedding.md).
 *
 * A program creates a pool, runs a ws_plugin descriptor it defines itself,
 * one of a plugin file it opens (ws_plugin_open), or a plain function over
 * the indices 0..count-1 (fork-join of wsrun.h works inside all three),
 * reads the result and the statistics, and destroys the pool.  The
 * library never installs signal handlers in the program's process and
 * never calls exit() (an isolating pool's worker processes are its own:
 * "Isolating pools" below); this header must never expose the runtime's
 * internals.
 *
 * Return values of the run functions, the same as wsrun's exit status:
 *   0 (WS_POOL_OK)      every index succeeded, and finish did;
 *   1 (WS_POOL_FAILED)  an index failed, finish failed, or the worker
 *                       threads could not start;
 *   2 (WS_POOL_REFUSED) nothing ran: a bad argument, a bad descriptor, a
 *                       bad "key=value" option, init failed, the count is
 *                       unknown, the pool is busy with another run, or an
 *                       isolating pool refused (a plugin not isolatable,
 *                       other threads after init; "Isolating pools").
 * After 1 or 2, ws_pool_error(pool) is a one-line message saying why (a
 * failed index is named in it).  Like the command, the runtime also prints
 * each failed index (the first 20) on stderr as a "wsrun: " line, and a
 * plugin's ws_log lines go there.
 *
 * Threads: one run at a time per pool (a second concurrent call on the same
 * pool returns 2 and leaves the running call's message alone); separate
 * pools are independent and may be used from separate threads.  Never call
 * ws_pool_* from inside a task, run_one or a callback of a run: that
 * returns 2 and runs nothing (ws_pool_stop, which may be called anywhere,
 * aside).  The thread that calls a run function
 * becomes worker 0 for the run's duration (init and finish run on it too).
 */
#ifndef WSRUN_EMBED_H
#define WSRUN_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "wsrun.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WS_POOL_OK = 0, WS_POOL_FAILED = 1, WS_POOL_REFUSED = 2 };

typedef struct ws_pool ws_pool;

/* What a run did.  Set struct_size = sizeof(ws_pool_stats) before the call:
 * the library writes only that many bytes, so a program built against this
 * header keeps working with a later libwsrun whose struct has grown (new
 * fields are only ever appended). */
typedef struct ws_pool_stats {
    uint32_t struct_size; /* the caller's sizeof(ws_pool_stats) */
    uint32_t jobs;        /* workers of the run */
    uint64_t count;       /* indices of the run (after the plugin's init) */
    uint64_t done;        /* indices whose run_one (or fn) succeeded */
    uint64_t failed;      /* indices that failed */
    uint64_t wall_ns;     /* from the first worker's start to the last one's end */
    uint64_t tasks;       /* frames run: index ranges and fork-join children */
    uint64_t steals;      /* frames taken from another worker */
    uint64_t steal_tries; /* attempts to take one */
} ws_pool_stats;

/* A pool of `jobs` workers (1..4096; 0: the CPUs this process may use, as
 * wsrun's default -j), whose runs get the random streams of `seed`
 * (ws_run_seed, ws_rng_for: --seed of the command).  NULL with errno set
 * when it cannot be made (EINVAL: jobs above 4096; ENOMEM). */
WS_API ws_pool *ws_pool_create(unsigned jobs, uint64_t seed);

/* How ws_pool_create_with makes a pool.  Zero it, set struct_size =
 * sizeof(ws_pool_options), then the fields wanted: a field left 0 means
 * the default.  New fields are only ever appended (the library reads
 * struct_size bytes), so a program built against this header keeps working
 * with a later libwsrun. */
typedef struct ws_pool_options {
    uint32_t struct_size; /* the caller's sizeof(ws_pool_options) */
    uint32_t jobs;        /* as ws_pool_create's: 1..4096; 0: the CPUs allowed */
    uint64_t seed;        /* as ws_pool_create's (wsrun --seed) */
    uint64_t stack_bytes; /* each worker's C stack, worker 0's included (wsrun
                           * --stack): 256 KiB..64 GiB; 0: 64 MiB.  How deep a
                           * task may recurse; reserved address space,
                           * touched only as deep as the work goes */
    uint32_t quiet;       /* 1: the runs' ws_log lines are left out and
                           * ws_run_quiet says 1 (wsrun --quiet); failed
                           * indices are still printed.  Other values: EINVAL */
    uint32_t reserved;    /* 0 */
    /* ABI 1.4 (struct_size 56): isolation, as wsrun's --isolate,
     * --timeout, --worker-memory and --keep-going (docs/failures.md,
     * "Isolating tasks"; below, "Isolating pools"). */
    uint32_t isolate;     /* 0: threads only (a plugin's
                           * WS_PLUGIN_ISOLATE_DEFAULT is not honoured);
                           * 1: ws_pool_run_plugin runs the plugin's
                           * worker_init, run_one and worker_fini in one
                           * worker process per worker, refusing (2) a
                           * plugin without WS_PLUGIN_ISOLATABLE or
                           * WS_PLUGIN_ISOLATE_DEFAULT, as --isolate does;
                           * 2: runs any plugin so (--isolate=force: what
                           * run_one keeps in the process's own memory is
                           * lost).  Other values: EINVAL */
    uint32_t keep_going;  /* 1: a failed index does not stop the run; every
                           * index runs (--keep-going).  Other values: EINVAL */
    uint64_t timeout_ms;  /* with isolate: an index (or worker_init /
                           * worker_fini) running longer is killed and fails
                           * with "timed out after S s" (--timeout S);
                           * 0: none; 1..10^12.  Set without isolate: EINVAL */
    uint64_t worker_memory_bytes; /* with isolate: each worker process's
                           * memory limit, RLIMIT_DATA over what it has at
                           * its start (--worker-memory); 0: none; at least
                           * 1 MiB.  Set without isolate: EINVAL */
} ws_pool_options;
/* Isolating pools (isolate 1 or 2).  A crash, exit(), endless loop (with
 * timeout_ms) or runaway allocation (with worker_memory_bytes) in an index
 * fails that index only: ws_pool_error names the index and how its worker
 * process ended ("index 7 failed: its worker process (pid N) was killed by
 * SIGSEGV"), a fresh process takes the place of the dead one, and with
 * keep_going every other index still runs.  Results must go to files or to
 * ws_shared_alloc memory (allocated in init), as under --isolate.
 *
 * How: such a pool starts no thread when created.  ws_pool_run_plugin runs
 * init in the calling thread, then forks a template process while the
 * process is single-threaded (every worker process is forked from it),
 * then starts the run's worker threads, which drive the worker processes,
 * and joins them and ends the template and every worker process before it
 * returns.  So the process must have no other thread when init returns:
 * the program's own threads, or threads init left running, make the run
 * return 2 (finish is still called) with ws_pool_error saying "isolate:
 * plugin NAME: this process has N other threads after init ...".  A pool
 * without isolate has threads from its creation to the end of its first
 * run, and during each run; one isolating run at a time per process
 * follows.  /proc is needed
 * (the thread count).  ws_pool_for on an isolating pool is refused (2):
 * its function and argument live in the program's memory, whose writes a
 * worker process would lose; use a pool without isolate for it.
 *
 * Processes and signals: the library forks one child of the calling
 * process, the template, and waits for that pid only (waitpid on it,
 * never -1); the worker processes are the template's children, which the
 * template reaps.  The parent side installs no signal handler, blocks no
 * signal and does not use SIGCHLD: a program may keep its own SIGCHLD
 * handler, but one that reaps every child (waitpid(-1)) could take the
 * template's status (then the run fails its indices saying the template
 * ended).  The template and the worker processes are forked from the
 * program, so they start with its signal handlers; the template ignores
 * SIGINT and SIGTERM and takes SIGCHLD back to its default, the worker
 * processes ignore SIGINT and SIGTERM (ws_pool_stop stops them) and use
 * SIGUSR1 and SIGUSR2 for the parent's stop requests (handlers of their
 * own, in the worker processes only).  Both die with the thread that
 * called the run (PR_SET_PDEATHSIG).  A plugin's exit() in a worker
 * process runs the program's atexit handlers there (that process ends,
 * and its index fails). */
/* A pool made as *options says.  NULL with errno set: EINVAL (NULL
 * options, struct_size below this struct's first size of 24, jobs above
 * 4096, stack_bytes outside 256 KiB..64 GiB, quiet above 1, reserved not
 * 0, isolate above 2, keep_going above 1, timeout_ms above 10^12,
 * worker_memory_bytes below 1 MiB, timeout_ms or worker_memory_bytes
 * without isolate), E2BIG (a longer struct from a newer header with a
 * field this library does not know set), ENOMEM.
 * ws_pool_create(j, s) is ws_pool_create_with with only jobs and seed. */
WS_API ws_pool *ws_pool_create_with(const ws_pool_options *options);

/* Run a descriptor the program defines (WS_PLUGIN_HEADER, .name, .init,
 * .run_one, ...) as wsrun runs a plugin: the descriptor is checked as the
 * loader checks a plugin's (ABI major, struct_size, flags, name, run_one;
 * the file-name rule aside) and read only up to its struct_size; each of
 * the n_options texts is a "key=value" checked exactly as `-o key=value`
 * (the last one of a key wins; they need to live only during the call);
 * then init, the indices, and finish, which is always called after a
 * successful init and never without one.  count: the number of indices
 * (at most 2^63-1), or WS_COUNT_UNSET to let init choose (ws_set_count);
 * a count given here wins over init's.  stats may be NULL; it is written
 * once init has run (zero counts when init failed), not when the call is
 * refused before.  Returns 0, 1 or 2 (top of this file). */
WS_API int ws_pool_run_plugin(ws_pool *pool, const ws_plugin *plugin, uint64_t count,
                              const char *const *options, size_t n_options,
                              ws_pool_stats *stats);

/* The work of one index for ws_pool_for: WS_OK, or ws_fail(ctx, ...) (any
 * non-zero return fails the index).  ctx is the worker's: fork-join
 * (WS_RUN, ws_spawn, ...), ws_rng_for, ws_run_seed work as in run_one. */
typedef int (*ws_pool_fn)(void *arg, uint64_t index, ws_ctx *ctx);

/* Call fn(arg, i, ctx) once for every i in 0..count-1 on the pool's
 * workers; the first failure stops the rest (unless the pool's
 * keep_going).  stats may be NULL (written unless the call is refused).
 * Returns 0, 1 or 2 (top of this file); in messages the run is named
 * "ws_pool_for".  Refused (2) on an isolating pool (ws_pool_options). */
WS_API int ws_pool_for(ws_pool *pool, uint64_t count, ws_pool_fn fn, void *arg,
                       ws_pool_stats *stats);

/* A plugin file opened by ws_plugin_open: wsrun's built-in plugins, a
 * fixture, one built from plugins/template, run in-process. */
typedef struct ws_plugin_file ws_plugin_file;

/* Load a plugin as `wsrun --plugin X` does.  A name_or_path with a '/' is
 * a path, used as is; a name (with or without ".so") is looked for in each
 * folder of $WSRUN_PLUGIN_PATH (colon separated), then beside libwsrun
 * itself: <its folder>/plugins (the build tree) and <its
 * folder>/../lib/wsrun (the installed plugin folder, `pkg-config
 * --variable=plugindir libwsrun`).  A program linked with the static
 * libwsrun.a is "libwsrun itself", so it looks beside its executable, as
 * wsrun does.  The current directory is never searched.  The file is
 * dlopened (RTLD_NOW | RTLD_LOCAL) and its descriptor checked as the
 * command checks it (ABI major, struct_size, flags, name, run_one, the
 * name equal to the file name) before any of its code but the descriptor
 * function runs; nothing else is called (no init).
 *
 * The plugin's calls to ws_* functions must resolve to this libwsrun: when
 * libwsrun.so was itself loaded RTLD_LOCAL (a Python extension and the
 * libraries it needs are), this call first makes libwsrun's own symbols
 * global (dlopen of its own file with RTLD_NOLOAD | RTLD_GLOBAL, which
 * loads nothing new; it stays global for the life of the process).
 *
 * NULL on failure, with a one-line message in err (err_size bytes, may be
 * 0; no "wsrun: " prefix, no newline), the command's own words:
 *   "plugin 'X' not found (looked in: DIR, DIR, ...)"
 *   "plugin 'PATH' not found: No such file or directory"
 *   "cannot load plugin PATH: <dlerror's text>"
 *   "PATH is not a wsrun plugin: it has no ws_plugin_descriptor symbol"
 *   "plugin PATH: plugin ABI major mismatch: expected 1, found 99 (...)"
 *   "ws_plugin_open: no plugin name or path (empty)"  (or NULL)
 * Any thread; separate files are independent. */
WS_API ws_plugin_file *ws_plugin_open(const char *name_or_path, char *err, size_t err_size);

/* The checked descriptor of an open file, for ws_pool_run_plugin (a copy
 * owned by `file`, valid until ws_plugin_close).  NULL file: NULL. */
WS_API const ws_plugin *ws_plugin_file_plugin(const ws_plugin_file *file);

/* Unload the plugin (dlclose) and free `file`.  Only once no run of its
 * descriptor is in progress: a run's worker threads have ended when
 * ws_pool_run_plugin returns, so closing after that is safe.  NULL is
 * ignored. */
WS_API void ws_plugin_close(ws_plugin_file *file);

/* Ask the pool's run in progress, if any, to stop as wsrun's first Ctrl-C
 * does (ABI 1.4): no new index starts, ws_stopping() becomes true for the
 * indices running, and the run returns 1 (WS_POOL_FAILED) with
 * ws_pool_error "NAME: stopped by ws_pool_stop: D of N indices done"
 * unless every index had already succeeded (then it returns as it would
 * have).  Asked during init, init goes on (its ws_stopping is unaffected)
 * and no index starts; finish is still called after a successful init,
 * with a run status of 1.  With no run in progress it does nothing (the
 * pool's next run is not affected); NULL is ignored.  Async-signal-safe
 * and callable from any thread (atomic loads and stores only, sequentially
 * consistent; no lock, no allocation), while the pool exists: a SIGINT
 * handler may call it for a run on another thread (or on its own). */
WS_API void ws_pool_stop(ws_pool *pool);

/* The last failed run's one-line message (no newline); "" when the last
 * run succeeded or none ran.  Valid until the pool's next run or its
 * destruction.  NULL pool: "". */
WS_API const char *ws_pool_error(const ws_pool *pool);

/* End the pool's threads and free it.  NULL is ignored.  Not while a run
 * of the pool is in progress. */
WS_API void ws_pool_destroy(ws_pool *pool);

#ifdef __cplusplus
}
#endif
#endif /* WSRUN_EMBED_H */
