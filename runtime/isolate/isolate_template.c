/*
 * isolate_template.c - the template process of isolation (isolate.h),
 * forked once right after init while the process is single-threaded: it forks a
 * worker process (isolate_child.c) for each worker id wsrun writes on its
 * pipe, reaps them, and marks each one's slot DEAD with how it ended.
 *
 * Must never start a thread (it forks), never outlive wsrun
 * (PR_SET_PDEATHSIG, checked against the getppid race), and never leave a
 * worker process behind when wsrun closes the pipe.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "isolate_internal.h"

void wsrt_iso_template_main(wsrt_isolation *iso, int cmd_rd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != iso->parent_pid)
        _exit(127);
    pid_t self = getpid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    /* The parent's SIGCHLD disposition is inherited (a program embedding
     * libwsrun may ignore it, and SIG_IGN survives exec into wsrun): ignored,
     * the children would be reaped unseen and their slots never DEAD. */
    signal(SIGCHLD, SIG_DFL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t *pids = calloc(iso->jobs, sizeof *pids);
    if (sfd < 0 || !pids)
        _exit(127);
    int open_cmd = 1;
    unsigned alive = 0;
    while (open_cmd || alive > 0) {
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {open_cmd ? cmd_rd : -1, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            _exit(127);
        if (pf[0].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            int st;
            pid_t pid;
            /* -1 reaps only worker processes: a forked process inherits
             * none of its parent's children, and the template forks
             * nothing else (the parent, wsrun or a program using
             * libwsrun, waits for the template's pid alone). */
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                for (unsigned w = 0; w < iso->jobs; w++) {
                    if (pids[w] != pid)
                        continue;
                    pids[w] = 0;
                    alive--;
                    iso->slots[w].wstatus = st;
                    /* release: wstatus before the parent sees DEAD; an
                     * exchange, for the child can write nothing more. */
                    atomic_exchange_explicit(&iso->slots[w].state, SLOT_DEAD,
                                             memory_order_release);
                    wsrt_iso_wake(&iso->slots[w].state);
                    wsrt_iso_bump(&iso->slots[w]); /* a wait for a run */
                }
            }
        }
        if (pf[1].revents) {
            uint32_t w;
            ssize_t n = read(cmd_rd, &w, sizeof w);
            if (n < 0 && errno == EINTR)
                continue;
            if (n != (ssize_t)sizeof w) {
                /* wsrun is done (or gone): end what is left. */
                open_cmd = 0;
                for (unsigned k = 0; k < iso->jobs; k++)
                    if (pids[k] > 0)
                        kill(pids[k], SIGKILL);
                continue;
            }
            if (w >= iso->jobs)
                continue;
            pid_t pid = fork();
            if (pid == 0) {
                close(cmd_rd);
                close(sfd);
                free(pids);
                wsrt_iso_child_main(iso, w, self);
            }
            if (pid < 0) {
                snprintf(iso->slots[w].err, sizeof iso->slots[w].err,
                         "cannot fork a worker process: %s", strerror(errno));
                iso->slots[w].wstatus = 0;
                atomic_exchange_explicit(&iso->slots[w].state, SLOT_DEAD, memory_order_release);
                wsrt_iso_wake(&iso->slots[w].state);
                wsrt_iso_bump(&iso->slots[w]);
                continue;
            }
            pids[w] = pid;
            alive++;
        }
    }
    _exit(0);
}
