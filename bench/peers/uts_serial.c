/*
 * uts_serial.c - benchmark peer: the serial Unbalanced Tree Search count
 * (plugins/uts_tree.h), the baseline for T1/Ts, and the tool that sized
 * the project's own presets.  Must use the plugin's tree code unchanged.
 *
 *   uts_serial tree=T1    prints "uts(T1) = 4130071 nodes" and "time_s ..."
 */
#include "peer.h"
#include "uts_tree.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    const char *name = peer_str(&a, "tree", "T1");
    const uts_preset *p = uts_find_preset(name);
    if (!p)
        peer_die(&a, "unknown tree preset", name);
    uts_node root;
    uts_root(&p->params, &root);
    peer_clock span = peer_start();
    uint64_t nodes = uts_count_serial(&p->params, &root);
    peer_stop(&span);
    printf("uts(%s) = %llu nodes\n", p->name, (unsigned long long)nodes);
    peer_report(&span);
    return nodes == p->nodes ? 0 : 1;
}
