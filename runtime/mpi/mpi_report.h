/*
 * mpi_report.h - internal to wsrun-mpi: what each rank tells the others
 * after its pool stopped (one row of numbers per rank), and the lines rank
 * 0 prints from all rows: the failure summary, the per-rank summary and
 * the --stats balance table.  No MPI calls here; never prints on ranks
 * other than the one the caller chose.
 */
#ifndef WSRT_MPI_REPORT_H
#define WSRT_MPI_REPORT_H

#include <stdint.h>

/* One rank's row, gathered on every rank after the pools stopped. */
enum {
    ROW_DONE,         /* indices that succeeded */
    ROW_SKIPPED,      /* indices skipped as done before (resume) */
    ROW_FAILED,       /* indices that failed */
    ROW_STOPPED,      /* the pool stopped early */
    ROW_SIGNAL,       /* the interrupting signal, or 0 */
    ROW_POOL_ERR,     /* the pool could not start its threads */
    ROW_INIT_FAILED,  /* a worker_init failed */
    ROW_BLOCKS,       /* blocks taken from the counter */
    ROW_COUNTER_NS,   /* time in counter calls */
    ROW_WALL_NS,      /* the pool's wall time */
    ROW_JOBS,         /* workers */
    ROW_TASKS,        /* frames run */
    ROW_STEALS,       /* steals inside the rank */
    ROW_BUSY_NS,      /* summed over workers */
    ROW_IDLE_NS,
    ROW_PARKED_NS,
    ROW_END_WAIT_NS,  /* waiting for the other ranks after the pool (end row) */
    ROW_FIELDS
};

typedef struct wsrt_mpi_summary {
    const char *plugin;
    int ranks;
    uint64_t expected;  /* indices in the job's index space */
    double run_s;       /* first block to last pool stopped, seen by rank 0 */
    int stats;          /* --stats: the full table */
    const uint64_t *rows; /* ranks * ROW_FIELDS */
} wsrt_mpi_summary;

/* The run status every rank hands to finish: 0 when every index of the
 * job succeeded on some rank, 1 otherwise. */
int wsrt_mpi_rows_status(const wsrt_mpi_summary *s);
/* Rank 0: one line per kind of failure (tasks failed and on which ranks,
 * interrupts, pools that could not start).  Prints nothing on success. */
void wsrt_mpi_report_failures(const wsrt_mpi_summary *s);
/* Rank 0: the combined summary; with s->stats the balance table. */
void wsrt_mpi_report_summary(const wsrt_mpi_summary *s);

#endif
