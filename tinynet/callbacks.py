"""Callbacks: code that runs at fixed points of :meth:`tinynet.Trainer.fit`.

The hooks, in the order Keras users know::

    on_train_begin(logs)
      for each epoch:  on_epoch_begin(epoch, logs)
        for each batch:  on_batch_begin(batch, logs)  ...step...  on_batch_end(batch, logs)
      on_epoch_end(epoch, logs)      # logs: loss, cost, accuracy (+ val_* when validating)
    on_train_end(logs)

``epoch`` and ``batch`` count from 0 (``batch`` restarts every epoch). A callback reaches the
trainer as ``self.trainer`` (its model, optimizer, ``params``) and stops training by setting
``self.trainer.stop_training = True``.
"""

from __future__ import annotations

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
