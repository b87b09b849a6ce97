"""Run the benchmarks: every bench/<name>.py that defines a top-level main().

    .venv/bin/python bench/run.py              all of them (what `make bench` does)
    .venv/bin/python bench/run.py --only lists one (`make bench ONLY=lists`)
    SCALE=small …                              a quick run on less data

Each benchmark runs in its own process, prints its figures and writes them to
var/bench/<name>.json. This exits non-zero when one of them fails.
"""

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def discover() -> dict[str, Path]:
    """Map each benchmark's name to its file; helpers start with an underscore."""
    found = {}
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.stem.startswith("_") or path.stem == "run":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found[path.stem] = path
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this one")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()

    benchmarks = discover()
    if args.list:
        print("\n".join(benchmarks))
        return 0
    selected = args.only or list(benchmarks)
    unknown = [name for name in selected if name not in benchmarks]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are: {', '.join(benchmarks)}")

    failed = []
    for name in selected:
        print(f"== bench {name}", flush=True)
        started = time.monotonic()
        # Our own file, run with our own interpreter.
        result = subprocess.run([sys.executable, str(benchmarks[name])], check=False)  # noqa: S603
        took = time.monotonic() - started
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"== bench {name}: {status} in {took:.0f} s", flush=True)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
