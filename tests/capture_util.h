/*
 * capture_util.h - tests' capture of what a piece of code writes on
 * stderr (fd 2): point fd 2 at a fresh file under /tmp, run the code, put
 * fd 2 back and return the text.  Must never leave fd 2 redirected or the
 * file behind, and never be used while another thread writes on stderr
 * for a test that does not expect it.
 */
#ifndef WSTEST_CAPTURE_UTIL_H
#define WSTEST_CAPTURE_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What `body` wrote on stderr (calloc'ed; free it). */
static inline char *test_capture_stderr(void (*body)(void))
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/wsrun-test-stderr.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    body();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    cr_assert_eq(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    return text;
}

#endif
