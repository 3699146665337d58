"""Trainer: mini-batch training of a model with a loss and an optimizer, and evaluation."""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from .callbacks import Callback, History
from .layers import _check_size
from .losses import Loss, check_label_range
from .metrics import correct_count
from .model import Sequential
from .optimizers import Optimizer


def check_inputs(name: str, X) -> np.ndarray:
    """Validate inputs: a finite, real numeric array X of shape (N, ...) with N >= 1."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name}: expected X as a numpy array, received {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(
            f"{name}: expected X of shape (N, features) with samples as rows, "
            f"received shape {X.shape}"
        )
    if len(X) == 0:
        raise ValueError(f"{name}: expected at least one sample, received X of shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"{name}: expected real numeric X, received dtype {X.dtype}")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise ValueError(
            f"{name}: expected finite X, received NaN or inf "
            f"(first at sample {int(np.argwhere(~np.isfinite(X))[0, 0])})"
        )
    return X


def check_data(name: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate a data set: inputs as :func:`check_inputs` and integer labels y of shape (N,)."""
    X = check_inputs(name, X)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(
            f"{name}: expected labels y of shape ({len(X)},) to match X {X.shape}, "
            f"received {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name}: expected integer class labels, received dtype {y.dtype}")
    return X, y


@contextmanager
def _evaluation_mode(model: Sequential):
    """The model in evaluation mode for the block, then back in the mode it had."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model._set_training(was_training)


class TrainingDiverged(FloatingPointError):
    """Training stopped because a mini-batch loss was NaN or infinite.

    Raised by :meth:`Trainer.fit` at the first non-finite batch loss (unless the trainer was
    built with ``stop_on_nonfinite=False``). What was recorded up to then stays in
    ``trainer.history``; its ``batch_loss`` ends with the non-finite value.

    Attributes:
        epoch: the epoch of the batch, counting from 0.
        batch: the batch within that epoch, counting from 0.
        loss: the non-finite loss (``nan``, ``inf`` or ``-inf``).
    """

    def __init__(self, epoch: int, batch: int, loss: float):
        super().__init__(
            f"Trainer.fit: training diverged: the loss of batch {batch} in epoch {epoch} "
            f"(counting from 0) is {loss}; lower the learning rate, or check the data "
            "and the gradients"
        )
        self.epoch, self.batch, self.loss = epoch, batch, loss

    def __reduce__(self):
        return type(self), (self.epoch, self.batch, self.loss)


class Trainer:
    """Trains a :class:`tinynet.Sequential` by mini-batch gradient descent.

    Each step: ``scores = model.forward(xb)``, ``loss.forward(scores, yb)``,
    ``model.backward(loss.backward())`` (gradients of loss + penalties), ``optimizer.step()``.
    After each epoch the whole training set (and the validation set, if given) is evaluated:
    loss, cost = loss + penalties, and accuracy, recorded in :class:`tinynet.History`.

    Args:
        model: the model to train.
        loss: a :class:`tinynet.Loss`, e.g. ``SoftmaxCrossEntropy()``.
        optimizer: a :class:`tinynet.Optimizer` built on ``model.parameters()``.
        callbacks: extra :class:`tinynet.Callback` objects; a ``History`` is always attached.
        eval_batch_size: samples per forward pass when evaluating, bounding memory; the
            default 1000 was also measured faster than larger chunks (docs/performance.md).
        stop_on_nonfinite: raise :class:`TrainingDiverged` at the first NaN or infinite
            batch loss (the default); False trains on regardless.

    Example:
        >>> model = Sequential([Dense(3072, 10, regularizer=L2(0.1), rng=rng)])
        >>> trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.001))
        >>> history = trainer.fit(X, y, epochs=40, batch_size=100, validation_data=(Xv, yv))
        >>> history.history["val_accuracy"][-1]
    """

    def __init__(
        self,
        model: Sequential,
        loss: Loss,
        optimizer: Optimizer,
        callbacks=None,
        eval_batch_size: int = 1000,
        stop_on_nonfinite: bool = True,
    ):
        for name, value, cls in (
            ("model", model, Sequential),
            ("loss", loss, Loss),
            ("optimizer", optimizer, Optimizer),
        ):
            if not isinstance(value, cls):
                raise TypeError(
                    f"Trainer: expected {name} to be a {cls.__name__}, "
                    f"received {type(value).__name__}"
                )
        in_model = {id(p) for p in model.parameters()}
        for p in optimizer.params:
            if id(p) not in in_model:
                raise ValueError(
                    "Trainer: expected an optimizer built on this model's parameters "
                    f"(model.parameters()), received one that also updates {p!r}, "
                    "which the model does not have"
                )
        self.model, self.loss, self.optimizer = model, loss, optimizer
        if isinstance(callbacks, Callback):
            raise TypeError(
                f"Trainer: expected a list of callbacks, received a single "
                f"{type(callbacks).__name__}; write callbacks=[...]"
            )
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: expected Callback objects, received {type(cb).__name__}")
        self.eval_batch_size = _check_size("Trainer", "eval_batch_size", eval_batch_size)
        self.stop_on_nonfinite = bool(stop_on_nonfinite)
        self.history = History()
        self.stop_training = False
        self.params: dict = {}

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> float:
        """One gradient step on a batch; returns the batch's mean loss (before the step).

        A NaN or infinite loss takes no step while ``stop_on_nonfinite`` is set (the default):
        :meth:`fit` then raises :class:`TrainingDiverged`, leaving the parameters as they were
        before that batch.
        """
        scores = self.model.forward(xb)
        value = self.loss.forward(scores, yb)
        if self.stop_on_nonfinite and not math.isfinite(value):
            return value
        self.model.backward(self.loss.backward(), input_grad=False)
        self.optimizer.step()
        return value

    def fit(
        self,
        X,
        y,
        epochs: int = 1,
        batch_size: int = 100,
        validation_data=None,
        shuffle: bool = False,
        rng=None,
    ) -> History:
        """Train for ``epochs`` passes over ``(X, y)``; returns the :class:`History`.

        Batches are consecutive slices of ``X`` in stored order, ``batch_size`` samples each;
        when ``N`` is not a multiple of ``batch_size`` the last batch of each epoch is smaller
        (its loss is the mean over its own samples). With ``shuffle=True`` the order is drawn
        anew every epoch from ``rng`` (a ``np.random.Generator`` or a seed; unseeded if None).

        Args:
            X: (N, D) inputs; y: (N,) integer labels.
            epochs: number of passes, >= 1.
            batch_size: samples per step, >= 1.
            validation_data: optional ``(X_val, y_val)``, evaluated after every epoch.
            shuffle: reshuffle the samples every epoch.
            rng: the generator (or seed) for shuffling.

        Errors and interrupts:
            - Bad data or arguments raise ``ValueError``/``TypeError`` before any training.
            - A NaN or infinite batch loss raises :class:`TrainingDiverged` (see
              ``stop_on_nonfinite``).
            - ``KeyboardInterrupt`` (Ctrl-C, or raised by a callback) is re-raised after
              clean-up; catch it to keep going with what was trained.

            Whatever ends training, from ``on_train_begin`` on: ``on_train_end`` runs for
            every callback whose ``on_train_begin`` completed (its logs hold
            ``"interrupted": True``, ``"diverged": True`` or ``"error": exc`` when training
            did not finish normally), ``trainer.history`` keeps every epoch and batch
            recorded so far, and the model is put back in the mode it had before ``fit``.
            The parameters are those after the last step taken; an interrupt that
            lands inside ``optimizer.step()`` may leave some parameters updated and others
            not, so restore a checkpoint (:class:`tinynet.ModelCheckpoint`) if that matters.
        """
        X, y = check_data("Trainer.fit", X, y)
        epochs = _check_size("Trainer.fit", "epochs", epochs)
        batch_size = _check_size("Trainer.fit", "batch_size", batch_size)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(
                    "Trainer.fit: expected validation_data=(X_val, y_val), received "
                    f"{type(validation_data).__name__}"
                )
            validation_data = check_data("Trainer.fit validation_data", *validation_data)
            if validation_data[0].shape[1:] != X.shape[1:]:
                raise ValueError(
                    "Trainer.fit: expected validation X with samples of shape "
                    f"{X.shape[1:]} like X {X.shape}, received {validation_data[0].shape}"
                )
        self._check_labels(X, y, validation_data)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"Trainer.fit: expected shuffle True or False, received {shuffle!r}")
        if shuffle and not isinstance(rng, np.random.Generator):
            try:
                rng = np.random.default_rng(rng)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    "Trainer.fit: expected rng to be a numpy.random.Generator, an integer "
                    f"seed or None, received {rng!r}"
                ) from exc

        n = len(X)
        self.history = History()
        callbacks = [self.history, *self.callbacks]
        for cb in callbacks:
            cb.set_trainer(self)
        self.stop_training = False
        self.params = {
            "epochs": epochs,
            "batch_size": batch_size,
            "samples": n,
            "steps": -(-n // batch_size),
        }

        def call(hook, *args):
            for cb in callbacks:
                getattr(cb, hook)(*args)

        was_training = self.model.training
        end_logs: dict = {}
        started = []  # the callbacks whose on_train_begin ran: they get on_train_end
        try:
            self.model.train()
            for cb in callbacks:
                cb.on_train_begin({})
                started.append(cb)
            self._run_epochs(call, X, y, epochs, batch_size, validation_data, shuffle, rng)
        except KeyboardInterrupt:
            end_logs["interrupted"] = True
            raise
        except TrainingDiverged:
            end_logs["diverged"] = True
            raise
        except Exception as exc:
            end_logs["error"] = exc
            raise
        finally:
            self.model._set_training(was_training)
            for cb in started:
                cb.on_train_end(end_logs)
        return self.history

    def _check_labels(self, X, y, validation_data) -> None:
        """Check the label ranges against the model's number of class scores, before training.

        The number of classes is read from the scores of one sample, in evaluation mode (so a
        dropout layer draws nothing); a model whose output is not (N, K) is left to its loss.
        """
        with _evaluation_mode(self.model):
            scores = self.model.forward(X[:1])
        if getattr(scores, "ndim", None) != 2:
            return
        check_label_range("Trainer.fit", y, scores.shape[1])
        if validation_data is not None:
            check_label_range("Trainer.fit validation_data", validation_data[1], scores.shape[1])

    def _run_epochs(self, call, X, y, epochs, batch_size, validation_data, shuffle, rng):
        """The epoch and batch loop of :meth:`fit`, on arguments it has checked."""
        n = len(X)
        for epoch in range(epochs):
            call("on_epoch_begin", epoch, {})
            order = rng.permutation(n) if shuffle else None
            for batch, start in enumerate(range(0, n, batch_size)):
                idx = (
                    slice(start, start + batch_size)
                    if order is None
                    else order[start : start + batch_size]
                )
                xb, yb = X[idx], y[idx]
                logs = {"batch": batch, "size": len(yb)}
                call("on_batch_begin", batch, logs)
                logs["loss"] = self.train_step(xb, yb)
                call("on_batch_end", batch, logs)
                if self.stop_on_nonfinite and not math.isfinite(logs["loss"]):
                    raise TrainingDiverged(epoch, batch, logs["loss"])
                if self.stop_training:
                    break
            logs = self._evaluate(X, y)
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(*validation_data).items()})
            call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break

    def evaluate(self, X, y) -> dict[str, float]:
        """Loss, cost (loss + penalties) and accuracy on a whole data set.

        One forward pass per chunk of ``eval_batch_size`` samples gives loss and accuracy
        together; the model is in evaluation mode meanwhile.

        Returns:
            ``{"loss": ..., "cost": ..., "accuracy": ...}``
        """
        return self._evaluate(*check_data("Trainer.evaluate", X, y))

    def _evaluate(self, X, y) -> dict[str, float]:
        total_loss, correct = 0.0, 0
        with _evaluation_mode(self.model):
            for start in range(0, len(X), self.eval_batch_size):
                xb, yb = (
                    X[start : start + self.eval_batch_size],
                    y[start : start + self.eval_batch_size],
                )
                scores = self.model.forward(xb)
                total_loss += self.loss.forward(scores, yb) * len(yb)
                correct += correct_count(scores, yb)
        loss = total_loss / len(X)
        return {"loss": loss, "cost": loss + self.model.penalty(), "accuracy": correct / len(X)}

    def predict(self, X) -> np.ndarray:
        """Predicted class indices (N,), computed in chunks in evaluation mode."""
        X = check_inputs("Trainer.predict", X)
        with _evaluation_mode(self.model):
            return np.concatenate(
                [
                    self.model.forward(X[s : s + self.eval_batch_size]).argmax(axis=1)
                    for s in range(0, len(X), self.eval_batch_size)
                ]
            )
