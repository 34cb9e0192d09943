/*
 * nqueens_serial.h - the serial N-queens count by bit masks, shared by the
 * nqueens plugin (below its cutoff) and its benchmark peers (serial, OpenMP,
 * oneTBB), so every one of them runs the very same search.  C and C++.
 * Must never change without the peers' baseline changing with it: it is
 * what T1/Ts divides by.
 */
#ifndef WSRUN_NQUEENS_SERIAL_H
#define WSRUN_NQUEENS_SERIAL_H

#include <stdint.h>

/* Solutions that complete the board: `all` has one bit per column; cols,
 * left and right are the columns and the two diagonals already attacked.
 * Plain static (not inline), so the compiler treats it as each copy did
 * before it moved here. */
static uint64_t nq_serial(uint32_t all, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == all)
        return 1;
    uint64_t count = 0;
    uint32_t free_cols = all & ~(cols | left | right);
    while (free_cols) {
        uint32_t bit = free_cols & -free_cols;
        free_cols ^= bit;
        count += nq_serial(all, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    }
    return count;
}

#endif
