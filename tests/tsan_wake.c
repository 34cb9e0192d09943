/*
 * tsan_wake.c - no wake-up is lost when work is published to a parked
 * worker (runtime/sched/wake.h), under ThreadSanitizer (standalone: Criterion does
 * not start under TSan here).  With the test hook wsrt_wake_test_untimed a
 * parked worker waits without a timeout, so a lost wake-up hangs the run
 * instead of costing a millisecond; the alarm turns such a hang into a
 * failure.  Each round the owner spawns one child and keeps polling until
 * another worker has run it: every child must run exactly once, on a thief.
 * Non-zero exit on any failure; no timing is measured or asserted.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "stress.h"
#include "wake.h"

#define ROUNDS 400

typedef struct handoff {
    _Atomic unsigned ran;      /* children run so far */
    _Atomic unsigned on_owner; /* children the owner ran itself (must stay 0) */
    _Atomic uint32_t owner;
    _Atomic int thief_tid; /* the thread that ran the last child */
} handoff;

/* Whether thread `tid` of this process sleeps (state S: a worker sleeps
 * only in its futex wait).  An event to wait on, not a timing. */
static int sleeping(int tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1; /* gone: nothing to wait for */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] == 'S';
}

static int handoff_child(ws_ctx *ctx, ws_frame *self)
{
    handoff *h = self->arg[0].p;
    /* relaxed: the owner's own worker id, stored before the spawn that
     * published this frame (the deque's release/acquire carries it). */
    if (ctx->worker_id == atomic_load_explicit(&h->owner, memory_order_relaxed))
        atomic_fetch_add_explicit(&h->on_owner, 1, memory_order_relaxed);
    atomic_store_explicit(&h->thief_tid, (int)gettid(), memory_order_relaxed);
    /* release: pairs with the owner's acquire load in the poll loop. */
    atomic_fetch_add_explicit(&h->ran, 1, memory_order_release);
    return WS_OK;
}

static int handoff_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    handoff *h = state;
    (void)index;
    atomic_store_explicit(&h->owner, ctx->worker_id, memory_order_relaxed);
    for (unsigned r = 0; r < ROUNDS; r++) {
        /* Every other round, publish only once the thief sleeps in its
         * futex wait, so the wake-up is what must bring it back; the other
         * rounds race its way to sleep. */
        if (r % 2 && r > 0)
            while (!sleeping(atomic_load_explicit(&h->thief_tid, memory_order_relaxed)))
                ;
        /* Stand in for the thief's request, so the spawn always publishes:
         * a thief's own request can be lost in a known, harmless race (it
         * comes while the owner publishes and is cleared with that
         * publication; the thief asks again after its park timeout), which
         * with no timeout would hang this test for a reason other than a
         * lost wake-up. */
        wsrt_attention_raise(ctx, WSRT_ATTN_REQUEST);
        ws_frame *f = ws_frame_new(ctx, handoff_child);
        f->arg[0].p = h;
        ws_spawn(ctx, f);
        /* A thief must take it: publish when asked, never run it here. */
        while (atomic_load_explicit(&h->ran, memory_order_acquire) <= r)
            ws_poll(ctx);
        int rc = ws_sync(ctx, f);
        if (rc != WS_OK)
            return rc;
    }
    return WS_OK;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "tsan_wake: FAILED: hung (a wake-up was lost)\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(1);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(600); /* a backstop against a hang, far beyond any run's length */
    atomic_store(&wsrt_wake_test_untimed, 1);
    int bad = 0;
    /* Two workers: the thief's only victim is the owner, so with no
     * timeout every child reaches it only through a wake-up. */
    for (int rep = 0; rep < 3; rep++) {
        handoff h = {0};
        ws_run run;
        wsrt_pool_result res;
        test_run_init(&run, "handoff", 1, 2, handoff_run_one, &h);
        if (test_pool_run(&run, &res) != 0)
            return 1;
        unsigned ran = atomic_load(&h.ran), on_owner = atomic_load(&h.on_owner);
        if (ran != ROUNDS || on_owner != 0 || res.failed != 0 || res.indices_done != 1) {
            fprintf(stderr, "tsan_wake: %u of %u children ran, %u on the owner, %llu failed\n",
                    ran, ROUNDS, on_owner, (unsigned long long)res.failed);
            bad++;
        }
        free(res.workers);
    }
    atomic_store(&wsrt_wake_test_untimed, 0);
    /* With timeouts back, more workers: still every index exactly once. */
    for (unsigned j = 3; j <= 4; j++)
        bad += pool_count_run(10000, j);
    printf("tsan_wake: %s\n", bad ? "FAILED" : "ok");
    return bad != 0;
}
