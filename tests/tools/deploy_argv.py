#!/usr/bin/python3
"""The blast command lines of deploy/k8s/*.yaml, for tests/e2e/test_deploy.sh.

Loads every manifest (a YAML error, or a document without apiVersion, kind
and metadata.name, is one line and exit status 1), then prints one line per
container that runs blast (image blast:*, no command of its own):
MANIFEST/CONTAINER, then its args, tab-separated, with $(VAR) expanded the
way Kubernetes does: from --set VAR=VALUE, else the container's env value.
--replace OLD=NEW replaces a string in every arg (cluster names by loopback
ones). --conf NAME prints the ConfigMap key NAME instead.
"""
import argparse
import pathlib
import re
import sys

import yaml


def load(paths):
    docs = []
    for p in paths:
        try:
            loaded = [d for d in yaml.safe_load_all(p.read_text()) if d is not None]
        except yaml.YAMLError as e:
            sys.exit(f"{p}: not YAML: {e}")
        for d in loaded:
            if not isinstance(d, dict) or not all(k in d for k in ("apiVersion", "kind")) \
                    or "name" not in (d.get("metadata") or {}):
                sys.exit(f"{p}: a document without apiVersion, kind and metadata.name")
            docs.append((p, d))
    return docs


def pod_spec(doc):
    spec = doc.get("spec") or {}
    return (spec.get("template") or {}).get("spec") if "template" in spec else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifests", nargs="+", type=pathlib.Path)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--replace", action="append", default=[])
    ap.add_argument("--conf")
    a = ap.parse_args()
    sets = dict(s.split("=", 1) for s in a.set)
    reps = [r.split("=", 1) for r in a.replace]
    docs = load(a.manifests)
    if a.conf:
        for _, d in docs:
            if d["kind"] == "ConfigMap" and a.conf in (d.get("data") or {}):
                print(d["data"][a.conf], end="")
                return
        sys.exit(f"no ConfigMap has {a.conf}")
    for p, d in docs:
        spec = pod_spec(d)
        for c in (spec or {}).get("containers", []):
            if not str(c.get("image", "")).startswith("blast:") or "command" in c:
                continue
            env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
            env.update(sets)

            def expand(m):
                if m.group(1) not in env:
                    sys.exit(f"{p}: $({m.group(1)}) is neither set nor in the env")
                return env[m.group(1)]
            args = []
            for arg in c.get("args", []):
                arg = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", expand, str(arg))
                for old, new in reps:
                    arg = arg.replace(old, new)
                args.append(arg)
            print("\t".join([f"{p.name}/{c['name']}"] + args))


if __name__ == "__main__":
    main()
