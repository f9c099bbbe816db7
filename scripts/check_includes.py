#!/usr/bin/env python3
"""Which room may include which: the one place the dependency graph is
written down (ARCHITECTURE.md explains it). Fails, naming the file and
line, when a source includes from a room it may not, or when modules
include each other in a circle (a module is X.c with X.h). Run by
`make check-includes`, part of `make check`."""
import os
import re
import sys

# room -> rooms its files may include from (besides their own). Rooms
# are the folders of userspace/, plus encoders/ and bpf/ at the top.
# Lower rooms never include higher ones: the graph has no circle.
ALLOWED = {
    "encoders": [],
    "bpf": [],
    "config": ["encoders"],
    "stats": ["config", "encoders"],
    "payload": ["config", "stats", "encoders"],
    "transport": ["config", "stats", "encoders"],
    "limit": ["config", "stats"],
    "engine": ["transport", "payload", "stats", "config", "encoders", "bpf"],
    # protocol/kafka_meta.c: the bootstrap speaks TLS through transport/tls_block.c.
    "protocol": ["engine", "transport", "payload", "stats", "config", "encoders"],
    "report": ["limit", "engine", "stats", "config", "encoders"],
    # `blast analyze` writes reports of its own and reads a run's back.
    "witness": ["report", "protocol", "engine", "transport", "limit", "stats", "config", "encoders",
                "bpf"],
    "cli": ["protocol", "limit", "payload", "stats", "config", "encoders"],
    # `blast agent` and the coordinator: the control link (TLS for mqtts://
    # through transport/tls_block.c), and the reports they merge.
    "dist": ["report", "transport", "stats", "config", "encoders"],
    # userspace/main.c wires the rooms together; tests and benches may
    # reach anything they exercise.
    "main": "*",
    "tests": "*",
    "bench": "*",
}
# Headers generated at build time, and the rooms that may use them.
GENERATED = {
    ".pb-c.h": ["payload", "tests"],
    ".skel.h": ["engine", "witness", "tests"],
}
SOURCE_DIRS = ["encoders", "bpf", "userspace", "tests/unit", "tests/fuzz", "bench"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def room_of(path):
    parts = path.split("/")
    if parts[0] == "userspace":
        return "main" if len(parts) == 2 else parts[1]
    return parts[0]


def resolve(src, name):
    """The repository path an include names, or None (generated)."""
    here = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if os.path.exists(here):
        return here
    for base in ("userspace", ".", "tests"):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.exists(p):
            return p
    return None


def main():
    errors = []
    edges = {}  # module -> {module: (file, line)}
    for top in SOURCE_DIRS:
        for dirpath, _, files in os.walk(top):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                src = os.path.join(dirpath, f)
                room = room_of(src)
                allowed = ALLOWED.get(room)
                if allowed is None:
                    errors.append(f"{src}: room '{room}' is not in scripts/check_includes.py")
                    continue
                with open(src, encoding="utf-8", errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        name = m.group(1)
                        target = resolve(src, name)
                        if target is None:
                            gen = [r for suf, r in GENERATED.items() if name.endswith(suf)]
                            if not gen:
                                errors.append(f"{src}:{n}: \"{name}\" not found")
                            elif allowed != "*" and room not in gen[0]:
                                errors.append(f"{src}:{n}: room '{room}' may not include "
                                              f"generated \"{name}\"")
                            continue
                        to = room_of(target)
                        if to not in ("tests",) and allowed != "*" and to != room \
                                and to not in allowed:
                            errors.append(f"{src}:{n}: room '{room}' may not include "
                                          f"\"{name}\" (room '{to}')")
                        a, b = os.path.splitext(src)[0], os.path.splitext(target)[0]
                        if a != b:
                            edges.setdefault(a, {}).setdefault(b, (src, n))
    # Circles between modules: depth-first search for a back edge.
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, {})):
            if state.get(v) == 1:
                cyc = stack[stack.index(v):] + [v]
                errors.append("include circle: " + " -> ".join(cyc))
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    sys.setrecursionlimit(10000)
    for u in sorted(edges):
        if u not in state:
            visit(u)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_includes: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print("check_includes: every include is allowed, no circles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
