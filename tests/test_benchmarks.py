"""The benchmark still runs (a smoke run: timings are printed, never asserted)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_quick_run_agrees_across_implementations():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TINYNET_DATA", None)  # synthetic data: quick, and the same on every machine
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_train.py"),
            "--quick",
            "--no-torch",
            "--only",
            "speed",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    finals = {(row[0], row[row.index("val_loss") + 1]) for row in lines if "val_loss" in row}
    # tinynet and the plain numpy loop, float64 and float32, each reach a final loss ...
    assert {name for name, _ in finals} == {"tinynet", "numpy"}
    # ... and within one dtype the two agree to every printed digit.
    assert len({loss for _, loss in finals}) <= 2
