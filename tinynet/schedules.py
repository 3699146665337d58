"""Learning-rate schedules: callbacks that set ``trainer.optimizer.lr`` as training goes.

A schedule is a function of the step ``t`` (updates since ``fit`` began, from 0) or of the
epoch (from 0). Per-step schedules set the rate in ``on_batch_begin``, per-epoch ones in
``on_epoch_begin`` (Keras's ``LearningRateScheduler`` semantics), so the rate a step uses is
the value at its own ``t``. Every ``fit`` starts its schedule again from ``t = 0``.
:class:`tinynet.History` records the rate of every step in ``history.batch_lr``.

Example:
    >>> clr = CyclicLR(eta_min=1e-5, eta_max=1e-1, n_s=900)
    >>> trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters()), callbacks=[clr])
    >>> history = trainer.fit(X, y, epochs=12, batch_size=100)
    >>> history.batch_lr[900]          # the peak of the first cycle
    0.1
"""

from __future__ import annotations

from .callbacks import Callback
from .initializers import _check_number
from .layers import _check_size


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to ``schedule(t)`` before every step or epoch.

    Args:
        schedule: a function of one integer, the step ``t`` or the epoch, returning the
            learning rate (> 0).
        per: ``"step"`` (call ``schedule(t)`` before every update) or ``"epoch"`` (call
            ``schedule(epoch)`` before every epoch).

    A subclass may override ``lr_at(t)`` instead of passing ``schedule``, as
    :class:`StepDecay` and :class:`CyclicLR` do.

    Example:
        >>> warmup = LearningRateScheduler(lambda t: 0.1 * min(1.0, (t + 1) / 100), per="step")
    """

    def __init__(self, schedule=None, per: str = "step"):
        if schedule is not None and not callable(schedule):
            raise TypeError(
                f"{type(self).__name__}: expected a callable schedule, "
                f"received {type(schedule).__name__}"
            )
        if per not in ("step", "epoch"):
            raise ValueError(
                f"{type(self).__name__}: expected per='step' or per='epoch', received {per!r}"
            )
        self.schedule, self.per = schedule, per
        self.step = 0

    def lr_at(self, t: int) -> float:
        """The learning rate at step (or epoch) ``t``."""
        if self.schedule is None:
            raise TypeError(
                f"{type(self).__name__}: expected a schedule function, or a subclass that "
                "overrides lr_at(t); received neither"
            )
        return self.schedule(t)

    def on_train_begin(self, logs=None):
        self.step = 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.per == "epoch":
            self.trainer.optimizer.lr = self.lr_at(epoch)

    def on_batch_begin(self, batch, logs=None):
        if self.per == "step":
            self.trainer.optimizer.lr = self.lr_at(self.step)

    def on_batch_end(self, batch, logs=None):
        self.step += 1


class StepDecay(LearningRateScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (PyTorch's StepLR)::

        lr(epoch) = initial_lr * gamma ** floor(epoch / step_size)

    Args:
        step_size: epochs between decays, >= 1.
        gamma: the factor, > 0 (e.g. 0.1 for the assignment's "divide by 10").
        initial_lr: the rate of epochs ``0 .. step_size - 1``; by default the optimizer's
            ``lr`` when training first begins.

    Example:
        >>> decay = StepDecay(step_size=10, gamma=0.5, initial_lr=0.01)
        >>> [decay.lr_at(epoch) for epoch in (0, 9, 10, 25)]
        [0.01, 0.01, 0.005, 0.0025]
    """

    def __init__(self, step_size: int, gamma: float = 0.1, initial_lr: float | None = None):
        super().__init__(per="epoch")
        self.step_size = _check_size("StepDecay", "step_size", step_size)
        self.gamma = _check_number("StepDecay gamma", gamma, positive=True)
        if initial_lr is not None:
            initial_lr = _check_number("StepDecay initial_lr", initial_lr, positive=True)
        self.initial_lr = initial_lr

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.initial_lr is None:
            self.initial_lr = self.trainer.optimizer.lr

    def lr_at(self, t):
        if self.initial_lr is None:
            raise RuntimeError("StepDecay: initial_lr is unknown before training begins")
        return self.initial_lr * self.gamma ** (t // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(step_size={self.step_size}, gamma={self.gamma})"


class CyclicLR(LearningRateScheduler):
    """Cyclical learning rate, triangular policy (Smith, 2017), set before every step.

    The rate rises linearly from ``eta_min`` to ``eta_max`` over ``n_s`` steps and falls back
    over the next ``n_s``; one cycle is ``2 * n_s`` steps. For ``2 l n_s <= t < 2 (l + 1) n_s``::

        eta_t = eta_min + (t - 2 l n_s) / n_s * (eta_max - eta_min)            (rising half)
        eta_t = eta_max - (t - (2 l + 1) n_s) / n_s * (eta_max - eta_min)      (falling half)

    Args:
        eta_min: the lowest rate, > 0 (the rate of step 0).
        eta_max: the highest rate, > eta_min (the rate of step ``n_s``).
        n_s: the half-cycle, in steps, >= 1; the course takes ``2 * floor(n / n_batch)``.
        cycles: if given, stop training after ``cycles`` whole cycles (``2 * n_s * cycles``
            updates), in the middle of an epoch if need be (that epoch is still evaluated).

    Example:
        >>> clr = CyclicLR(eta_min=1e-5, eta_max=1e-1, n_s=500)
        >>> clr.lr_at(0), clr.lr_at(500), clr.lr_at(1000)
        (1e-05, 0.1, 1e-05)
    """

    def __init__(self, eta_min: float, eta_max: float, n_s: int, cycles: int | None = None):
        super().__init__(per="step")
        self.eta_min = _check_number("CyclicLR eta_min", eta_min, positive=True)
        self.eta_max = _check_number("CyclicLR eta_max", eta_max, positive=True)
        if not self.eta_max > self.eta_min:
            raise ValueError(
                f"CyclicLR: expected eta_max > eta_min, received eta_min={eta_min!r}, "
                f"eta_max={eta_max!r}"
            )
        self.n_s = _check_size("CyclicLR", "n_s", n_s)
        self.cycles = None if cycles is None else _check_size("CyclicLR", "cycles", cycles)

    def lr_at(self, t):
        position = t % (2 * self.n_s)
        r = position / self.n_s if position <= self.n_s else 2 - position / self.n_s
        # eta_min + r (eta_max - eta_min), written so that r = 0 and r = 1 give both ends exactly
        return (1 - r) * self.eta_min + r * self.eta_max

    def on_batch_end(self, batch, logs=None):
        super().on_batch_end(batch, logs)
        if self.cycles is not None and self.step >= 2 * self.n_s * self.cycles:
            self.trainer.stop_training = True

    def __repr__(self) -> str:
        return f"CyclicLR(eta_min={self.eta_min}, eta_max={self.eta_max}, n_s={self.n_s}" + (
            f", cycles={self.cycles})" if self.cycles is not None else ")"
        )
