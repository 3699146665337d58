"""The tutorial's code runs as written, on the real data, and its table is the example's output."""

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"


def test_tutorial_images_exist():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TUTORIAL.read_text()):
        assert (DOCS / image).stat().st_size > 10_000, image


@pytest.mark.skipif(not os.environ.get("TINYNET_DATA"), reason="TINYNET_DATA is not set")
def test_tutorial_code_runs_on_real_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__tutorial__"}
    for code in re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.S):
        exec(compile(code, str(TUTORIAL), "exec"), namespace)
    assert (tmp_path / "results" / "curves.png").stat().st_size > 10_000
    assert (tmp_path / "results" / "templates.png").stat().st_size > 10_000
    # The training accuracy of config 3 in the tutorial's table, by the tutorial's own code.
    row = re.search(r"^\| 3 \| 0\.1 \| 0\.001 \| ([\d.]+) \|", TUTORIAL.read_text(), flags=re.M)
    history = namespace["history"]
    assert f"{history.history['accuracy'][-1]:.4f}" == row.group(1)
    # The two-layer network's numbers, as the tutorial quotes them (to its two decimals).
    quoted = re.search(r"# accuracy ([\d.]+); training accuracy ([\d.]+)", TUTORIAL.read_text())
    test_quoted, train_quoted = (float(v) for v in quoted.groups())
    net_trainer, ns = namespace["net_trainer"], namespace
    test_accuracy = net_trainer.evaluate(ns["X_test"], ns["y_test"])["accuracy"]
    assert abs(test_accuracy - test_quoted) < 0.005
    assert abs(ns["net_history"].history["accuracy"][-1] - train_quoted) < 0.005
