/*
 * wsrun_module.c - the extension's module object, wsrun._wsrun: the table
 * of its functions, each defined in a file of its own (wsrun_ext.h).  The
 * package python/wsrun/__init__.py wraps them with the public signatures
 * and docstrings.  Must never do work at import beyond making the module.
 */
#include "wsrun_ext.h"

static PyMethodDef wspy_methods[] = {
    {"map", wspy_map, METH_VARARGS,
     "map(func, items, count, jobs, seed, keep_going, retries, timeout_ns, progress, module, "
     "rng_namespace, failure, dumps) -> (results, failures): the engine of wsrun.map"},
    {"run", wspy_run, METH_VARARGS,
     "run(name_or_path, count, jobs, seed, stack_bytes, quiet, options, main_thread) -> "
     "(status, message, "
     "stats, plugin_name): the engine of wsrun.run, wsrun.fill and wsrun.read"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wspy_module = {
    PyModuleDef_HEAD_INIT, "wsrun._wsrun",
    "The C half of the wsrun package (python/wsrun/__init__.py); not for direct use.", -1,
    wspy_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__wsrun(void);

PyMODINIT_FUNC PyInit__wsrun(void)
{
    return PyModule_Create(&wspy_module);
}
