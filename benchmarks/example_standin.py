"""Stand-in for the single-layer example in the memory benchmark until the example exists.

Loads the training, validation and test sets as the example does (uint8, converted once to
float64 and standardised in place), trains config 2 with tinynet's Trainer and evaluates the
test set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_train as bt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    Xu, y, Xvu, yv = bt.load_raw(10000, "data_batch_2")
    folder = bt.data_folder()
    Xtu, yt = bt._load_batch(folder / "test_batch") if folder else (Xvu.copy(), yv.copy())
    stats = bt.statistics_of(Xu)
    X, Xv, Xt = (bt.standardise(raw, *stats, np.float64) for raw in (Xu, Xvu, Xtu))
    del Xu, Xvu, Xtu
    trainer = bt.build_tinynet(np.float64, bt.CONFIG["lr"], bt.CONFIG["lam"])
    trainer.fit(
        X, y, epochs=args.epochs, batch_size=bt.CONFIG["batch_size"], validation_data=(Xv, yv)
    )
    print(f"test accuracy {trainer.evaluate(Xt, yt)['accuracy']:.4f}")


if __name__ == "__main__":
    main()
