"""Validate Data Packages with the official Frictionless validator (frictionless-py, which
implements Data Package v2): the descriptor against the profile and every resource's data
against its Table Schema (types, constraints, primary and foreign keys).

Usage: python validate_datapackage.py DESCRIPTOR [DESCRIPTOR ...]
Each DESCRIPTOR is a path (seed-data/datapackage.json) or a URL (a served
/datapackage.json, whose resources are the served downloads). Prints every error and exits
1 when any package is invalid.
"""
import sys

import frictionless


def main(descriptors):
    failed = False
    for descriptor in descriptors:
        report = frictionless.validate(descriptor)
        tasks = report.tasks
        rows = sum(task.stats.get("rows") or 0 for task in tasks)
        if report.valid:
            print(f"{descriptor}: valid ({len(tasks)} resources, {rows} rows)")
            continue
        failed = True
        print(f"{descriptor}: INVALID")
        for error in report.errors:
            print(f"  package: {error.type}: {error.message}")
        for task in tasks:
            for error in task.errors[:20]:
                print(f"  {task.name}: {error.type}: {error.message}")
            if len(task.errors) > 20:
                print(f"  {task.name}: ... {len(task.errors) - 20} more errors")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
