#!/usr/bin/python3
"""check_doc.py DOC.md WORKDIR - checks that a document's code and sessions are true.

In DOC.md, a fenced block right after a line `<!-- file: PATH -->` must equal
the file PATH of the repository (relative to the current folder), byte for
byte.  A fenced block right after `<!-- session -->` is a terminal session:
each line starting with "$ " is a command, the lines up to the next command
are what it prints (standard output and standard error together).  All
sessions of the document run in order, in one bash process, in WORKDIR, with
the caller's environment; every command's output must match exactly.

Exit 0 when everything matches; 1 with a report of each difference; 2 on
bad arguments or a document without any checked block.  Writes nothing
itself (the commands may write into WORKDIR).
"""
import re
import subprocess
import sys

SEP = "@@wsrun-doc-check@@"


def blocks(text, marker):
    """(line number, body) of each fenced block right after `marker`."""
    found = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.fullmatch(marker, line.strip())
        if not m:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            found.append((i + 1, m, None))
            continue
        body = []
        for j in range(i + 2, len(lines)):
            if lines[j].startswith("```"):
                break
            body.append(lines[j])
        found.append((i + 1, m, "\n".join(body) + "\n"))
    return found


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    doc, workdir = sys.argv[1], sys.argv[2]
    text = open(doc, encoding="utf-8").read()
    problems = []

    files = blocks(text, r"<!-- file: (\S+) -->")
    for line, m, body in files:
        if body is None:
            problems.append(f"{doc}:{line}: no fenced block after the file marker")
            continue
        try:
            want = open(m.group(1), encoding="utf-8").read()
        except OSError as e:
            problems.append(f"{doc}:{line}: {e}")
            continue
        if body != want:
            problems.append(f"{doc}:{line}: the listing differs from {m.group(1)}")

    commands = []  # (doc line, command, expected output)
    for line, _, body in blocks(text, r"<!-- session -->"):
        if body is None:
            problems.append(f"{doc}:{line}: no fenced block after the session marker")
            continue
        for k, row in enumerate(body.rstrip("\n").split("\n")):
            if row.startswith("$ "):
                commands.append([line + 2 + k, row[2:], []])
            elif commands:
                commands[-1][2].append(row)
            else:
                problems.append(f"{doc}:{line + 2 + k}: output before any command")
    if not files and not commands:
        print(f"{doc}: nothing to check", file=sys.stderr)
        return 2

    # One shell for all commands, so `echo $?` sees the command before it;
    # the separator is printed between commands with the status kept.
    script = ["__status=0"]
    for _, cmd, _ in commands:
        script.append(f"(exit $__status); {cmd} 2>&1; __status=$?; echo {SEP}")
    run = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = run.stdout.split(SEP + "\n")
    for i, (line, cmd, want) in enumerate(commands):
        got = outputs[i].rstrip("\n").split("\n") if i < len(outputs) and outputs[i] else []
        if got != want:
            problems.append(f"{doc}:{line}: `{cmd}` printed:\n" +
                            "".join(f"    | {g}\n" for g in got) + "  the document shows:\n" +
                            "".join(f"    | {w}\n" for w in want))

    for p in problems:
        print(p)
    if not problems:
        print(f"{doc}: {len(files)} listings and {len(commands)} commands match")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
