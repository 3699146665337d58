"""Tests for tinynet.plotting: valid PNG files and the class-template reshaping."""

import matplotlib
import numpy as np
import pytest

from tinynet.plotting import class_templates, plot_class_templates, plot_learning_curves

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_SIGNATURE


def make_history(n_epochs=6, validation=True, lr=None):
    epochs = np.arange(1, n_epochs + 1)
    history = {
        "loss": list(2.3 / epochs + 1.0),
        "cost": list(2.3 / epochs + 1.1),
        "accuracy": list(0.4 - 0.2 / epochs),
    }
    if validation:
        history["val_loss"] = list(2.3 / epochs + 1.2)
        history["val_cost"] = list(2.3 / epochs + 1.3)
        history["val_accuracy"] = list(0.35 - 0.2 / epochs)
    if lr is not None:
        history["lr"] = lr
    return history


@pytest.mark.parametrize("validation", [True, False])
@pytest.mark.parametrize("lr", [None, "per_epoch", "per_step"])
def test_learning_curves_write_png(tmp_path, validation, lr):
    lrs = {None: None, "per_epoch": [0.1 * 0.5**e for e in range(6)], "per_step": [1e-3] * 60}
    history = make_history(validation=validation, lr=lrs[lr])
    path = tmp_path / "curves.png"
    result = plot_learning_curves(history, path, title="lambda=0.1, eta=0.001, n_batch=100")
    assert result == path
    assert_png(path)


def test_learning_curves_with_batch_loss_and_history_object(tmp_path):
    class History:
        def __init__(self, history):
            self.history = history

    batch_loss = list(np.linspace(2.3, 1.5, 60) + 0.1 * np.sin(np.arange(60)))
    path = plot_learning_curves(
        History(make_history()), tmp_path / "sub" / "curves.png", batch_loss=batch_loss
    )
    assert_png(path)


def test_learning_curves_partial_histories(tmp_path):
    assert_png(plot_learning_curves({"loss": [2.0, 1.5]}, tmp_path / "a.png"))
    assert_png(plot_learning_curves({"val_accuracy": [0.2, 0.3, 0.35]}, tmp_path / "b.png"))
    assert_png(plot_learning_curves({"lr": [0.1, 0.05]}, tmp_path / "c.png"))


def test_learning_curves_errors(tmp_path):
    with pytest.raises(ValueError, match=r"none of the keys.*received keys \['foo'\]"):
        plot_learning_curves({"foo": [1, 2]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"history\['loss'\]"):
        plot_learning_curves({"loss": [[1, 2], [3, 4]]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"history\['loss'\]"):
        plot_learning_curves({"loss": ["a", "b"]}, tmp_path / "x.png")
    with pytest.raises(TypeError, match="history"):
        plot_learning_curves([1.0, 2.0], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plotting_leaves_the_backend_alone(tmp_path):
    backend = matplotlib.get_backend()
    plot_learning_curves(make_history(), tmp_path / "curves.png")
    plot_class_templates(np.zeros((3072, 10)), tmp_path / "templates.png")
    assert matplotlib.get_backend() == backend


def test_class_templates_against_hand_computation():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3072, 3))
    templates = class_templates(W)
    assert templates.shape == (3, 32, 32, 3) and templates.dtype == np.float64
    for k in range(3):
        w = W[:, k]
        expected = np.empty((32, 32, 3))
        for row in range(32):
            for col in range(32):
                for channel in range(3):  # CIFAR rows: 1024 red, 1024 green, 1024 blue
                    expected[row, col, channel] = w[channel * 1024 + row * 32 + col]
        expected = (expected - w.min()) / (w.max() - w.min())
        np.testing.assert_allclose(templates[k], expected, rtol=0, atol=1e-15)
        assert templates[k].min() == 0.0 and templates[k].max() == 1.0


def test_class_templates_colours_and_constant_columns():
    W = np.zeros((3072, 3))
    W[:1024, 0] = 5.0  # class 0: pure red
    W[1024 + 33, 1] = -1.0  # class 1: one dark pixel at (1, 1) in green
    # class 2: constant -> uniform grey
    templates = class_templates(W)
    np.testing.assert_array_equal(templates[0][..., 0], 1.0)
    np.testing.assert_array_equal(templates[0][..., 1:], 0.0)
    assert templates[1][1, 1, 1] == 0.0
    assert np.count_nonzero(templates[1] == 1.0) == 3071
    np.testing.assert_array_equal(templates[2], 0.5)


@pytest.mark.parametrize("shape", [(3071, 10), (10, 3072), (3072,), (3072, 0)])
def test_class_templates_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"expected W of shape \(3072, K\), received"):
        class_templates(np.zeros(shape))


def test_class_templates_non_finite():
    W = np.zeros((3072, 2))
    W[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        class_templates(W)


@pytest.mark.parametrize("layout", ["grid", "row"])
def test_plot_class_templates_writes_png(tmp_path, layout):
    W = np.random.default_rng(1).normal(size=(3072, 10))
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    path = plot_class_templates(
        W, tmp_path / f"{layout}.png", class_names=names, title="lambda=1", layout=layout
    )
    assert path == tmp_path / f"{layout}.png"
    assert_png(path)
    assert_png(plot_class_templates(W[:, :3], tmp_path / "three.png"))


def test_plot_class_templates_errors(tmp_path):
    W = np.zeros((3072, 10))
    with pytest.raises(ValueError, match="expected 10 class names.*received 3"):
        plot_class_templates(W, tmp_path / "t.png", class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="layout"):
        plot_class_templates(W, tmp_path / "t.png", layout="column")
    assert not (tmp_path / "t.png").exists()


def drawn_figure(monkeypatch):
    """Capture the Figure that the next plot saves."""
    import tinynet.plotting as plotting

    figures = []
    save = plotting._save
    monkeypatch.setattr(plotting, "_save", lambda fig, path: figures.append(fig) or save(fig, path))
    return figures


@pytest.mark.parametrize(
    "lr, scale",
    [
        ([0.01] * 20 + [0.001] * 20 + [0.0001] * 20, "log"),  # step decay by 0.1
        (list(np.interp(np.arange(60), [0, 30, 60], [1e-5, 1e-1, 1e-5])), "linear"),  # cyclic
        ([0.1, 0.05], "linear"),
    ],
)
def test_learning_rate_axis_is_log_for_step_schedules_and_linear_for_cycles(
    tmp_path, monkeypatch, lr, scale
):
    figures = drawn_figure(monkeypatch)
    plot_learning_curves(make_history(lr=lr), tmp_path / "c.png")
    (ax,) = [ax for ax in figures[0].axes if ax.get_ylabel() == "learning rate"]
    assert ax.get_yscale() == scale


def test_loss_axis_names_the_loss(tmp_path, monkeypatch):
    figures = drawn_figure(monkeypatch)
    plot_learning_curves(make_history(), tmp_path / "a.png", loss_name="multi-class hinge")
    plot_learning_curves(make_history(), tmp_path / "b.png")
    labels = [[ax.get_ylabel() for ax in fig.axes] for fig in figures]
    assert "loss (multi-class hinge)" in labels[0] and "loss (cross-entropy)" in labels[1]
    with pytest.raises(ValueError, match="expected lr_scale 'auto', 'linear' or 'log'"):
        plot_learning_curves(make_history(), tmp_path / "c.png", lr_scale="symlog")
