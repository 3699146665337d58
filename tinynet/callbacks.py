"""Callbacks: code that runs at fixed points of :meth:`tinynet.Trainer.fit`.

The hooks, in the order Keras users know::

    on_train_begin(logs)
      for each epoch:  on_epoch_begin(epoch, logs)
        for each batch:  on_batch_begin(batch, logs)  ...step...  on_batch_end(batch, logs)
      on_epoch_end(epoch, logs)      # logs: loss, cost, accuracy (+ val_* when validating)
    on_train_end(logs)

``epoch`` and ``batch`` count from 0 (``batch`` restarts every epoch). A callback reaches the
trainer as ``self.trainer`` (its model, optimizer, ``params``) and stops training by setting
``self.trainer.stop_training = True``. ``on_train_end`` runs however training ends; its logs
say why when it did not finish normally: ``{"interrupted": True}`` (KeyboardInterrupt),
``{"diverged": True}`` (:class:`tinynet.TrainingDiverged`) or ``{"error": exc}``.
"""

from __future__ import annotations

import math
import os

import numpy as np
from tqdm.auto import tqdm


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs=None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs=None) -> None:
        pass

    def on_batch_end(self, batch: int, logs=None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        pass

    def on_train_end(self, logs=None) -> None:
        pass


class History(Callback):
    """Records what training measured; always attached, and returned by ``fit``.

    Attributes:
        history: dict of per-epoch lists, e.g. ``history["val_loss"][e]`` for epoch ``e``;
            keys ``loss, cost, accuracy`` (whole training set, after the epoch) and
            ``val_loss, val_cost, val_accuracy`` when validation data is given.
        epoch: the epoch indices recorded, 0-based.
        batch_loss: the training loss of every mini-batch, in order.
        batch_lr: the learning rate of every mini-batch's step, in order (what a schedule
            such as :class:`tinynet.CyclicLR` set, or the optimizer's constant ``lr``).
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.batch_loss: list[float] = []
        self.batch_lr: list[float] = []

    def on_train_begin(self, logs=None):
        self.history, self.epoch, self.batch_loss = {}, [], []
        self.batch_lr = []

    def on_batch_end(self, batch, logs=None):
        self.batch_loss.append(logs["loss"])
        if self.trainer is not None:
            self.batch_lr.append(self.trainer.optimizer.lr)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class ProgressBar(Callback):
    """A tqdm bar over epochs showing the latest loss, accuracy and validation loss.

    Args:
        disable: True silences it (e.g. for a ``--quiet`` flag).
        desc: the text before the bar.
        keys: the logs shown in the postfix (those present).
    """

    def __init__(
        self,
        disable: bool = False,
        desc: str = "training",
        keys=("loss", "val_loss", "accuracy", "val_accuracy"),
    ):
        self.disable, self.desc, self.keys = disable, desc, tuple(keys)
        self._bar = None

    def on_train_begin(self, logs=None):
        self._bar = tqdm(
            total=self.trainer.params["epochs"],
            desc=self.desc,
            unit="epoch",
            disable=self.disable,
            leave=True,
        )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._bar.set_postfix({k: f"{logs[k]:.4f}" for k in self.keys if k in logs}, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _resolve_mode(owner: str, monitor, mode) -> str:
    if not isinstance(monitor, str):
        raise TypeError(
            f"{owner}: expected monitor to be a log name such as 'val_loss', "
            f"received {type(monitor).__name__}"
        )
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: expected mode 'auto', 'min' or 'max', received {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _monitored(owner: str, monitor: str, logs) -> float:
    logs = logs or {}
    if monitor not in logs:
        hint = " (pass validation_data to fit for val_* logs)" if monitor.startswith("val_") else ""
        raise ValueError(
            f"{owner}: expected monitor {monitor!r} in the epoch logs, received the keys "
            f"{sorted(logs)}{hint}"
        )
    return float(logs[monitor])


def _improved(mode: str, value: float, best: float, min_delta: float = 0.0) -> bool:
    # NaN never improves: both comparisons are False.
    return value < best - min_delta if mode == "min" else value > best + min_delta


class ModelCheckpoint(Callback):
    """Saves the model's weights after an epoch, by default only when a monitored log improves.

    Each save goes through :meth:`tinynet.Sequential.save_weights`: written to a temporary file
    and renamed over ``path``, so ``path`` always holds a whole set of weights, even when
    training is interrupted or diverges. Reload them with ``model.load_weights(path)``.

    Args:
        path: the ``.npz`` file to write (overwritten at each save).
        monitor: the epoch log to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"min"``, ``"max"``, or ``"auto"``: max for names containing ``"acc"``,
            min otherwise.
        save_best_only: True saves only when ``monitor`` beats its best so far;
            False saves after every epoch (the latest weights).

    Attributes:
        best: the best value of ``monitor`` so far; ``best_epoch``: its epoch (from 0).

    Raises:
        ValueError: at an epoch's end, if ``monitor`` is not among the logs.

    Example:
        >>> checkpoint = ModelCheckpoint("best.npz", monitor="val_accuracy")
        >>> trainer = Trainer(model, loss, optimizer, callbacks=[checkpoint])
        >>> trainer.fit(X, y, epochs=40, validation_data=(Xv, yv))
        >>> model.load_weights("best.npz")
    """

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto", save_best_only=True):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.mode = _resolve_mode("ModelCheckpoint", monitor, mode)
        self.save_best_only = bool(save_best_only)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"ModelCheckpoint: expected an existing folder for {self.path!r}, "
                f"received a missing folder {folder!r}"
            )
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored("ModelCheckpoint", self.monitor, logs)
        improved = _improved(self.mode, value, self.best)
        if improved:
            self.best, self.best_epoch = value, epoch
        if improved or not self.save_best_only:
            self.trainer.model.save_weights(self.path)

    def __repr__(self) -> str:
        return f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, mode={self.mode!r})"


class EarlyStopping(Callback):
    """Stops training when a monitored log has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta``
    (below it for mode min, above it for max; NaN never improves). After ``patience``
    epochs in a row without improvement, training stops at the end of that epoch.

    With ``restore_best_weights=True`` a copy of the best epoch's parameters and buffers
    (batch norm's running statistics: ``model.state_dict()``) is kept in memory and copied
    back into the model (in place) when training ends, however it ends: stopped early, out
    of epochs, diverged or interrupted. (Keras restores only when it stops early; here the
    model you are left with is always the best one seen.)

    Args:
        monitor: the epoch log to watch, e.g. ``"val_loss"``.
        patience: epochs without improvement before stopping, >= 0.
        min_delta: the smallest change that counts as an improvement, >= 0.
        mode: ``"min"``, ``"max"``, or ``"auto"``: max for names containing ``"acc"``,
            min otherwise.
        restore_best_weights: restore the best epoch's parameters at the end of training.

    Attributes:
        best, best_epoch: the best value and its epoch (from 0; None before any).
        stopped_epoch: the epoch at whose end training was stopped, or None.

    Example:
        >>> stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        >>> Trainer(model, loss, optimizer, callbacks=[stopper]).fit(
        ...     X, y, epochs=100, validation_data=(Xv, yv))
        >>> stopper.best_epoch, stopper.stopped_epoch
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ):
        self.monitor = monitor
        self.mode = _resolve_mode("EarlyStopping", monitor, mode)
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)):
            raise TypeError(
                f"EarlyStopping: expected an integer patience, received {type(patience).__name__}"
            )
        if patience < 0:
            raise ValueError(f"EarlyStopping: expected patience >= 0, received {patience}")
        if isinstance(min_delta, bool) or not isinstance(
            min_delta, (int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"EarlyStopping: expected a number min_delta, received {type(min_delta).__name__}"
            )
        if not min_delta >= 0 or math.isinf(min_delta):
            raise ValueError(
                f"EarlyStopping: expected a finite min_delta >= 0, received {min_delta}"
            )
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self.best_weights: dict | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored("EarlyStopping", self.monitor, logs)
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {
                    name: array.copy() for name, array in self.trainer.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            for name, array in self.trainer.model.state_dict().items():
                array[...] = self.best_weights[name]

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, mode={self.mode!r})"
        )
