/*
 * empty_loop.c - benchmark peer: the plain C loop the empty plugin is
 * measured against: call the plugin's own run_one through a function
 * pointer for every index, serially.  Must stay one indirect call and a
 * counter per index, nothing else.
 *
 *   empty_loop so=build/plugins/empty.so count=100000000
 */
#include "empty_load.h"
#include "peer.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    empty_run_fn run_one = empty_load_run_one(peer_str(&a, "so", "build/plugins/empty.so"));
    uint64_t n = (uint64_t)peer_int(&a, "count", 100000000), failed = 0;
    peer_clock span = peer_start();
    for (uint64_t i = 0; i < n; i++)
        failed += run_one(NULL, i, NULL) != 0;
    peer_stop(&span);
    printf("empty = %llu indices\n", (unsigned long long)(n - failed));
    peer_report(&span);
    return failed != 0;
}
