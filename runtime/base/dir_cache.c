/*
 * dir_cache.c - the end of dir_cache.h's cache: closing its folder and
 * freeing its text.  Must never close anything but the descriptor the
 * cache opened itself, and never leave fd set to a closed number.
 */
#include <stdlib.h>
#include <unistd.h>

#include "dir_cache.h"

void wsrt_dir_cache_drop(wsrt_dir_cache *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->path);
    c->path = NULL;
    c->len = 0;
    c->plain_close = 0;
}
