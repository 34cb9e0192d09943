/*
 * hang.c - a program that misbehaves on purpose, run only by
 * tests/watchdog/watchdog.sh to show what the watchdog does with it:
 *   hang   a second thread, a child and a grandchild, each stuck for ever in
 *          a function whose name the test looks for in the printed stacks
 *          (it prints "hang: all stuck" once all three are in place)
 *   stray  passes, but prints a `wsrun:` line nothing captured
 *   leave  passes, but leaves a child behind that never ends
 *   segv   dies of SIGSEGV
 *   pass   passes quietly
 * Must never be run by anything but that test.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready_pipe[2];

__attribute__((noinline)) static void fixture_grandchild_stuck(void)
{
    char byte = 'g';
    if (write(ready_pipe[1], &byte, 1) != 1)
        _exit(3);
    for (;;)
        pause();
}

__attribute__((noinline)) static void *fixture_thread_stuck(void *arg)
{
    (void)arg;
    char byte = 't';
    if (write(ready_pipe[1], &byte, 1) != 1)
        _exit(3);
    for (;;)
        pause();
    return NULL;
}

static int hang(void)
{
    if (pipe(ready_pipe) != 0)
        return 3;
    pthread_t thread;
    if (pthread_create(&thread, NULL, fixture_thread_stuck, NULL) != 0)
        return 3;
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0)
            fixture_grandchild_stuck();
        for (;;)
            wait(NULL);
    }
    char bytes[2];
    for (int got = 0; got < 2;)
        if (read(ready_pipe[0], bytes + got, 1) == 1)
            got++;
    printf("hang: all stuck\n");
    fflush(stdout);
    pthread_join(thread, NULL);
    return 3;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "hang") == 0)
        return hang();
    if (strcmp(mode, "stray") == 0) {
        fprintf(stderr, "wsrun: stray line that no test captured\n");
        return 0;
    }
    if (strcmp(mode, "leave") == 0) {
        if (fork() == 0)
            for (;;)
                pause();
        return 0;
    }
    if (strcmp(mode, "segv") == 0) {
        raise(SIGSEGV);
        return 3;
    }
    if (strcmp(mode, "pass") == 0)
        return 0;
    fprintf(stderr, "usage: hang hang|stray|leave|segv|pass\n");
    return 2;
}
