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

The assignment's bonus options change the training of every config they are given with:
``--shuffle`` (a new order every epoch), ``--lr-decay 0.1`` (eta times 0.1 every
``--decay-every`` 10 epochs), ``--all-batches`` (all five training batches, the last 1,000
images held out for validation), ``--loss hinge`` (the multi-class SVM loss instead of
softmax cross-entropy), ``--early-stopping 5`` (stop once the validation loss has not
improved for 5 epochs and keep the weights of its best epoch, whose accuracies are then
reported), and ``--search`` (a grid over lambda and eta, judged on validation accuracy; the
best setting is trained once more, with figures, and reported last).
    python examples/cifar10_single_layer.py --config 3 --shuffle --lr-decay 0.1 --all-batches
    python examples/cifar10_single_layer.py --search --epochs 20 --batch-size 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from tinynet import (
    L2,
    SGD,
    Dense,
    EarlyStopping,
    MultiClassHinge,
    Normal,
    ProgressBar,
    Sequential,
    SoftmaxCrossEntropy,
    StepDecay,
    Trainer,
)
from tinynet.datasets import DownloadError, load_cifar10
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
# --search: every pair of these, trained with --epochs/--batch-size (default 40 and 100).
SEARCH_LAMS = (0.0, 0.001, 0.01, 0.1, 1.0)
SEARCH_ETAS = (0.001, 0.005, 0.01, 0.05)
N_VALIDATION_ALL_BATCHES = 1000


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
    add_bonus_arguments(parser)
    args = parser.parse_args(argv)
    check_bonus_arguments(parser, args)

    custom_values = [args.lam, args.eta, args.epochs, args.batch_size]
    if any(v is not None for v in custom_values) and not args.search:
        if any(v is None for v in custom_values):
            parser.error("a custom setting needs all of --lam, --eta, --epochs and --batch-size")
        if args.config:
            parser.error("give either --config or a custom setting, not both")
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, received {args.seeds}")
    for flag, value, ok, expected in (
        ("--lam", args.lam, lambda v: v >= 0, ">= 0"),
        ("--eta", args.eta, lambda v: 0 < v < float("inf"), "> 0"),
        ("--epochs", args.epochs, lambda v: v >= 1, "at least 1"),
        ("--batch-size", args.batch_size, lambda v: v >= 1, "at least 1"),
    ):
        if value is not None and not ok(value):
            parser.error(f"{flag} must be {expected}, received {value}")
    return args


def add_bonus_arguments(parser: argparse.ArgumentParser) -> None:
    """The assignment's bonus options (see the module docstring)."""
    bonus = parser.add_argument_group("the assignment's bonus options")
    bonus.add_argument("--shuffle", action="store_true", help="reshuffle the data every epoch")
    bonus.add_argument(
        "--lr-decay",
        type=float,
        metavar="GAMMA",
        help="multiply eta by GAMMA every --decay-every epochs (e.g. 0.1)",
    )
    bonus.add_argument(
        "--decay-every", type=int, default=10, metavar="N", help="epochs between decays (10)"
    )
    bonus.add_argument(
        "--all-batches",
        action="store_true",
        help=f"train on all five batches but the last {N_VALIDATION_ALL_BATCHES} images, "
        "which validate",
    )
    bonus.add_argument(
        "--loss",
        choices=("softmax", "hinge"),
        default="softmax",
        help="softmax cross-entropy (default) or the multi-class SVM (hinge) loss",
    )
    bonus.add_argument(
        "--early-stopping",
        type=int,
        nargs="?",
        const=5,
        metavar="PATIENCE",
        help="stop when the validation loss has not improved for PATIENCE epochs (5) and "
        "keep the best epoch's weights",
    )
    bonus.add_argument(
        "--search",
        action="store_true",
        help="grid search over lambda and eta on validation accuracy, then train the best",
    )


def check_bonus_arguments(parser: argparse.ArgumentParser, args) -> None:
    if args.lr_decay is not None and not args.lr_decay > 0:
        parser.error(f"--lr-decay must be > 0, received {args.lr_decay}")
    if args.early_stopping is not None and args.early_stopping < 1:
        parser.error(f"--early-stopping must be at least 1, received {args.early_stopping}")
    if args.decay_every < 1:
        parser.error(f"--decay-every must be at least 1, received {args.decay_every}")
    if args.search and (args.config or args.lam is not None or args.eta is not None):
        parser.error("--search chooses lambda and eta itself: give no --config, --lam or --eta")


def bonus_label(args) -> str:
    """The bonus options in use, for config names and file names, e.g. '_shuffle_hinge'."""
    parts = ["shuffle"] if args.shuffle else []
    if args.lr_decay is not None:
        parts.append(f"decay{args.lr_decay:g}every{args.decay_every}")
    parts += ["allbatches"] if args.all_batches else []
    parts += ["hinge"] if args.loss == "hinge" else []
    parts += [f"earlystop{args.early_stopping}"] if args.early_stopping is not None else []
    return "".join(f"_{p}" for p in parts)


def bonus_callbacks(args) -> list:
    callbacks = [StepDecay(args.decay_every, args.lr_decay)] if args.lr_decay is not None else []
    if args.early_stopping is not None:
        callbacks.append(
            EarlyStopping("val_loss", patience=args.early_stopping, restore_best_weights=True)
        )
    return callbacks


def early_stopping_results(trainer, data) -> dict:
    """The accuracies and costs of the restored best epoch (not of the last one trained)."""
    (stopper,) = [cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)]
    train, val = trainer.evaluate(*data.train), trainer.evaluate(*data.val)
    return {
        "train_accuracy": train["accuracy"],
        "val_accuracy": val["accuracy"],
        "final_train_cost": train["cost"],
        "final_val_cost": val["cost"],
        "best_epoch": stopper.best_epoch,
        "epochs_run": len(trainer.history.epoch),
    }


def search_settings(args) -> list[tuple[str, dict]]:
    """Every (lambda, eta) pair of the grid, with --epochs and --batch-size (40 and 100)."""
    epochs = 40 if args.epochs is None else args.epochs
    n_batch = 100 if args.batch_size is None else args.batch_size
    return [
        (
            f"search_lam{lam:g}_eta{eta:g}",
            {"lam": lam, "eta": eta, "n_epochs": epochs, "n_batch": n_batch},
        )
        for lam in SEARCH_LAMS
        for eta in SEARCH_ETAS
    ]


def settings(args) -> list[tuple[int | str, dict]]:
    """The (config id, hyper-parameters) pairs this invocation runs."""
    if args.search:
        return search_settings(args)
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
    split = (
        {"all_batches": True, "n_validation": N_VALIDATION_ALL_BATCHES} if args.all_batches else {}
    )
    data = load_cifar10(args.data, download=not args.no_download, progress=not args.quiet, **split)
    return data.standardized(np.float32 if args.float32 else np.float64)


LOSS_NAMES = {"softmax": "cross-entropy", "hinge": "multi-class hinge"}


def title_of(hp: dict, args) -> str:
    """The hyper-parameters and any bonus options, e.g. for a figure's title."""
    title = (
        f"lambda={hp['lam']:g}, eta={hp['eta']:g}, "
        f"n_batch={hp['n_batch']}, n_epochs={hp['n_epochs']}"
    )
    extras = [f"{LOSS_NAMES[args.loss]} loss"] if args.loss != "softmax" else []
    extras += ["shuffled"] if args.shuffle else []
    if args.lr_decay is not None:
        extras.append(f"eta x{args.lr_decay:g} every {args.decay_every} epochs")
    extras += ["all batches"] if args.all_batches else []
    if args.early_stopping is not None:
        extras.append(f"early stopping (patience {args.early_stopping})")
    return title + "".join(f", {e}" for e in extras)


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
    loss = MultiClassHinge() if args.loss == "hinge" else SoftmaxCrossEntropy()
    callbacks = [bar, *bonus_callbacks(args)]
    trainer = Trainer(model, loss, SGD(model.parameters(), lr=hp["eta"]), callbacks=callbacks)
    history = trainer.fit(
        *data.train,
        epochs=hp["n_epochs"],
        batch_size=hp["n_batch"],
        validation_data=data.val,
        shuffle=args.shuffle,
        rng=seed,
    )
    test = trainer.evaluate(*data.test)
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
        "n_train": len(data.train[1]),
        "loss": args.loss,
        "shuffle": args.shuffle,
        "lr_decay": args.lr_decay,
        "decay_every": args.decay_every if args.lr_decay is not None else None,
    }
    if args.early_stopping is not None:
        row.update(early_stopping_results(trainer, data))
    if out is not None:
        curves = {**history.history, "lr": history.batch_lr} if args.lr_decay else history
        plot_learning_curves(
            curves,
            out / f"config{config}_curves.png",
            title=title_of(hp, args),
            loss_name=LOSS_NAMES[args.loss],
        )
        plot_class_templates(
            dense.W.data,
            out / f"config{config}_templates.png",
            class_names=data.label_names,
            title=f"class templates, {title_of(hp, args)}",
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
        config = f"{config}{bonus_label(args)}" if bonus_label(args) else config
        for k in range(args.seeds):
            # Figures show the first seed's run; the others only add to the spread.
            figures = out if k == 0 and not args.search else None
            runs.append(train_one(data, config, hp, args.seed + k, args, figures))
    if args.search:
        best = max(runs, key=lambda r: r["val_accuracy"])
        hp = {key: best[key] for key in HYPER_PARAMETERS}
        config = f"best{bonus_label(args)}"
        runs += [
            train_one(data, config, hp, args.seed + k, args, out if k == 0 else None)
            for k in range(args.seeds)
        ]
    summary = summarise(runs)

    (out / "results.json").write_text(json.dumps({"runs": runs, "summary": summary}, indent=2))
    text = table(summary)
    note = (
        "Accuracies after the last epoch; 'report' is the DD2424 Assignment 1 report, "
        "'diff' ours minus the report's."
    )
    if args.early_stopping is not None:
        note += " With early stopping, the accuracies are those of the best epoch's weights."
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
