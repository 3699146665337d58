"""The two-layer example: its CLI, its outputs, and its numbers recomputed from its weights."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cifar10 import write_fake_cifar
from test_example_single_layer import RESULT_KEYS

from tinynet.datasets import Standardizer, load_cifar10

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cifar10_two_layer.py"
PNG = b"\x89PNG\r\n\x1a\n"
ROW_KEYS = RESULT_KEYS | {"eta_min", "eta_max", "n_s", "cycles"}  # the schema, and the cycle


def load_example():
    spec = importlib.util.spec_from_file_location("cifar10_two_layer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def independent_measures(weights, lam, X, y):
    """Accuracy and cost of relu(X W1 + b1) W2 + b2 in plain numpy, from the saved weights."""
    W1, b1, W2, b2 = (weights[k] for k in ("0.W", "0.b", "2.W", "2.b"))
    s = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y)), y].mean()
    return np.mean(s.argmax(axis=1) == y), loss + lam * (np.sum(W1**2) + np.sum(W2**2))


def check_outputs(out, root, n_validation):
    """results.json agrees with the weights it saved, on data loaded and scaled here."""
    runs = json.loads((out / "results.json").read_text())["runs"]
    final = runs[-1]
    assert final["config"] == "final" and ROW_KEYS <= set(final)
    data = load_cifar10(root, all_batches=True, n_validation=n_validation, download=False)
    scaler = Standardizer().fit(data.X_train)
    weights = np.load(out / "weights.npz")
    lam = final["lam"]
    train = independent_measures(weights, lam, scaler.transform(data.X_train), data.y_train)
    val = independent_measures(weights, lam, scaler.transform(data.X_val), data.y_val)
    test_accuracy, _ = independent_measures(
        weights, lam, scaler.transform(data.X_test), data.y_test
    )
    assert final["train_accuracy"] == pytest.approx(train[0], abs=1e-12)
    assert final["val_accuracy"] == pytest.approx(val[0], abs=1e-12)
    assert final["test_accuracy"] == pytest.approx(test_accuracy, abs=1e-12)
    assert final["final_train_cost"] == pytest.approx(train[1], rel=1e-9)
    assert final["final_val_cost"] == pytest.approx(val[1], rel=1e-9)
    assert (out / "curves.png").read_bytes().startswith(PNG)
    return runs


def test_help_lists_the_options():
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(EXAMPLE.parents[1])},
    )
    for flag in ("--data", "--out", "--seed", "--quiet", "--search", "--lam", "--cycles"):
        assert flag in result.stdout
    assert "--no-download" in result.stdout


@pytest.mark.parametrize(
    "argv", [["--lam", "-1"], ["--cycles", "0"], ["--hidden", "0"], ["--n-validation", "0"]]
)
def test_bad_arguments_exit_with_a_usage_error(argv):
    with pytest.raises(SystemExit) as info:
        load_example().parse_args(argv)
    assert info.value.code == 2


def test_defaults_are_the_course_setting():
    example, args = load_example(), load_example().parse_args([])
    assert (args.out, args.seed, args.cycles, args.hidden, args.n_validation) == (
        "results/two_layer",
        12345,
        3,
        50,
        5000,
    )
    assert (example.ETA_MIN, example.ETA_MAX, example.N_BATCH) == (1e-5, 1e-1, 100)


def test_missing_data_without_download_is_one_clear_message(tmp_path, capsys):
    argv = ["--data", str(tmp_path), "--no-download", "--quiet", "--out", str(tmp_path / "o")]
    assert load_example().main(argv) == 1
    assert "CIFAR-10 not found" in capsys.readouterr().err


@pytest.fixture
def fake_root(tmp_path):
    write_fake_cifar(tmp_path / "cifar-10-batches-py", sizes=(230, 120, 120, 60, 60, 90))
    return tmp_path


def test_run_on_small_data_stops_after_whole_cycles_and_matches_its_weights(fake_root, tmp_path):
    out = tmp_path / "out"
    argv = ["--data", str(fake_root), "--out", str(out), "--n-validation", "100"]
    argv += ["--lam", "0.01", "--cycles", "1", "--hidden", "8", "--quiet", "--no-download"]
    assert load_example().main(argv) == 0
    (run,) = check_outputs(out, fake_root, 100)
    # 490 training samples: n_s = 2 * floor(490 / 100) = 8, one cycle = 16 steps of the 5 an
    # epoch, so training stops within the fourth epoch.
    assert (run["n_s"], run["n_epochs"], run["n_batch"], run["cycles"]) == (8, 4, 100, 1)
    assert (run["lam"], run["seed"], run["hidden"]) == (0.01, 12345, 8)
    assert set(np.load(out / "weights.npz")) == {"0.W", "0.b", "2.W", "2.b"}
    model = load_example().build_model(0.01, 8, np.random.default_rng(0))
    model.load_weights(out / "weights.npz")  # the file fits the example's own model
    assert "| final |" in (out / "results.md").read_text()


def test_search_runs_coarse_then_fine_and_trains_the_best_lambda_last(fake_root, tmp_path):
    example = load_example()
    np.testing.assert_allclose(example.COARSE_LOG10_LAM, np.arange(-5, -0.5, 0.5))
    example.COARSE_LOG10_LAM, example.SEARCH_CYCLES = np.array([-4.0, -3.0, -2.0]), 1  # short
    out = tmp_path / "out"
    argv = ["--data", str(fake_root), "--out", str(out), "--n-validation", "100", "--search"]
    argv += ["--cycles", "1", "--hidden", "4", "--quiet", "--no-download"]
    assert example.main(argv) == 0
    runs = check_outputs(out, fake_root, 100)
    searched, final = runs[:-1], runs[-1]
    stages = [r["config"].split("-")[0] for r in searched]
    assert stages == ["coarse"] * 3 + ["fine"] * 4
    assert [r["log10_lam"] for r in searched[:3]] == [-4.0, -3.0, -2.0]
    assert [r["lam"] for r in searched[:3]] == pytest.approx([1e-4, 1e-3, 1e-2], rel=1e-12)
    coarse_best = max(searched[:3], key=lambda r: r["val_accuracy"])["log10_lam"]
    fine = [r["log10_lam"] for r in searched[3:]]
    assert fine == pytest.approx(coarse_best + np.array([-0.25, -0.125, 0.125, 0.25]))
    assert all(r["cycles"] == 1 for r in runs)
    assert final["lam"] == max(searched, key=lambda r: r["val_accuracy"])["lam"]


@pytest.mark.skipif(not os.environ.get("TINYNET_DATA"), reason="TINYNET_DATA is not set")
def test_reaches_50_percent_on_real_cifar10(tmp_path):
    """The default run: three cycles on 45,000 images, at least 50 % test accuracy."""
    out, root = tmp_path / "out", os.environ["TINYNET_DATA"]
    argv = ["--data", root, "--out", str(out), "--quiet", "--no-download"]
    assert load_example().main(argv) == 0
    (run,) = check_outputs(out, root, 5000)
    assert (run["n_s"], run["n_epochs"], run["cycles"]) == (900, 12, 3)
    assert run["test_accuracy"] >= 0.50
    assert (out / "curves.png").stat().st_size > 10_000


@pytest.mark.skipif(not os.environ.get("TINYNET_DATA"), reason="TINYNET_DATA is not set")
def test_search_on_real_cifar10_picks_the_default_lambda_and_reaches_50_percent(tmp_path):
    """The whole coarse-to-fine search (13 runs of two cycles), then the final run.

    It must choose the lambda the example uses by default, since its docstring says so."""
    out, root = tmp_path / "out", os.environ["TINYNET_DATA"]
    example = load_example()
    argv = ["--data", root, "--out", str(out), "--quiet", "--no-download", "--search"]
    assert example.main(argv) == 0
    runs = check_outputs(out, root, 5000)
    searched, final = runs[:-1], runs[-1]
    assert [r["config"].split("-")[0] for r in searched] == ["coarse"] * 9 + ["fine"] * 4
    best = max(searched, key=lambda r: r["val_accuracy"])
    assert final["lam"] == best["lam"] == pytest.approx(example.DEFAULT_LAM, rel=1e-12)
    assert (final["cycles"], final["n_epochs"]) == (3, 12)
    assert final["test_accuracy"] >= 0.50
