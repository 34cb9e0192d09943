/*
 * cxxfork.cpp - test fixture: a C++ fork-join plugin, proof that
 * include/wsrun.h builds as C++11..C++2b with g++ and clang++ (-Wall
 * -Werror) and that its inline fork-join code works there.  The Makefile
 * builds it once per compiler and standard, each as its own plugin
 * (CXXFORK_NAME, the file's name); tests/cli/cxx-plugin.sh runs them.
 * Options:
 *   n=N        fib(N) (default 22), printed by finish as "fib(N) = V"
 *   mode=M     plain: ws_frame_new / ws_spawn / ws_sync (default);
 *              at: ws_frame_at / ws_spawn_at / ws_pop_at / ws_join_at;
 *              macro: the typed tasks (WS_TASK_1, WS_SPAWN, WS_AWAIT)
 * It must stay plain C++11 (no newer feature) so every build compiles it.
 */
#include <cstdio>
#include <cstring>
#include <new>

#include "wsrun.h"

#ifndef CXXFORK_NAME
#error "build with -DCXXFORK_NAME='\"cxxfork_...\"' (the .so's name)"
#endif

namespace {

struct Run {
    int64_t n = 0;
    int form = 0; /* 0 plain, 1 at, 2 macro */
    int64_t result = -1;
};

const ws_option cxx_options[] = {
    {"n", WS_OPT_INT, "22", "compute fib(n)", nullptr, 0, 40},
    {"mode", WS_OPT_ENUM, "plain", "which fork-join calls", "plain|at|macro", 0, 0},
    {nullptr, WS_OPT_INT, nullptr, nullptr, nullptr, 0, 0},
};

int fib_plain_task(ws_ctx *ctx, ws_frame *self)
{
    const int64_t n = self->arg[0].i;
    if (n < 2) {
        self->ret.i = n;
        return WS_OK;
    }
    ws_frame *child = ws_frame_new(ctx, fib_plain_task);
    child->arg[0].i = n - 1;
    ws_spawn(ctx, child);
    ws_frame *second = ws_frame_new(ctx, fib_plain_task);
    second->arg[0].i = n - 2;
    ws_spawn(ctx, second);
    int rc = ws_sync(ctx, second);
    const int64_t b = second->ret.i; /* read before the next sync reuses frames */
    if (ws_sync(ctx, child) != WS_OK || rc != WS_OK)
        return ws_fail(ctx, "a child of fib(%lld) failed", static_cast<long long>(n));
    self->ret.i = child->ret.i + b;
    return WS_OK;
}

int fib_at_task(ws_ctx *ctx, ws_frame *self);

inline int64_t fib_at(ws_ctx *ctx, ws_frame *top, int64_t n)
{
    if (n < 2)
        return n;
    ws_frame *child = ws_frame_at(ctx, top, fib_at_task);
    child->arg[0].i = n - 2;
    ws_spawn_at(ctx, child);
    const int64_t first = fib_at(ctx, top + 1, n - 1);
    if (ws_pop_at(ctx, child))
        return first + fib_at(ctx, top, n - 2);
    ws_join_at(ctx, child);
    return first + child->ret.i;
}

int fib_at_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_at(ctx, self + 1, self->arg[0].i);
    return WS_OK;
}

WS_TASK_1(int64_t, fib_typed, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(fib_typed, n - 2);
    const int64_t first = WS_CALL(fib_typed, n - 1);
    return first + WS_AWAIT(fib_typed);
}

int cxx_init(ws_ctx *ctx, void **state)
{
    Run *run = new (std::nothrow) Run();
    if (!run)
        return ws_fail(ctx, "out of memory");
    run->n = ws_opt_int(ctx, "n");
    run->form = ws_opt_enum(ctx, "mode");
    ws_set_count(ctx, 1);
    *state = run;
    return WS_OK;
}

int cxx_run_one(void *state, uint64_t, ws_ctx *ctx)
{
    Run *run = static_cast<Run *>(state);
    if (run->form == 2) {
        run->result = WS_RUN(ctx, fib_typed, run->n);
        return WS_OK;
    }
    if (run->form == 1) {
        run->result = fib_at(ctx, ws_frame_top(ctx), run->n);
        return WS_OK;
    }
    ws_frame *f = ws_frame_new(ctx, fib_plain_task);
    f->arg[0].i = run->n;
    ws_spawn(ctx, f);
    const int rc = ws_sync(ctx, f);
    run->result = f->ret.i;
    return rc;
}

int cxx_finish(void *state, int run_status, ws_ctx *)
{
    Run *run = static_cast<Run *>(state);
    if (run_status == 0)
        std::printf("%s (C++ %ld): fib(%lld) = %lld\n", CXXFORK_NAME,
                    static_cast<long>(__cplusplus), static_cast<long long>(run->n),
                    static_cast<long long>(run->result));
    delete run;
    return WS_OK;
}

/* Positional, not designated: designated initializers are C++20. */
const ws_plugin cxx_plugin = {
    WS_ABI_MAJOR, WS_ABI_MINOR, static_cast<uint32_t>(sizeof(ws_plugin)), 0,
    CXXFORK_NAME, "1.0", "fork-join from C++ (test fixture)", cxx_options,
    cxx_init, cxx_run_one, cxx_finish, nullptr, nullptr,
};

} // namespace

WS_PLUGIN_DEFINE(cxx_plugin)
