/*
 * cli.c - the wsrun command: the one argument parser (args.c), the
 * --scaling study's child runs (scaling_child.c), then one session
 * (session.c) with no job.  wsrun-mpi does the same in runtime/mpi/main.c
 * with its MPI job.
 *
 * Must never grow logic of its own: what both programs do belongs in
 * args.c or session.c, so that they cannot drift apart.
 */
#include "cli.h"

#include "args.h"
#include "run.h"
#include "scaling.h"
#include "session.h"

int wsrt_cli_main(int argc, char **argv)
{
    wsrt_args a;
    if (wsrt_args_parse(argc, argv, &a) != 0) {
        wsrt_args_free(&a);
        return WSRT_EXIT_USAGE;
    }
    /* A run of a --scaling study: a plain run at the study's -j. */
    int child = wsrt_scaling_child_take(&a.jobs);
    if (child < 0) {
        wsrt_args_free(&a);
        return WSRT_EXIT_USAGE;
    }
    if (child) {
        a.scaling.given = 0;
        a.progress = WSRT_PROGRESS_OFF;
    }
    int status = wsrt_session_main(&a, argv, NULL);
    wsrt_args_free(&a);
    return status;
}
