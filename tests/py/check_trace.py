#!/usr/bin/python3
"""check_trace.py TRACE.json COUNT|BEGIN:END [JOBS] - checks a `wsrun --trace` file.

Fails (exit 1, one line per problem) unless: the file is JSON with a
traceEvents list; every worker track has a thread_name; on each track the
spans ("X" events) never partly overlap (two spans are disjoint or one
holds the other: what trace viewers need to draw them); index-range and
parked spans never overlap at all on a track; and the index ranges of all
tracks together cover 0..COUNT-1 (or BEGIN..END-1, a --shard) exactly
once, and the file's otherData says so too.  With JOBS, there must be
exactly JOBS worker tracks.  Times are read as decimals, never floats, so
touching spans are not mistaken for overlapping ones.
"""
import json
import sys
from decimal import Decimal


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    path, span = sys.argv[1], sys.argv[2]
    first, stop = (int(x) for x in span.split(":")) if ":" in span else (0, int(span))
    jobs = int(sys.argv[3]) if len(sys.argv) == 4 else None
    with open(path, encoding="utf-8") as f:
        doc = json.load(f, parse_float=Decimal)
    problems = []
    other = doc.get("otherData", {})
    if (other.get("begin"), other.get("end")) != (first, stop):
        problems.append(f"otherData says indices {other.get('begin')}..{other.get('end')}, "
                        f"expected {first}..{stop}")
    events = doc.get("traceEvents")
    if not isinstance(events, list):
        print(f"{path}: no traceEvents list")
        return 1
    named = {e["tid"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    tracks = {}
    ranges = []
    for e in events:
        if e.get("ph") != "X":
            continue
        tid = e["tid"]
        if tid not in named:
            problems.append(f"tid {tid} has spans but no thread_name")
        t0, t1 = Decimal(e["ts"]), Decimal(e["ts"]) + Decimal(e["dur"])
        if t1 < t0:
            problems.append(f"tid {tid}: negative duration at ts {t0}")
        tracks.setdefault(tid, []).append((t0, t1, e))
        if e.get("cat") == "range":
            b, end = e["args"]["begin"], e["args"]["end"]
            if e["name"] != f"indices {b}-{end - 1}":
                problems.append(f"tid {tid}: range [{b},{end}) is named {e['name']!r}")
            ranges.append((b, end, tid))
    if jobs is not None and len(named) != jobs:
        problems.append(f"{len(named)} worker tracks, expected {jobs}")

    for tid, spans in tracks.items():
        spans.sort(key=lambda s: (s[0], -s[1]))
        open_spans = []  # a stack of end times of the spans holding this one
        for t0, t1, e in spans:
            while open_spans and open_spans[-1][0] <= t0:
                open_spans.pop()
            if open_spans and t1 > open_spans[-1][0]:
                problems.append(f"tid {tid}: {e['name']} at {t0}..{t1} partly overlaps "
                                f"{open_spans[-1][1]} ending at {open_spans[-1][0]}")
            open_spans.append((t1, e["name"]))
        flat = [s for s in spans if s[2].get("cat") in ("range", "park")]
        for (a0, a1, ea), (b0, b1, eb) in zip(flat, flat[1:]):
            if b0 < a1:
                problems.append(f"tid {tid}: {eb['name']} at {b0} starts before "
                                f"{ea['name']} ends at {a1}")

    ranges.sort()
    expect = first
    for b, end, tid in ranges:
        if b != expect:
            what = "overlaps the range before it" if b < expect else f"leaves {expect}..{b - 1} uncovered"
            problems.append(f"range [{b},{end}) on tid {tid} {what}")
        expect = max(expect, end)
    if expect != stop:
        problems.append(f"ranges end at {expect}, expected {stop}")

    for p in problems[:20]:
        print(f"{path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
