/*
 * uts_tbb.cpp - benchmark peer: Unbalanced Tree Search with oneTBB's
 * task_group, one task per child like the uts plugin.  Must use the
 * plugin's tree code (plugins/uts_tree.h) unchanged.
 *
 *   uts_tbb -j 2 tree=T1
 */
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <vector>

#include "peer.h"
#include "uts_tree.h"
#include "peer_tbb.h"

static uint64_t uts_tasks(const uts_params *p, const uts_node *node)
{
    int k = uts_num_children(p, node);
    if (k == 0)
        return 1;
    std::vector<uint64_t> counts((size_t)k);
    tbb::task_group g;
    for (int i = 0; i < k; i++) {
        uint64_t *slot = &counts[(size_t)i];
        g.run([=] {
            uts_node c;
            uts_child(node, (uint32_t)i, &c);
            *slot = uts_tasks(p, &c);
        });
    }
    g.wait();
    uint64_t total = 1;
    for (uint64_t c : counts)
        total += c;
    return total;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    const char *name = peer_str(&a, "tree", "T1");
    const uts_preset *p = uts_find_preset(name);
    if (!p)
        peer_die(&a, "unknown tree preset", name);
    uts_node root;
    uts_root(&p->params, &root);
    uint64_t nodes = 0;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)a.jobs);
    tbb::task_arena arena(a.jobs);
    peer_tbb_start_pool(arena, a.jobs);
    peer_clock span = peer_start();
    arena.execute([&] { nodes = uts_tasks(&p->params, &root); });
    peer_stop(&span);
    printf("uts(%s) = %llu nodes\n", p->name, (unsigned long long)nodes);
    peer_report(&span);
    return nodes == p->nodes ? 0 : 1;
}
