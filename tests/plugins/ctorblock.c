/*
 * ctorblock.c - test fixture, not a plugin: a library whose constructor,
 * when WSRUN_TEST_CTOR_FD names a pipe, writes one byte to it and then
 * never returns, so the thread that dlopens it holds the loader's lock for
 * ever.  crash.so's how=locked crashes meanwhile: the crash report must
 * not need that lock (issue 23 item 8).  Without the variable (a test that
 * lists the fixtures) the constructor does nothing.
 */
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void ctorblock_hold_the_loader(void)
{
    const char *fd = getenv("WSRUN_TEST_CTOR_FD");
    if (!fd || !*fd)
        return;
    (void)!write(atoi(fd), "x", 1);
    for (;;)
        pause();
}
