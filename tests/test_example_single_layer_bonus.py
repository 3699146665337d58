"""The single-layer example's bonus options, each against an independent numpy loop."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from test_cifar10 import write_fake_cifar
from test_example_single_layer import PNG, load_example

from tinynet.datasets import Standardizer, load_cifar10


def reference_run(root, lam, eta, n_epochs, n_batch, seed, options):
    """The assignment's procedure with the bonus options, in plain numpy, sharing no tinynet
    training code: stored or reshuffled order, eta decayed per epoch, softmax or hinge loss,
    and early stopping on the validation loss with the best epoch's weights kept."""
    all_batches = "--all-batches" in options
    split = {"all_batches": True, "n_validation": 1000} if all_batches else {}
    data = load_cifar10(root, download=False, **split)
    scaler = Standardizer().fit(data.X_train)
    X, Xv, Xt = (scaler.transform(a) for a in (data.X_train, data.X_val, data.X_test))
    y, yv, yt = data.y_train, data.y_val, data.y_test
    hinge = "hinge" in options
    gamma = float(options[options.index("--lr-decay") + 1]) if "--lr-decay" in options else 1.0
    every = int(options[options.index("--decay-every") + 1]) if "--decay-every" in options else 10
    patience = (
        int(options[options.index("--early-stopping") + 1])
        if "--early-stopping" in options
        else None
    )

    rng = np.random.default_rng(seed)
    W, b = rng.normal(0, 0.01, (X.shape[1], 10)), rng.normal(0, 0.01, 10)
    order_rng = np.random.default_rng(seed)

    def loss_and_grad(s, labels):
        rows = np.arange(len(labels))
        if hinge:
            m = s - s[rows, labels][:, None] + 1
            m[rows, labels] = 0
            g = (m > 0).astype(float)
            g[rows, labels] = -g.sum(axis=1)
            return np.maximum(m, 0).sum() / len(labels), g / len(labels)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, labels]).mean()
        p[rows, labels] -= 1
        return loss, p / len(labels)

    best_val_loss, best, wait, epochs_run = np.inf, None, 0, 0
    for epoch in range(n_epochs):
        rate = eta * gamma ** (epoch // every)
        order = order_rng.permutation(len(X)) if "--shuffle" in options else np.arange(len(X))
        for start in range(0, len(X), n_batch):
            idx = order[start : start + n_batch]
            _, g = loss_and_grad(X[idx] @ W + b, y[idx])
            W, b = W - rate * (X[idx].T @ g + 2 * lam * W), b - rate * g.sum(axis=0)
        epochs_run += 1
        if patience is not None:
            val_loss = loss_and_grad(Xv @ W + b, yv)[0]
            if val_loss < best_val_loss:
                best_val_loss, best, wait = val_loss, (W.copy(), b.copy(), epoch), 0
            else:
                wait += 1
                if wait >= patience:
                    break
    if patience is not None:
        W, b, best_epoch = best

    def measure(data, labels):
        s = data @ W + b
        return np.mean(s.argmax(axis=1) == labels), loss_and_grad(s, labels)[0] + lam * np.sum(W**2)

    (train_acc, train_cost), (val_acc, val_cost), (test_acc, _) = (
        measure(X, y),
        measure(Xv, yv),
        measure(Xt, yt),
    )
    extra = {"best_epoch": best_epoch, "epochs_run": epochs_run} if patience is not None else {}
    return {
        **extra,
        "train_accuracy": train_acc,
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "final_train_cost": train_cost,
        "final_val_cost": val_cost,
        "n_train": len(y),
    }


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_fake_cifar(root / "cifar-10-batches-py", sizes=(300, 300, 300, 300, 300, 90))
    return root


def run(root, out, extra):
    argv = ["--data", str(root), "--out", str(out), "--quiet", "--no-download", *extra]
    assert load_example().main(argv) == 0
    return json.loads((out / "results.json").read_text())["runs"]


CUSTOM = ["--lam", "0.1", "--eta", "0.01", "--epochs", "3", "--batch-size", "50", "--seed", "7"]


@pytest.mark.parametrize(
    "options, label",
    [
        (["--shuffle"], "custom_shuffle"),
        (["--lr-decay", "0.1", "--decay-every", "1"], "custom_decay0.1every1"),
        (["--loss", "hinge"], "custom_hinge"),
        (["--all-batches"], "custom_allbatches"),
        (
            [
                "--shuffle",
                "--lr-decay",
                "0.5",
                "--decay-every",
                "2",
                "--all-batches",
                "--loss",
                "hinge",
            ],
            "custom_shuffle_decay0.5every2_allbatches_hinge",
        ),
    ],
)
def test_each_bonus_option_matches_an_independent_loop(fake_root, tmp_path, options, label):
    (row,) = run(fake_root, tmp_path / "out", CUSTOM + options)
    assert row["config"] == label
    expected = reference_run(fake_root, 0.1, 0.01, 3, 50, 7, options)
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-10), key
    assert row["n_train"] == (500 if "--all-batches" in options else 300)
    for kind in ("curves", "templates"):
        assert (tmp_path / "out" / f"config{label}_{kind}.png").read_bytes().startswith(PNG)


def test_search_trains_every_grid_point_then_the_best_last(fake_root, tmp_path):
    example = load_example()
    example.SEARCH_LAMS, example.SEARCH_ETAS = (0.0, 0.1), (0.001, 0.01)
    out = tmp_path / "out"
    argv = ["--data", str(fake_root), "--out", str(out), "--quiet", "--no-download"]
    assert example.main(argv + ["--search", "--epochs", "2", "--batch-size", "50"]) == 0
    runs = json.loads((out / "results.json").read_text())["runs"]
    grid, best = runs[:-1], runs[-1]
    assert [(r["lam"], r["eta"]) for r in grid] == [
        (0.0, 0.001),
        (0.0, 0.01),
        (0.1, 0.001),
        (0.1, 0.01),
    ]
    assert all((r["n_epochs"], r["n_batch"]) == (2, 50) for r in runs)
    winner = max(grid, key=lambda r: r["val_accuracy"])
    assert best["config"] == "best" and (best["lam"], best["eta"]) == (winner["lam"], winner["eta"])
    assert best["val_accuracy"] == winner["val_accuracy"]  # the same training, repeated
    assert sorted(p.name for p in out.glob("*.png")) == [
        "configbest_curves.png",
        "configbest_templates.png",
    ]


def test_early_stopping_keeps_the_best_epoch_like_an_independent_loop(fake_root, tmp_path):
    options = ["--early-stopping", "2"]
    argv = ["--lam", "0", "--eta", "0.05", "--epochs", "12", "--batch-size", "20", "--seed", "3"]
    (row,) = run(fake_root, tmp_path / "out", argv + options)
    assert row["config"] == "custom_earlystop2"
    expected = reference_run(fake_root, 0.0, 0.05, 12, 20, 3, options)
    assert expected["epochs_run"] < 12  # the fake data overfits at once: it does stop early
    assert expected["best_epoch"] == expected["epochs_run"] - 3
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-10), key
    assert "best epoch's weights" in (tmp_path / "out" / "results.md").read_text()


@pytest.mark.parametrize(
    "argv",
    [
        ["--early-stopping", "0"],
        ["--lr-decay", "0"],
        ["--decay-every", "0"],
        ["--loss", "svm"],
        ["--search", "--config", "1"],
        ["--search", "--lam", "0.1"],
    ],
)
def test_bad_bonus_arguments_exit_with_a_usage_error(argv):
    with pytest.raises(SystemExit) as info:
        load_example().parse_args(argv)
    assert info.value.code == 2


def test_search_accepts_epochs_and_batch_size_alone():
    args = load_example().parse_args(["--search", "--epochs", "5", "--batch-size", "20"])
    assert (args.search, args.epochs, args.batch_size) == (True, 5, 20)


def test_figure_titles_name_every_bonus_option():
    """A figure must say what was run: the loss and each option, beside the hyper-parameters."""
    example = load_example()
    argv = ["--config", "3", "--shuffle", "--lr-decay", "0.5", "--decay-every", "2"]
    args = example.parse_args(argv + ["--all-batches", "--loss", "hinge", "--early-stopping", "3"])
    title = example.title_of(example.CONFIGS[3], args)
    assert title == (
        "lambda=0.1, eta=0.001, n_batch=100, n_epochs=40, multi-class hinge loss, shuffled, "
        "eta x0.5 every 2 epochs, all batches, early stopping (patience 3)"
    )
    plain = example.title_of(example.CONFIGS[3], example.parse_args(["--config", "3"]))
    assert plain == "lambda=0.1, eta=0.001, n_batch=100, n_epochs=40"


# ----------------------------------------------------------------------------------------------
# On the real data (set TINYNET_DATA to the folder that holds cifar-10-batches-py/)

REAL = os.environ.get("TINYNET_DATA")
TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


@pytest.mark.skipif(not REAL, reason="TINYNET_DATA is not set")
@pytest.mark.parametrize(
    "options",
    [
        ["--shuffle", "--lr-decay", "0.1", "--all-batches", "--early-stopping"],  # the tutorial's
        ["--loss", "hinge"],
    ],
    ids=["tutorial", "hinge"],
)
def test_bonus_options_on_real_cifar10_match_an_independent_loop(tmp_path, options):
    (row,) = run(REAL, tmp_path / "out", ["--config", "3", *options])
    reference = options + (["5"] if options[-1] == "--early-stopping" else [])  # its default
    expected = reference_run(REAL, 0.1, 0.001, 40, 100, 12345, reference)
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-6), key
    assert row["test_accuracy"] > 0.35  # both learn: chance is 0.1
    if "--all-batches" in options:
        assert row["n_train"] == 49_000
        # what the tutorial says these options reach on config 3
        quoted = re.search(r"from\s+([\d.]+)\s+to\s+([\d.]+):", TUTORIAL.read_text()).group(2)
        assert f"{row['test_accuracy']:.3f}" == quoted


@pytest.mark.skipif(not REAL, reason="TINYNET_DATA is not set")
def test_search_on_real_cifar10_trains_the_best_setting_last(tmp_path):
    runs = run(REAL, tmp_path / "out", ["--search", "--epochs", "3"])
    example = load_example()
    grid, best = runs[:-1], runs[-1]
    assert len(grid) == len(example.SEARCH_LAMS) * len(example.SEARCH_ETAS)
    winner = max(grid, key=lambda r: r["val_accuracy"])
    assert (best["lam"], best["eta"]) == (winner["lam"], winner["eta"])
    expected = reference_run(REAL, best["lam"], best["eta"], 3, 100, 12345, [])
    for key, value in expected.items():
        assert best[key] == pytest.approx(value, rel=1e-6), key
    assert winner["val_accuracy"] > min(r["val_accuracy"] for r in grid) + 0.05
