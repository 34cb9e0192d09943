/*
 * main.c - entry point of wsrun-mpi, the MPI build of wsrun (`make mpi`).
 * Starts MPI, tags this rank's messages with its rank, parses the command
 * line with wsrun's own parser (args.h) and runs the same session as wsrun
 * (session.h) with this rank's MPI job as its job hooks (mpi_job.c).
 * Every option means what it means for wsrun; -j is per rank.
 *
 * Must never parse options of its own (one CLI for both programs), and
 * never return before every collective the other ranks wait for is done.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "log.h"
#include "mpi_job.h"
#include "run.h"
#include "session.h"

/* --help and --version print the same text on every rank: keep rank 0's. */
static int asks_help_or_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-V") ||
            !strcmp(argv[i], "--version"))
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Open MPI yields the CPU in every progress loop when the node is
     * oversubscribed; a counter fetch then waits a scheduler time slice
     * (docs/design.md, "Costs measured on the project's VM").  wsrun-mpi never
     * spins in MPI for long (collectives are polled with sleeps), so it
     * turns that off unless the user chose otherwise. */
    setenv("OMPI_MCA_mpi_yield_when_idle", "0", 0);
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "wsrun: MPI_Init_thread failed (is this started by mpirun or srun?)\n");
        return WSRT_EXIT_USAGE;
    }
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char tag[32];
    snprintf(tag, sizeof tag, "rank %d: ", rank);
    wsrt_log_set_tag(tag);
    if (provided < MPI_THREAD_SERIALIZED) {
        wsrt_err("this MPI library offers thread level %d; wsrun-mpi needs "
               "MPI_THREAD_SERIALIZED (%d) or more",
               provided, MPI_THREAD_SERIALIZED);
        MPI_Abort(MPI_COMM_WORLD, WSRT_EXIT_USAGE);
    }
    if (rank != 0 && asks_help_or_version(argc, argv) && !freopen("/dev/null", "w", stdout))
        wsrt_err("cannot silence --help on this rank: %s", "freopen failed");

    wsrt_mpi_job *job = wsrt_mpi_job_new(rank, size);
    if (!job)
        MPI_Abort(MPI_COMM_WORLD, WSRT_EXIT_TASK_FAILED);
    wsrt_job_hooks hooks;
    wsrt_mpi_job_hooks(job, &hooks);
    wsrt_args args;
    int status = wsrt_args_parse(argc, argv, &args) != 0
                     ? WSRT_EXIT_USAGE
                     : wsrt_session_main(&args, argv, &hooks);
    wsrt_args_free(&args);
    status = wsrt_mpi_job_end(job, status);
    wsrt_mpi_job_free(job);
    fflush(stdout);
    MPI_Finalize();
    return status;
}
