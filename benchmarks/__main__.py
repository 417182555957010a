"""`python -m benchmarks [NAME...]`: run every benchmark module, or the named ones.

A module is a benchmark when it is listed in MODULES or named `bench_*.py`; it exposes `run()`,
prints its figures, and returns False (or raises) when it misses its budget.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

MODULES = ["plan_large_repo"]


def discover() -> list[str]:
    found = sorted(path.stem for path in Path(__file__).parent.glob("bench_*.py"))
    return MODULES + [name for name in found if name not in MODULES]


def main(argv: list[str]) -> int:
    names = argv or discover()
    failed: list[str] = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            result = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:
            traceback.print_exc()
            result = False
        if result is False:
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - started:.1f} s total", flush=True)
    if failed:
        print(f"over budget or failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
