"""The code in docs/extending.md runs exactly as written, in order, in one namespace."""

import re
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_extending_guide_runs_as_written(capsys):
    path = DOCS / "extending.md"
    namespace = {"__name__": "__extending__"}
    for code in python_blocks(path):
        exec(compile(code, str(path), "exec"), namespace)
    out = capsys.readouterr().out
    assert "'s':" in out and "'0.W':" in out and "'1.s':" in out
    losses = namespace["history"].history["loss"]
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(namespace["trainer"].history.batch_lr, np.arange(1, 11) / 100)


def test_the_first_layer_and_its_gradient_test_fit_in_under_30_lines():
    first = python_blocks(DOCS / "extending.md")[0]
    assert "class LeakyReLU(Layer)" in first and "assert_layer_gradients" in first
    assert len(first.strip().splitlines()) < 30
