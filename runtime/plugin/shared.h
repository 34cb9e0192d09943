/*
 * shared.h - internal: the memory behind ws_shared_alloc (shared.c).  The
 * session says before init whether the run is isolated (worker processes:
 * the memory is MAP_SHARED) and frees everything after finish (libwsrun:
 * the shared mappings only, wsrt_shared_end_isolated).
 * Never included by plugins.
 */
#ifndef WSRT_SHARED_H
#define WSRT_SHARED_H

/* 1: later ws_shared_alloc calls map memory shared with forked children;
 * 0: plain memory (the default).  Main thread, before init. */
void wsrt_shared_set_isolated(int isolated);

/* No more shared memory can be handed out (the worker processes' template
 * exists): later calls return NULL with errno EPERM.  Any thread. */
void wsrt_shared_seal(void);

/* Free every allocation (after finish) and return to plain, unsealed
 * mode.  Main thread, no plugin code running. */
void wsrt_shared_free_all(void);

/* libwsrun, after an isolating pool's finish: free only the shared
 * mappings (made while isolated) and return to plain, unsealed mode; the
 * plain blocks of runs on other pools, which may still be in use, stay. */
void wsrt_shared_end_isolated(void);

#endif
