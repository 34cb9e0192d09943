/*
 * tsan_deque.c - the deque stress under ThreadSanitizer (a standalone
 * program: Criterion does not start under TSan here).  Exits non-zero if
 * an item is lost or duplicated; TSan exits 66 on a data race.
 */
#include "stress.h"

int main(void)
{
    int bad = deque_stress_run(200000, 3);
    bad += deque_stress_run(50000, 5);
    printf("tsan_deque: %s\n", bad ? "FAILED" : "ok");
    return bad != 0;
}
