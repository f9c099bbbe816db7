#!/usr/bin/python3
"""Validates blast's JSON reports against docs/report.schema.json.

  check_report.py FILE...       every run report (blast --report) among the
                                files against the schema; a `blast analyze
                                --report` file's "wire" against the schema's
                                wire object. Other JSON (configs, hand-made
                                files, what does not parse) is left alone.
  check_report.py --schema      the schema itself: valid, and every property
                                it names has a description.

Exit 0 when good; 1 with one line per problem. Needs Debian's
python3-jsonschema (scripts/install-deps.sh), so run it with /usr/bin/python3:
the python3 first on PATH may not see Debian's packages.
"""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("check_report.py: no jsonschema module (apt-get install python3-jsonschema, "
          "or scripts/install-deps.sh)")
    sys.exit(1)

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                      "report.schema.json")


def load_schema():
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def undescribed(node, path="#"):
    """Every property, anywhere in the schema, that has no description."""
    out = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if not isinstance(sub, dict) or not sub.get("description"):
                out.append(f"{path}/properties/{name}")
        for k, v in node.items():
            out += undescribed(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += undescribed(v, f"{path}/{i}")
    return out


def kind(doc):
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("blast "):
        return None
    if "accounting_ok" in doc:
        return "run"
    if "flows" in doc and "wire" in doc:
        return "analyze"
    return None


def main(argv):
    schema = load_schema()
    problems = []
    if argv == ["--schema"]:
        problems = [f"{p}: no description" for p in undescribed(schema)]
        for p in problems:
            print(p)
        return 1 if problems else 0
    run = jsonschema.Draft202012Validator(schema)
    wire = jsonschema.Draft202012Validator(dict(schema["$defs"]["wire"], **{"$defs": schema["$defs"]}))
    checked = 0
    for path in argv:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        k = kind(doc)
        if not k:
            continue
        checked += 1
        target, v = (doc, run) if k == "run" else (doc["wire"], wire)
        for e in sorted(v.iter_errors(target), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            problems.append(f"{path}: {where}: {e.message}")
    for p in problems:
        print(p)
    if not problems and checked:
        print(f"{checked} report(s) valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
