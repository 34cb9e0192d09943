/*
 * shared.c - ws_shared_alloc: memory a plugin's init sets aside for results
 * that run_one writes, seen by finish also when run_one runs in a worker
 * process (--isolate): then each block is an anonymous MAP_SHARED mapping
 * made before the processes are forked, so parent and children see the
 * same pages.  Without isolation a block is plain calloc memory.
 *
 * Must never hand out memory after the processes exist under isolation
 * (a child's new mapping would be its own), and never free a block while
 * plugin code may still use it (only wsrt_shared_free_all, after finish).
 */
#include "shared.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "wsrun.h"

typedef struct block {
    struct block *next;
    void *mem;
    size_t size;
    int mapped;
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block *blocks;   /* under lock */
static int isolated;    /* under lock */
static _Atomic int sealed;

void wsrt_shared_set_isolated(int on)
{
    pthread_mutex_lock(&lock);
    isolated = on;
    pthread_mutex_unlock(&lock);
}

void wsrt_shared_seal(void)
{
    atomic_store(&sealed, 1); /* seq_cst: rare, and read under lock below */
}

void *ws_shared_alloc(ws_ctx *ctx, size_t size)
{
    (void)ctx;
    if (size == 0)
        size = 1;
    block *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_lock(&lock);
    if (atomic_load(&sealed) && isolated) {
        pthread_mutex_unlock(&lock);
        free(b);
        errno = EPERM;
        return NULL;
    }
    b->size = size;
    b->mapped = isolated;
    if (isolated) {
        b->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (b->mem == MAP_FAILED)
            b->mem = NULL;
    } else {
        b->mem = calloc(1, size);
    }
    if (!b->mem) {
        int e = errno;
        pthread_mutex_unlock(&lock);
        free(b);
        errno = e;
        return NULL;
    }
    b->next = blocks;
    blocks = b;
    pthread_mutex_unlock(&lock);
    return b->mem;
}

void wsrt_shared_end_isolated(void)
{
    pthread_mutex_lock(&lock);
    block *mapped = NULL;
    for (block **at = &blocks; *at;) {
        block *b = *at;
        if (b->mapped) {
            *at = b->next;
            b->next = mapped;
            mapped = b;
        } else {
            at = &b->next;
        }
    }
    isolated = 0;
    atomic_store(&sealed, 0);
    pthread_mutex_unlock(&lock);
    while (mapped) {
        block *next = mapped->next;
        munmap(mapped->mem, mapped->size);
        free(mapped);
        mapped = next;
    }
}

void wsrt_shared_free_all(void)
{
    pthread_mutex_lock(&lock);
    block *b = blocks;
    blocks = NULL;
    isolated = 0;
    atomic_store(&sealed, 0);
    pthread_mutex_unlock(&lock);
    while (b) {
        block *next = b->next;
        if (b->mapped)
            munmap(b->mem, b->size);
        else
            free(b->mem);
        free(b);
        b = next;
    }
}
