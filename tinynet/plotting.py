"""Figures for training runs: learning curves and the class templates of a linear classifier.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg canvas, so this
module works headless and never touches ``matplotlib.pyplot`` or the user's backend.

Example::

    >>> from tinynet.plotting import plot_learning_curves, plot_class_templates
    >>> history = trainer.fit(X_train, y_train, validation_data=(X_val, y_val))
    >>> plot_learning_curves(history, "results/curves.png", title="lambda=0.1, eta=0.001")
    >>> plot_class_templates(dense.W.data, "results/templates.png", class_names=names)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["class_templates", "plot_class_templates", "plot_learning_curves"]

# (history key of the training curve, of the validation curve, y-axis label)
_PANELS = [
    ("loss", "val_loss", "loss ({loss_name})"),
    ("cost", "val_cost", "cost (loss + regularisation)"),
    ("accuracy", "val_accuracy", "accuracy"),
]
_TRAIN_STYLE = {"color": "C0", "label": "training"}
_VAL_STYLE = {"color": "C1", "label": "validation"}


def _as_curve(history, key):
    values = history.get(key)
    if values is None or len(values) == 0:
        return None
    try:
        curve = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"history[{key!r}]: expected a list of numbers") from None
    if curve.ndim != 1:
        raise ValueError(f"history[{key!r}]: expected a 1-D list, received shape {curve.shape}")
    return curve


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100)  # format from the suffix; PNG when there is none
    return path


def plot_learning_curves(
    history, path, title=None, *, batch_loss=None, loss_name="cross-entropy", lr_scale="auto"
):
    """Plot loss, cost, accuracy and learning rate per epoch, training against validation.

    One panel per quantity present in ``history``: loss (``loss``, ``val_loss``), cost
    (``cost``, ``val_cost``), accuracy (``accuracy``, ``val_accuracy``) and learning rate
    (``lr``, per epoch or per step). Epochs are numbered from 1: the value at epoch ``e`` is
    the one measured after ``e`` passes over the training set.

    Args:
        history: a dict of per-epoch lists (Keras-style ``History.history``), or an object with
            such a ``.history`` attribute (e.g. the ``History`` returned by ``Trainer.fit``).
        path: where to save the figure (PNG unless the suffix says otherwise); parent folders
            are created.
        title: the figure's title, e.g. the hyper-parameters
            ``"lambda=0.1, eta=0.001, n_batch=100, n_epochs=40"``.
        batch_loss: optional training loss of every step (mini-batch), drawn as a light line
            in the loss panel; step ``i`` of ``S`` steps per epoch is at epoch ``(i + 1) / S``.
        loss_name: what the loss is, for its axis label: ``"loss (cross-entropy)"``.
        lr_scale: ``"linear"``, ``"log"``, or ``"auto"``: log for a step schedule (at most
            ten distinct rates spanning more than a factor of 10, e.g. decays by 0.1), linear
            otherwise, so that a cyclical rate shows its triangles.

    Returns:
        The ``Path`` of the saved figure.

    Example::

        >>> history = {"loss": [2.1, 1.9, 1.8], "val_loss": [2.2, 2.0, 1.95]}
        >>> plot_learning_curves(history, "curves.png", title="eta=0.001")
    """
    if lr_scale not in ("auto", "linear", "log"):
        raise ValueError(
            f"plot_learning_curves: expected lr_scale 'auto', 'linear' or 'log', "
            f"received {lr_scale!r}"
        )
    if not isinstance(history, Mapping):
        history = getattr(history, "history", None)
        if not isinstance(history, Mapping):
            raise TypeError(
                "plot_learning_curves: expected a dict of per-epoch lists or an object with a "
                f".history dict, received {type(history).__name__}"
            )

    steps = None
    if batch_loss is not None and len(batch_loss) > 0:
        steps = np.asarray(batch_loss, dtype=np.float64)
        if steps.ndim != 1:
            raise ValueError(f"batch_loss: expected a 1-D list, received shape {steps.shape}")

    panels = []  # (y label, training curve, validation curve)
    epoch_lengths = []
    for train_key, val_key, label in _PANELS:
        label = label.format(loss_name=loss_name)
        train, val = _as_curve(history, train_key), _as_curve(history, val_key)
        epoch_lengths += [len(curve) for curve in (train, val) if curve is not None]
        if train is not None or val is not None or (train_key == "loss" and steps is not None):
            panels.append((label, train, val))
    lr = _as_curve(history, "lr")
    if lr is not None:
        panels.append(("learning rate", lr, None))
    if not panels:
        keys = ", ".join(repr(k) for k in history)
        raise ValueError(
            "plot_learning_curves: history has none of the keys loss, cost, accuracy, "
            f"val_loss, val_cost, val_accuracy, lr; received keys [{keys}]"
        )
    # Per-step curves (batch_loss, a per-step lr) are spread over this many epochs.
    if epoch_lengths:
        n_epochs = max(epoch_lengths)
    else:
        n_epochs = len(lr) if lr is not None else 1

    n_cols = len(panels) if len(panels) <= 3 else 2
    n_rows = math.ceil(len(panels) / n_cols)
    fig = Figure(figsize=(5.0 * n_cols, 3.8 * n_rows + (0.4 if title else 0)), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)

    for ax, (label, train, val) in zip(axes, panels, strict=False):
        if label == "learning rate":
            if len(train) == n_epochs:
                x = np.arange(1, len(train) + 1)
                ax.plot(x, train, color="C2", marker=".", label="learning rate")
            else:  # one value per step
                x = np.arange(1, len(train) + 1) * (n_epochs / len(train))
                ax.plot(x, train, color="C2", label="learning rate (per step)")
            step_schedule = (
                train.min() > 0 and train.max() / train.min() > 10 and len(np.unique(train)) <= 10
            )
            if lr_scale == "log" or (lr_scale == "auto" and step_schedule):
                ax.set_yscale("log")
        else:
            if label.startswith("loss") and steps is not None:
                x = np.arange(1, len(steps) + 1) * (n_epochs / len(steps))
                style = {"color": "C0", "alpha": 0.25, "linewidth": 0.8}
                ax.plot(x, steps, label="training (per batch)", **style)
            for curve, style in ((train, _TRAIN_STYLE), (val, _VAL_STYLE)):
                if curve is not None:
                    x = np.arange(1, len(curve) + 1)
                    ax.plot(x, curve, marker="." if len(curve) <= 50 else None, **style)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label[0].upper() + label[1:].split(" (")[0])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if label != "learning rate" or len(ax.lines) > 1:
            ax.legend()
    if title:
        fig.suptitle(title, fontsize="large")
    return _save(fig, path)


def class_templates(W):
    """Reshape each column of ``W`` into a 32x32 RGB image, min-max scaled to [0, 1].

    Column ``k`` of ``W`` holds the weights of class ``k`` for the 3072 pixel values of a CIFAR
    image row (1024 red, 1024 green, 1024 blue, each row-major 32x32), so its image is
    ``w.reshape(3, 32, 32).transpose(1, 2, 0)``, then ``(t - t.min()) / (t.max() - t.min())``
    per class. A constant column becomes a uniform grey (0.5).

    Args:
        W: weights of shape (3072, K) (``scores = X @ W + b``).

    Returns:
        float64 array of shape (K, 32, 32, 3) with values in [0, 1].
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != 3072 or W.shape[1] < 1:
        raise ValueError(
            f"class_templates: expected W of shape (3072, K), received {W.shape}"
            + (" (did you pass W.T?)" if W.ndim == 2 and W.shape[1] == 3072 else "")
        )
    if not np.all(np.isfinite(W)):
        raise ValueError("class_templates: W contains NaN or infinite values")
    K = W.shape[1]
    images = W.T.reshape(K, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    flat = span == 0
    out = (images - low) / np.where(flat, 1.0, span)
    out[np.broadcast_to(flat, out.shape)] = 0.5
    return out


def plot_class_templates(W, path, class_names=None, title=None, layout="grid"):
    """Draw the class templates of a linear classifier: one 32x32 image per column of ``W``.

    Args:
        W: weights of shape (3072, K), e.g. ``dense.W.data`` of ``Dense(3072, 10)``.
        path: where to save the figure (PNG unless the suffix says otherwise).
        class_names: K names used as titles (default ``"class 0"``, ...).
        title: the figure's title, e.g. the hyper-parameters.
        layout: ``"grid"`` (two rows, 2x5 for CIFAR-10) or ``"row"`` (one row).

    Returns:
        The ``Path`` of the saved figure.

    Example::

        >>> plot_class_templates(dense.W.data, "templates.png", class_names=data.label_names)
    """
    images = class_templates(W)
    K = len(images)
    if class_names is None:
        class_names = [f"class {k}" for k in range(K)]
    elif len(class_names) != K:
        raise ValueError(
            f"plot_class_templates: expected {K} class names (one per column of W), "
            f"received {len(class_names)}"
        )
    if layout == "grid":
        n_rows = 2 if K > 5 else 1
    elif layout == "row":
        n_rows = 1
    else:
        raise ValueError(
            f"plot_class_templates: expected layout 'grid' or 'row', received {layout!r}"
        )
    n_cols = math.ceil(K / n_rows)

    fig = Figure(figsize=(1.9 * n_cols, 2.1 * n_rows + (0.5 if title else 0)), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, name in zip(axes, images, class_names, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(str(name))
    if title:
        fig.suptitle(title)
    return _save(fig, path)
