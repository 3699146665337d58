"""Reproduce the DD2424 Assignment 1 report: a single-layer softmax classifier on CIFAR-10.

One ``Dense(3072, 10)`` layer with an ``L2(lam)`` penalty on its weights, trained with
``SoftmaxCrossEntropy`` by plain mini-batch gradient descent (``SGD``) on ``data_batch_1``,
validated on ``data_batch_2`` and tested on ``test_batch``; inputs standardised with the
training set's per-dimension mean and std; W and b drawn from N(0, 0.01^2) with seed 12345;
batches in stored order. For each of the report's four settings it writes the learning
curves (loss and cost per epoch, training and validation) and the class templates (each
column of W as a 32x32 image), then a table of accuracies beside the report's numbers.

Usage:
    python examples/cifar10_single_layer.py                         # all four configs
    python examples/cifar10_single_layer.py --config 2 3 --data ~/data --out results/
    python examples/cifar10_single_layer.py --lam 0.05 --eta 0.01 --epochs 20 --batch-size 50
    python examples/cifar10_single_layer.py --seeds 5                # spread over 5 seeds
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from tinynet import L2, SGD, Dense, Normal, ProgressBar, Sequential, SoftmaxCrossEntropy, Trainer
from tinynet.datasets import DownloadError, Standardizer, load_cifar10
from tinynet.plotting import plot_class_templates, plot_learning_curves

# The report's four settings and the accuracies it reports (train, validation, test).
CONFIGS = {
    1: {"lam": 0.0, "eta": 0.1, "n_epochs": 40, "n_batch": 100},
    2: {"lam": 0.0, "eta": 0.001, "n_epochs": 40, "n_batch": 100},
    3: {"lam": 0.1, "eta": 0.001, "n_epochs": 40, "n_batch": 100},
    4: {"lam": 1.0, "eta": 0.001, "n_epochs": 40, "n_batch": 100},
}
REPORTED = {
    1: {"train_accuracy": 0.4187, "val_accuracy": 0.2886, "test_accuracy": 0.2811},
    2: {"train_accuracy": 0.4547, "val_accuracy": 0.3900, "test_accuracy": 0.3860},
    3: {"train_accuracy": 0.4464, "val_accuracy": 0.3917, "test_accuracy": 0.3881},
    4: {"train_accuracy": 0.3985, "val_accuracy": 0.3759, "test_accuracy": 0.3646},
}
SPLITS = ("train_accuracy", "val_accuracy", "test_accuracy")
HYPER_PARAMETERS = ("lam", "eta", "n_epochs", "n_batch")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Reproduce the DD2424 Assignment 1 report with tinynet: a single Dense "
        "layer, softmax cross-entropy and L2, trained by mini-batch gradient descent on CIFAR-10.",
    )
    parser.add_argument(
        "--data",
        metavar="ROOT",
        default=None,
        help="folder holding cifar-10-batches-py/ (or that folder itself); "
        "default $TINYNET_DATA, else ~/.cache/tinynet",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default="results",
        help="where figures and results go (default: results/)",
    )
    parser.add_argument(
        "--config",
        type=int,
        nargs="+",
        choices=sorted(CONFIGS),
        metavar="N",
        help="which of the report's configs 1-4 to run (default: all)",
    )
    custom = parser.add_argument_group("a custom setting instead of the report's (all four needed)")
    custom.add_argument("--lam", type=float, help="L2 strength lambda")
    custom.add_argument("--eta", type=float, help="learning rate")
    custom.add_argument("--epochs", type=int, help="number of epochs")
    custom.add_argument("--batch-size", type=int, help="mini-batch size n_batch")
    parser.add_argument("--seed", type=int, default=12345, help="random seed (default 12345)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="N",
        help="repeat each config with seeds seed, seed+1, ..., seed+N-1 and "
        "report mean and standard deviation (default 1)",
    )
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading CIFAR-10 when it is missing",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--float32", action="store_true", help="train in float32 instead of float64"
    )
    args = parser.parse_args(argv)

    custom_values = [args.lam, args.eta, args.epochs, args.batch_size]
    if any(v is not None for v in custom_values):
        if any(v is None for v in custom_values):
            parser.error("a custom setting needs all of --lam, --eta, --epochs and --batch-size")
        if args.config:
            parser.error("give either --config or a custom setting, not both")
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, received {args.seeds}")
    return args


def settings(args) -> list[tuple[int | str, dict]]:
    """The (config id, hyper-parameters) pairs this invocation runs."""
    if args.lam is not None:
        return [
            (
                "custom",
                {
                    "lam": args.lam,
                    "eta": args.eta,
                    "n_epochs": args.epochs,
                    "n_batch": args.batch_size,
                },
            )
        ]
    return [(i, CONFIGS[i]) for i in (args.config or sorted(CONFIGS))]


def load_data(args):
    """CIFAR-10 in the assignment's split, standardised with the training set's statistics."""
    data = load_cifar10(args.data, download=not args.no_download, progress=not args.quiet)
    scaler = Standardizer(dtype=np.float32 if args.float32 else np.float64)
    X_train = scaler.fit_transform(data.X_train)
    return {
        "train": (X_train, data.y_train),
        "val": (scaler.transform(data.X_val), data.y_val),
        "test": (scaler.transform(data.X_test), data.y_test),
        "label_names": data.label_names,
    }


def title_of(hp: dict) -> str:
    return (
        f"lambda={hp['lam']:g}, eta={hp['eta']:g}, "
        f"n_batch={hp['n_batch']}, n_epochs={hp['n_epochs']}"
    )


def train_one(data, config, hp: dict, seed: int, args, out: Path | None) -> dict:
    """Train one setting with one seed; returns its row of results.json."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    dense = Dense(
        3072,
        10,
        regularizer=L2(hp["lam"]),
        weight_init=Normal(0, 0.01),
        bias_init=Normal(0, 0.01),
        rng=rng,
        dtype=np.float32 if args.float32 else np.float64,
    )
    model = Sequential([dense])
    bar = ProgressBar(disable=args.quiet, desc=f"config {config} (seed {seed})")
    trainer = Trainer(
        model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=hp["eta"]), callbacks=[bar]
    )
    history = trainer.fit(
        *data["train"], epochs=hp["n_epochs"], batch_size=hp["n_batch"], validation_data=data["val"]
    )
    test = trainer.evaluate(*data["test"])
    row = {
        "config": config,
        **hp,
        "seed": seed,
        "train_accuracy": history.history["accuracy"][-1],
        "val_accuracy": history.history["val_accuracy"][-1],
        "test_accuracy": test["accuracy"],
        "final_train_cost": history.history["cost"][-1],
        "final_val_cost": history.history["val_cost"][-1],
        "seconds": round(time.perf_counter() - start, 3),
    }
    if out is not None:
        plot_learning_curves(history, out / f"config{config}_curves.png", title=title_of(hp))
        plot_class_templates(
            dense.W.data,
            out / f"config{config}_templates.png",
            class_names=data["label_names"],
            title=f"class templates, {title_of(hp)}",
        )
    return row


def summarise(runs: list[dict]) -> list[dict]:
    """One row per config: mean and standard deviation of each accuracy over its seeds."""
    rows = []
    for config in dict.fromkeys(r["config"] for r in runs):
        group = [r for r in runs if r["config"] == config]
        row = {
            "config": config,
            **{key: group[0][key] for key in HYPER_PARAMETERS},
            "n_seeds": len(group),
        }
        for split in SPLITS:
            values = np.array([r[split] for r in group])
            row[split] = float(values.mean())
            row[split + "_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    return rows


def table(summary: list[dict]) -> str:
    """A Markdown table of each accuracy beside the report's number and the difference."""
    multi = any(r["n_seeds"] > 1 for r in summary)
    head = ["config", "lam", "eta", "n_epochs", "n_batch"]
    for split in ("train", "val", "test"):
        head += [split, "report", "diff"] + (["inside 2 std"] if multi else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary:
        config = row["config"]
        cells = [str(config)] + [f"{row[key]:g}" for key in HYPER_PARAMETERS]
        for split in SPLITS:
            ours, std = row[split], row[split + "_std"]
            cells.append(f"{ours:.4f}" + (f" ± {std:.4f}" if multi else ""))
            reported = REPORTED.get(config, {}).get(split)
            if reported is None:
                cells += ["", ""] + ([""] if multi else [])
                continue
            cells += [f"{reported:.4f}", f"{ours - reported:+.4f}"]
            if multi:
                cells.append("yes" if abs(ours - reported) <= 2 * std else "no")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        data = load_data(args)
    except (FileNotFoundError, DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    runs = []
    for config, hp in settings(args):
        for k in range(args.seeds):
            # Figures show the first seed's run; the others only add to the spread.
            runs.append(train_one(data, config, hp, args.seed + k, args, out if k == 0 else None))
    summary = summarise(runs)

    (out / "results.json").write_text(json.dumps({"runs": runs, "summary": summary}, indent=2))
    text = table(summary)
    note = (
        "Accuracies after the last epoch; 'report' is the DD2424 Assignment 1 report, "
        "'diff' ours minus the report's."
    )
    if args.seeds > 1:
        note += (
            f" Each row is the mean ± standard deviation over {args.seeds} seeds; "
            "'inside 2 std' says whether the report's number lies within two standard "
            "deviations of our mean."
        )
    (out / "results.md").write_text(f"# Single-layer network on CIFAR-10\n\n{note}\n\n{text}\n")
    print(text)
    print(f"\nfigures, results.json and results.md in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
