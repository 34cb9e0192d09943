/*
 * hang_criterion.c - a Criterion runner with one test case that hangs on
 * purpose, run only by tests/watchdog/watchdog.sh to show that the watchdog
 * names the running test case.  Not a test of wsrun; never run otherwise.
 */
#include <criterion/criterion.h>
#include <unistd.h>

Test(watchdog_fixture, passes)
{
    cr_assert_eq(1 + 1, 2);
}

Test(watchdog_fixture, hangs_here)
{
    for (;;)
        pause();
}
