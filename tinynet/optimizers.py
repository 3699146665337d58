"""Optimizers: update a list of :class:`tinynet.Parameter` in place from their gradients."""

from __future__ import annotations

import numpy as np

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
        if not hasattr(params, "__iter__"):
            hint = (
                "; did you mean model.parameters()?"
                if callable(params) or hasattr(params, "parameters")
                else ""
            )
            raise TypeError(
                f"{type(self).__name__}: expected an iterable of Parameters such as "
                f"model.parameters(), received {type(params).__name__}{hint}"
            )
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
    """Mini-batch gradient descent, optionally with momentum (PyTorch's convention).

    Without momentum (the default, the assignment's update)::

        W <- W - lr * g                                   (g = dcost/dW)

    With ``momentum = mu > 0`` a buffer per parameter accumulates the gradients::

        buf <- g                    on the first step
        buf <- mu * buf + g         afterwards
        W   <- W - lr * buf         (or W - lr * (g + mu * buf) with nesterov=True)

    This is ``torch.optim.SGD`` with ``dampening=0``; some texts scale ``g`` by ``1 - mu``
    or ``lr`` inside the buffer instead, which changes the effective step size.

    Args:
        params: the parameters to update.
        lr: the learning rate (eta), > 0.
        momentum: mu, in [0, 1); 0 gives plain gradient descent.
        nesterov: use Nesterov's look-ahead form (needs momentum > 0).

    Example:
        >>> model = Sequential([Dense(4, 3)])
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = _check_number("SGD momentum", momentum)
        if not 0 <= self.momentum < 1:
            raise ValueError(f"SGD momentum: expected a value in [0, 1), received {momentum!r}")
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD nesterov: expected a bool, received {type(nesterov).__name__}")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD nesterov: expected momentum > 0 with nesterov=True, received 0")
        self.nesterov = nesterov

    def update(self, param, state):
        if self.momentum == 0:
            param.data -= self.lr * param.grad
            return
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = param.grad.copy()
        else:
            buf *= self.momentum
            buf += param.grad
        step = param.grad + self.momentum * buf if self.nesterov else buf
        param.data -= self.lr * step

    def __repr__(self) -> str:
        extra = f", momentum={self.momentum}" if self.momentum else ""
        extra += ", nesterov=True" if self.nesterov else ""
        return f"SGD(lr={self.lr}{extra})"


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias correction as in ``torch.optim.Adam``.

    At the t-th step of a parameter (t = 1, 2, ...), with ``g = dcost/dW``::

        m <- beta1 * m + (1 - beta1) * g            (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g**2
        W <- W - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    Args:
        params: the parameters to update.
        lr: the learning rate, > 0.
        betas: (beta1, beta2), each in [0, 1): decay rates of the two moment estimates.
        eps: added to the denominator, >= 0.

    Example:
        >>> model = Sequential([Dense(4, 3)])
        >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam betas: expected a pair (beta1, beta2), received {betas!r}")
        self.betas = tuple(_check_number("Adam betas", b) for b in betas)
        if not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"Adam betas: expected values in [0, 1), received {betas!r}")
        self.eps = _check_number("Adam eps", eps)
        if self.eps < 0:
            raise ValueError(f"Adam eps: expected eps >= 0, received {eps!r}")

    def update(self, param, state):
        beta1, beta2 = self.betas
        if not state:
            state.update(step=0, m=np.zeros_like(param.data), v=np.zeros_like(param.data))
        state["step"] += 1
        t, m, v, g = state["step"], state["m"], state["v"], param.grad
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        param.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"
