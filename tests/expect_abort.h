/*
 * expect_abort.h - tests of a deliberate abort (a plugin bug the runtime
 * refuses): the call runs in a forked child whose stderr is captured, and
 * the test asserts both the SIGABRT and the message, so a passing run
 * prints no alarming "wsrun: plugin bug: ..." line.  Never lets the
 * child's output reach the terminal.
 */
#ifndef WSTEST_EXPECT_ABORT_H
#define WSTEST_EXPECT_ABORT_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn(arg) in a child; assert it died of SIGABRT with `want` on stderr. */
static inline void expect_abort_saying(void (*fn)(void *), void *arg, const char *want)
{
    int fd = memfd_create("stderr", MFD_CLOEXEC);
    cr_assert(fd >= 0, "memfd_create failed");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        dup2(fd, 2);
        fn(arg);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    char text[8192];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "expected SIGABRT, got status 0x%x; stderr: %s", status, text);
    cr_assert(strstr(text, want), "stderr lacks '%s': %s", want, text);
}

#endif
