"""What every benchmark shares: where figures go, the scale, machine facts and statistics."""

import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
# SCALE=small gives a quick run; anything else asks for the scale the issue names.
SCALES = {"small": 0.1, "full": 1.0}


def scale_name() -> str:
    name = os.environ.get("SCALE", "").strip().lower() or "full"
    if name not in SCALES:
        raise SystemExit(f"SCALE must be one of {', '.join(SCALES)}, not {name!r}")
    return name


def machine_info() -> dict:
    """The CPU model, its cores, the memory and the OS, as this process sees them."""
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gib = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    return {
        "cpu_model": cpu_model,
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": ram_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_state() -> dict:
    """The commit measured, and the files changed on top of it (figures of a dirty tree)."""

    def git(*args: str) -> str:
        result = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.rstrip("\n")  # not strip(): porcelain lines start with a space

    changed = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "changed_in_src": changed}


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value at or above `fraction` of the values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def write_json(name: str, data: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
