#!/usr/bin/env bash
# seqcst.sh - scripts/check-seqcst (issue 28): the seq_cst operations the
# attention protocol (sched.c), the deque's last-item race (deque.c) and
# the standby hand-over (standby.c) rest on stay seq_cst.  x86 cannot
# tell most of them from weaker orders, so no run can catch a weakening;
# this checks the source: the tree passes, and copies with one operation
# weakened, or its marking comment gone, fail naming the file and the
# operation.  Needs no build; writes only into its scratch folder.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start seqcst seqcst relative
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

out=$("$ROOT/scripts/check-seqcst" "$ROOT" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok; else bad "check-seqcst fails on the tree: $out"; fi

copy_tree() {
    rm -rf "$SCRATCH/t" && mkdir "$SCRATCH/t" && cp -r "$ROOT/runtime" "$SCRATCH/t/"
}

# refused NAME MESSAGE: check-seqcst on the altered copy exits 1 and
# prints MESSAGE.
refused() {
    local out rc
    out=$("$ROOT/scripts/check-seqcst" "$SCRATCH/t" 2>&1); rc=$?
    check "$1 fails" test $rc -eq 1
    case $out in
    *"$2"*) ok ;;
    *) bad "$1's message: $out" ;;
    esac
}

# The owner's RMW of the attention word made relaxed: the same lock'ed
# instruction on x86, and the argument in sched.c no longer holds.
copy_tree
sed -i 's/atomic_fetch_and_explicit(&ctx->attention, ~bit, memory_order_seq_cst)/atomic_fetch_and_explicit(\&ctx->attention, ~bit, memory_order_relaxed)/' \
    "$SCRATCH/t/runtime/sched/sched.c"
refused "a relaxed fetch_and" \
    "runtime/sched/sched.c: atomic_fetch_and_explicit(&ctx->attention, ~bit, memory_order_seq_cst); appears 0 times, not 1"

# The owner's load of attention made acquire (a plain mov either way).
copy_tree
sed -i 's/if (atomic_load_explicit(&ctx->attention, memory_order_seq_cst))/if (atomic_load_explicit(\&ctx->attention, memory_order_acquire))/' \
    "$SCRATCH/t/runtime/sched/sched.c"
refused "an acquire load" "runtime/sched/sched.c: if (atomic_load_explicit(&ctx->attention, memory_order_seq_cst)) appears 0 times"

# The deque's fence in take made acq_rel (no instruction at all on x86).
copy_tree
sed -i '0,/atomic_thread_fence(memory_order_seq_cst);/s//atomic_thread_fence(memory_order_acq_rel);/' \
    "$SCRATCH/t/runtime/sched/deque.c"
refused "an acq_rel fence" "runtime/sched/deque.c: atomic_thread_fence(memory_order_seq_cst); appears 1 times, not 2"

# The standby sleeper's store made explicit release.
copy_tree
sed -i 's/atomic_store(&s->parked, 1);/atomic_store_explicit(\&s->parked, 1, memory_order_release);/' \
    "$SCRATCH/t/runtime/sched/standby.c"
refused "a release store" "runtime/sched/standby.c: atomic_store(&s->parked, 1); appears 0 times"

# A marked operation whose comment lost its mark: whoever edits it must
# see that it is checked.
copy_tree
sed -i 's/relaxed on failure: we only learn that a thief won (check-seqcst)\./relaxed on failure: we only learn that a thief won./' \
    "$SCRATCH/t/runtime/sched/deque.c"
line=$(grep -n 'int won = atomic_compare_exchange_strong_explicit' "$ROOT/runtime/sched/deque.c" | cut -d: -f1)
refused "an unmarked operation" "runtime/sched/deque.c:$line: int won = atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1, memory_order_seq_cst, has no check-seqcst comment above it"

# A mark with nothing under it: an operation was moved away from its
# comment, or a new one marked without being listed in the table.
copy_tree
sed -i 's|^void wsrt_attention_raise|/* check-seqcst */\nvoid wsrt_attention_raise|' "$SCRATCH/t/runtime/sched/sched.c"
refused "an orphan mark" "a check-seqcst comment marks no operation of the table"

cli_finish
