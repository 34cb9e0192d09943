# wsrun_boot.py - the Python half of the python plugin (tasks/python.c):
# loads the user's script, builds the injected `wsrun` module and turns
# exceptions into wsrun's one-line messages.  The build compiles this text
# into python.so (a C string); it is run once per process, in init, in a
# namespace of its own.  It must never run the script's __main__ block,
# never print except the tracebacks the plugin asks for, and never keep a
# reference to an exception (its frames would pin the script's objects).
import os
import shlex
import sys
import traceback
import types

# The names of python/wsrun/_common.py (mix64, outputs, words, rng,
# numpy_state, numpy_gauss, reseed_slow, whole_lines) are defined in this
# namespace: the build puts that file's text before this one.


def make_wsrun_module(seed, argv):
    mod = types.ModuleType("wsrun", "Run-time facts for a script run by wsrun's python plugin.")
    mod.seed = seed
    mod.args = list(argv[1:])
    mod.script = argv[0]

    # The package's own rng (python/wsrun/_common.py): it reads the seed
    # from sys.modules["wsrun"], which is this module.
    mod.rng = rng
    return mod


def interpreter():
    return "interpreter %s (Python %s, prefix %s)" % (
        sys.executable or "?", sys.version.split()[0], sys.prefix)


def where(exc, script):
    # The script's line: the innermost frame in the script file; a
    # SyntaxError names its own place.
    path = os.path.abspath(script)
    if isinstance(exc, SyntaxError) and exc.filename:
        same = os.path.abspath(exc.filename) == path
        return "%s:%s" % (script if same else exc.filename, exc.lineno)
    mine = last = None
    tb = exc.__traceback__
    while tb is not None:
        place = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        last = place
        if os.path.abspath(place[0]) == path:
            mine = place
        tb = tb.tb_next
    if mine:
        return "%s:%d" % (script, mine[1])  # the path as the user gave it
    return "%s:%d" % last if last else script


def describe(exc, script):
    """One line: type, text, file:line (and the interpreter for imports)."""
    name = type(exc).__qualname__
    if type(exc).__module__ not in ("builtins", "__main__"):
        name = type(exc).__module__ + "." + name
    text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    text = " ".join(str(text).split())
    line = "%s%s at %s" % (name, ": " + text if text else "", where(exc, script))
    if isinstance(exc, ImportError):
        line += "; " + interpreter()
    return line


def show(exc, script):
    # The traceback from the script's first frame: the plugin's own frames
    # and importlib's say nothing to the script's author.
    te = traceback.TracebackException.from_exception(exc)
    mine = os.path.abspath(script)
    for k, frame in enumerate(te.stack):
        if os.path.abspath(frame.filename) == mine:
            te.stack = traceback.StackSummary.from_list(te.stack[k:])
            break
    for frame in te.stack:  # the script's path as the user gave it
        if os.path.abspath(frame.filename) == mine:
            frame.filename = script
    sys.stdout.flush()
    sys.stderr.write("".join(te.format()))
    sys.stderr.flush()




def load(script, args, function, init, seed):
    """Import the script as a module of its own name; return (fn, init_fn)
    or a string saying what is missing."""
    argv = [script] + shlex.split(args or "")
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    # print() from tasks: whole lines reach the file in one write, so the
    # lines of several workers never tear, also where PYTHONUNBUFFERED
    # made the streams write every piece at once.
    sys.stdout = whole_lines(sys.stdout)
    sys.stderr = whole_lines(sys.stderr)
    sys.modules["wsrun"] = make_wsrun_module(seed, argv)
    import importlib.util

    name = os.path.splitext(os.path.basename(script))[0]
    if name in sys.modules:
        # Replacing a loaded module (types.py, random.py, wsrun.py) would
        # break whatever uses it.
        taken = getattr(sys.modules[name], "__file__", None) or "a built-in module"
        return "%s: its module name '%s' is taken by %s; rename the script" % (script, name, taken)
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None:
        return "%s: not a Python source file" % script
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    found = []
    for what, attr in (("function", function), ("init", init)):
        if attr is None:
            found.append(None)
            continue
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            return "%s: no attribute '%s' (-o %s=%s)" % (script, attr, what, attr)
        if not callable(obj):
            return "%s: '%s' is a %s, not callable (-o %s=%s)" % (
                script, attr, type(obj).__name__, what, attr)
        found.append(obj)
    sys.stdout.flush()
    sys.stderr.flush()
    return tuple(found)








def flush():
    for f in (sys.stdout, sys.stderr):
        if f is not None:
            f.flush()
