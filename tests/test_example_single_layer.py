"""The Assignment 1 example: its CLI, its outputs, and its numbers against an independent loop."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cifar10 import write_fake_cifar

from tinynet.datasets import Standardizer, load_cifar10

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cifar10_single_layer.py"
PNG = b"\x89PNG\r\n\x1a\n"


def load_example():
    spec = importlib.util.spec_from_file_location("cifar10_single_layer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_run(X, y, Xv, yv, Xt, yt, lam, eta, n_epochs, n_batch, seed):
    """Section 5 of the design notes as one plain numpy loop, sharing no code with tinynet."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.01, (X.shape[1], 10))
    b = rng.normal(0, 0.01, 10)
    for _ in range(n_epochs):
        for start in range(0, len(X), n_batch):
            xb, yb = X[start : start + n_batch], y[start : start + n_batch]
            s = xb @ W + b
            p = np.exp(s - s.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1
            g = p / len(yb)
            W, b = W - eta * (xb.T @ g + 2 * lam * W), b - eta * g.sum(axis=0)

    def measure(data, labels):
        s = data @ W + b
        s = s - s.max(axis=1, keepdims=True)
        log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        cost = -log_p[np.arange(len(labels)), labels].mean() + lam * np.sum(W * W)
        return np.mean(s.argmax(axis=1) == labels), cost

    (train_acc, train_cost), (val_acc, val_cost), (test_acc, _) = (
        measure(X, y),
        measure(Xv, yv),
        measure(Xt, yt),
    )
    return {
        "train_accuracy": train_acc,
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "final_train_cost": train_cost,
        "final_val_cost": val_cost,
    }


def standardised(root):
    data = load_cifar10(root, download=False)
    scaler = Standardizer().fit(data.X_train)
    return (
        scaler.transform(data.X_train),
        data.y_train,
        scaler.transform(data.X_val),
        data.y_val,
        scaler.transform(data.X_test),
        data.y_test,
    )


def test_help_lists_the_options():
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE.parents[1])}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for flag in (
        "--data",
        "--out",
        "--config",
        "--lam",
        "--eta",
        "--epochs",
        "--batch-size",
        "--seed",
        "--seeds",
        "--no-download",
        "--quiet",
        "--float32",
    ):
        assert flag in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["--lam", "0.1"],
        ["--config", "5"],
        ["--seeds", "0"],
        ["--config", "1", "--lam", "0", "--eta", "0.1", "--epochs", "1", "--batch-size", "10"],
        ["--lam", "-1", "--eta", "0.1", "--epochs", "1", "--batch-size", "10"],
        ["--lam", "0", "--eta", "0", "--epochs", "1", "--batch-size", "10"],
        ["--lam", "0", "--eta", "-0.1", "--epochs", "1", "--batch-size", "10"],
        ["--lam", "0", "--eta", "0.1", "--epochs", "0", "--batch-size", "10"],
        ["--lam", "0", "--eta", "0.1", "--epochs", "1", "--batch-size", "0"],
        ["--search", "--epochs", "0"],
    ],
)
def test_bad_arguments_exit_with_a_usage_error(argv):
    with pytest.raises(SystemExit) as info:
        load_example().parse_args(argv)
    assert info.value.code == 2


def test_missing_data_without_download_is_one_clear_message(tmp_path, capsys):
    code = load_example().main(
        ["--data", str(tmp_path), "--no-download", "--quiet", "--out", str(tmp_path / "out")]
    )
    assert code == 1
    assert "CIFAR-10 not found" in capsys.readouterr().err


# The schema of every row of results.json, shared by the two-layer example.
RESULT_KEYS = {
    "config",
    "lam",
    "eta",
    "n_epochs",
    "n_batch",
    "seed",
    "train_accuracy",
    "val_accuracy",
    "test_accuracy",
    "final_train_cost",
    "final_val_cost",
    "seconds",
}


@pytest.fixture
def fake_root(tmp_path):
    write_fake_cifar(tmp_path / "cifar-10-batches-py", sizes=(230, 120, 120, 5, 5, 90))
    return tmp_path


def test_custom_run_writes_figures_and_matches_an_independent_loop(fake_root, tmp_path, capsys):
    out = tmp_path / "out"
    options = "--lam 0.1 --eta 0.01 --epochs 3 --batch-size 50 --seed 7 --quiet --no-download"
    argv = ["--data", str(fake_root), "--out", str(out), *options.split()]
    assert load_example().main(argv) == 0
    assert "| custom |" in capsys.readouterr().out
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert RESULT_KEYS <= set(run)
    assert {k: run[k] for k in ("config", "lam", "eta", "n_epochs", "n_batch", "seed")} == {
        "config": "custom",
        "lam": 0.1,
        "eta": 0.01,
        "n_epochs": 3,
        "n_batch": 50,
        "seed": 7,
    }
    assert run["seconds"] > 0
    expected = reference_run(*standardised(fake_root), 0.1, 0.01, 3, 50, 7)
    for key, value in expected.items():
        assert run[key] == pytest.approx(value, rel=1e-10), key
    for name in ("configcustom_curves.png", "configcustom_templates.png"):
        assert (out / name).read_bytes().startswith(PNG)
    assert "| custom |" in (out / "results.md").read_text()


def test_seeds_report_mean_and_spread(fake_root, tmp_path):
    out = tmp_path / "out"
    options = "--config 4 --seeds 3 --quiet --no-download"
    argv = ["--data", str(fake_root), "--out", str(out), *options.split()]
    example = load_example()
    example.CONFIGS[4] = {**example.CONFIGS[4], "n_epochs": 2}  # keep the test short
    assert example.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert [r["seed"] for r in results["runs"]] == [12345, 12346, 12347]
    (summary,) = results["summary"]
    accuracies = [r["test_accuracy"] for r in results["runs"]]
    assert summary["test_accuracy"] == pytest.approx(np.mean(accuracies))
    assert summary["test_accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert "inside 2 std" in (out / "results.md").read_text()


@pytest.mark.skipif(not os.environ.get("TINYNET_DATA"), reason="TINYNET_DATA is not set")
def test_reproduces_the_report_on_real_cifar10(tmp_path):
    """All four configs on the real data: within the report's tolerances, equal to numpy."""
    out = tmp_path / "out"
    example = load_example()
    assert (
        example.main(
            ["--data", os.environ["TINYNET_DATA"], "--out", str(out), "--quiet", "--no-download"]
        )
        == 0
    )
    runs = {r["config"]: r for r in json.loads((out / "results.json").read_text())["runs"]}
    assert sorted(runs) == [1, 2, 3, 4]
    data = standardised(os.environ["TINYNET_DATA"])
    for config, reported in example.REPORTED.items():
        tolerance = 0.025 if config == 1 else 0.015
        for split, value in reported.items():
            assert abs(runs[config][split] - value) <= tolerance, (config, split)
        expected = reference_run(*data, **example.CONFIGS[config], seed=12345)
        for key, value in expected.items():
            assert runs[config][key] == pytest.approx(value, rel=1e-6), (config, key)
        for kind in ("curves", "templates"):
            assert (out / f"config{config}_{kind}.png").stat().st_size > 10_000
