"""Optimizers: update a list of :class:`tinynet.Parameter` in place from their gradients."""

from __future__ import annotations

from .initializers import _check_number
from .parameter import Parameter


class Optimizer:
    """Base class of optimizers.

    Built on the parameters it updates; ``step()`` calls ``update(param, state)`` for every
    parameter that has a gradient (those with ``grad is None`` are skipped). ``state`` is a
    dict kept per parameter (``self.state[param]``) for momentum buffers and the like.
    Subclasses implement ``update``; ``lr`` is the learning rate that schedules change.

    Args:
        params: an iterable of :class:`tinynet.Parameter`, e.g. ``model.parameters()``.
        lr: the learning rate, > 0.
    """

    def __init__(self, params, lr: float):
        self.params = list(params)
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__}: expected Parameters "
                    f"(e.g. model.parameters()), received {type(p).__name__}"
                )
        if not self.params:
            raise ValueError(
                f"{type(self).__name__}: expected at least one parameter, received none"
            )
        self.lr = lr
        self.state: dict[Parameter, dict] = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number(f"{type(self).__name__} lr", value, positive=True)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for p in self.params:
            if p.grad is not None:
                self.update(p, self.state.setdefault(p, {}))

    def update(self, param: Parameter, state: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update(param, state)")

    def zero_grad(self) -> None:
        """Forget every gradient (layers overwrite them anyway, so training never needs this)."""
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """Vanilla (mini-batch) gradient descent: ``W <- W - lr * dcost/dW``.

    Args:
        params: the parameters to update.
        lr: the learning rate (eta), > 0.

    Example:
        >>> model = Sequential([Dense(4, 3)])
        >>> opt = SGD(model.parameters(), lr=0.1)
    """

    def __init__(self, params, lr: float = 0.01):
        super().__init__(params, lr)

    def update(self, param, state):
        param.data -= self.lr * param.grad

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr})"
