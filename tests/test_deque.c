/*
 * test_deque.c - the Chase-Lev deque: owner LIFO, thief FIFO, growth, and
 * a concurrent stress (one owner pushing and taking, three or more thieves,
 * 10^6 items) checking that every item comes out exactly once; and its
 * WSRT_ASSERT checks (on in this build) catching a second owner and a zero
 * item.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "expect_abort.h"
#include "stress.h"

Test(deque, owner_takes_lifo)
{
    wsrt_deque q;
    cr_assert_eq(wsrt_deque_init(&q, 4), 0);
    for (uintptr_t i = 1; i <= 10; i++)
        cr_assert_eq(wsrt_deque_push(&q, i), 0);
    for (uintptr_t i = 10; i >= 1; i--) {
        uintptr_t x = 0;
        cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_GOT);
        cr_assert_eq(x, i);
    }
    uintptr_t x;
    cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_EMPTY);
    cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_EMPTY);
    wsrt_deque_destroy(&q);
}

Test(deque, thief_steals_fifo)
{
    wsrt_deque q;
    cr_assert_eq(wsrt_deque_init(&q, 4), 0);
    for (uintptr_t i = 1; i <= 10; i++)
        wsrt_deque_push(&q, i);
    for (uintptr_t i = 1; i <= 10; i++) {
        uintptr_t x = 0;
        cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_GOT);
        cr_assert_eq(x, i);
    }
    uintptr_t x;
    cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_EMPTY);
    wsrt_deque_destroy(&q);
}

Test(deque, both_ends_meet)
{
    wsrt_deque q;
    wsrt_deque_init(&q, 2);
    for (uintptr_t i = 1; i <= 3; i++)
        wsrt_deque_push(&q, i);
    uintptr_t x;
    cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_GOT);
    cr_assert_eq(x, 1);
    cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_GOT);
    cr_assert_eq(x, 3);
    cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_GOT); /* the last item */
    cr_assert_eq(x, 2);
    cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_EMPTY);
    /* reusable after emptying */
    wsrt_deque_push(&q, 7);
    cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_GOT);
    cr_assert_eq(x, 7);
    wsrt_deque_destroy(&q);
}

Test(deque, grows_keeping_order_across_wraparound)
{
    wsrt_deque q;
    wsrt_deque_init(&q, 1); /* two slots */
    uintptr_t next_in = 1, next_out = 1, x;
    /* Advance top and bottom past the initial capacity so the live items
     * wrap around the circular array before it grows. */
    for (int round = 0; round < 5; round++) {
        wsrt_deque_push(&q, next_in++);
        cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_GOT);
        cr_assert_eq(x, next_out++);
    }
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(wsrt_deque_push(&q, next_in++), 0);
    cr_assert(atomic_load(&q.array)->capacity >= 1000);
    cr_assert_eq(wsrt_deque_size_hint(&q), 1000);
    for (int i = 0; i < 500; i++) {
        cr_assert_eq(wsrt_deque_steal(&q, &x), WSRT_DEQUE_GOT);
        cr_assert_eq(x, next_out++);
    }
    for (uintptr_t want = next_in - 1; want >= next_out; want--) {
        cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_GOT);
        cr_assert_eq(x, want);
    }
    cr_assert_eq(wsrt_deque_take(&q, &x), WSRT_DEQUE_EMPTY);
    wsrt_deque_destroy(&q);
}

Test(deque, stress_one_owner_three_thieves_million_items, .timeout = 120)
{
    cr_assert_eq(deque_stress_run(1000000, 3), 0);
}

Test(deque, stress_one_owner_seven_thieves, .timeout = 120)
{
    cr_assert_eq(deque_stress_run(300000, 7), 0);
}

/* ------------------------------------------------ invariants (WSRT_ASSERT) */

static void *push_one(void *arg)
{
    (void)wsrt_deque_push(arg, 2);
    return NULL;
}

/* The owner pushes, then another thread pushes too. */
static void second_owner(void *unused)
{
    (void)unused;
    static wsrt_deque q;
    wsrt_deque_init(&q, 2);
    wsrt_deque_push(&q, 1);
    pthread_t t;
    pthread_create(&t, NULL, push_one, &q);
    pthread_join(t, NULL);
}

Test(deque, a_second_owner_is_caught)
{
    expect_abort_saying(second_owner, NULL, "invariant failed: owned_by_caller(q)");
}

static void push_zero(void *unused)
{
    (void)unused;
    wsrt_deque q;
    wsrt_deque_init(&q, 2);
    wsrt_deque_push(&q, 0);
}

Test(deque, a_zero_item_is_caught)
{
    expect_abort_saying(push_zero, NULL, "invariant failed: item != 0");
}
