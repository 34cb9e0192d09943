/*
 * mpi_job.h - internal to wsrun-mpi: one MPI job of wsrun.  Every rank
 * runs the ordinary session (session.c) with these job hooks, so each
 * rank loads the plugin, runs init and its own work-stealing pool, and
 * takes guided blocks of the index space from a counter in rank 0's
 * memory.
 *
 * Must never let ranks disagree on which collective comes next (a rank
 * that fails early still takes part in the start-up agreement), never let
 * a failure on one rank leave the others running or waiting, and never be
 * compiled into libwsrt.a (the default build needs no MPI).
 */
#ifndef WSRT_MPI_JOB_H
#define WSRT_MPI_JOB_H

#include "session.h"

typedef struct wsrt_mpi_job wsrt_mpi_job;

/* After MPI_Init: the job for this rank, and the hooks that hand it to
 * wsrt_session_main.  Returns NULL (message printed) when out of memory. */
wsrt_mpi_job *wsrt_mpi_job_new(int rank, int size);
void wsrt_mpi_job_hooks(wsrt_mpi_job *job, wsrt_job_hooks *hooks);

/* After the session ended with `status` (or the arguments were refused):
 * takes part in whatever collective the other ranks still wait for (the
 * start-up agreement when this rank stopped before its run began) and
 * returns the exit status of this rank.  Calls MPI_Abort if the session
 * broke the hooks' contract. */
int wsrt_mpi_job_end(wsrt_mpi_job *job, int status);
void wsrt_mpi_job_free(wsrt_mpi_job *job);

#endif
