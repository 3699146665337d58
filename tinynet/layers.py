"""Layers: the building blocks of a :class:`tinynet.Sequential` model.

A layer's ``forward(x)`` computes its output and caches what ``backward`` needs;
``backward(grad_out)`` takes dL/d(output) and returns dL/d(input), and sets the ``.grad`` of
each of its parameters (overwriting, not accumulating). Samples are rows: the first axis of
every input is the batch.
"""

from __future__ import annotations

import numpy as np

from .initializers import XavierNormal, Zeros
from .parameter import Parameter


class Layer:
    """Base class of every layer.

    Subclasses implement ``forward`` and ``backward`` and, if they have weights,
    ``parameters``. ``training`` is True while training and False while evaluating
    (:meth:`tinynet.Sequential.train` / :meth:`tinynet.Sequential.eval` set it), for layers
    such as dropout that behave differently.

    Example: a layer that doubles its input::

        class Double(Layer):
            def forward(self, x):
                return 2 * x

            def backward(self, grad_out):
                return 2 * grad_out
    """

    #: Whether ``backward`` must return dL/dx. :meth:`tinynet.Sequential.backward` clears it
    #: for the first layer while training, as nothing uses the gradient of the data; a layer
    #: may then return None and skip that work.
    input_grad = True

    def __init__(self):
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def parameters(self) -> list[Parameter]:
        """The layer's trainable parameters (none by default)."""
        return []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_size(layer: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: expected an integer {name}, received {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{layer}: expected {name} >= 1, received {value}")
    return int(value)


class Dense(Layer):
    """Fully connected layer: ``y = x @ W + b``.

    Args:
        in_features: size of each input sample, D.
        out_features: size of each output sample, K.
        regularizer: optional :class:`tinynet.Regularizer` on ``W`` (not on ``b``),
            e.g. ``L2(0.1)``.
        weight_init: initialiser of ``W``; default :class:`tinynet.XavierNormal`,
            N(0, 2 / (D + K)).
        bias_init: initialiser of ``b``; default :class:`tinynet.Zeros`.
        rng: the ``np.random.Generator`` the initialisers draw from (``W`` first, then ``b``);
            default a fresh unseeded generator.
        dtype: dtype of the parameters; float64 by default.

    Shape:
        - input ``x``: (N, D)
        - output ``y``: (N, K)
        - ``W``: (D, K), ``b``: (K,)

    Backward, for ``G = dL/dy``:  ``dL/dW = x.T @ G``, ``dL/db = sum_n G[n]``,
    ``dL/dx = G @ W.T``.

    Example:
        >>> rng = np.random.default_rng(12345)
        >>> dense = Dense(3072, 10, regularizer=L2(0.1), weight_init=Normal(0, 0.01),
        ...               bias_init=Normal(0, 0.01), rng=rng)
        >>> dense.forward(np.ones((100, 3072))).shape
        (100, 10)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        regularizer=None,
        weight_init=None,
        bias_init=None,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ):
        super().__init__()
        self.in_features = _check_size("Dense", "in_features", in_features)
        self.out_features = _check_size("Dense", "out_features", out_features)
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"{self.name}: expected rng to be a numpy.random.Generator, "
                f"received {type(rng).__name__}"
            )
        weight_init = XavierNormal() if weight_init is None else weight_init
        bias_init = Zeros() if bias_init is None else bias_init
        dtype = np.dtype(dtype)
        shape_w, shape_b = (self.in_features, self.out_features), (self.out_features,)
        self.W = Parameter(weight_init(shape_w, rng, dtype), "W", regularizer=regularizer)
        self.b = Parameter(bias_init(shape_b, rng, dtype), "b")
        self._x: np.ndarray | None = None

    @property
    def name(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"

    def forward(self, x):
        if getattr(x, "ndim", None) != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{self.name}: expected input of shape (N, {self.in_features}), "
                f"received {getattr(x, 'shape', type(x).__name__)}"
            )
        self._x = x
        return x @ self.W.data + self.b.data

    def backward(self, grad_out):
        if self._x is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        # (G.T @ x).T equals x.T @ G; OpenBLAS runs this thin product faster in that layout.
        self.W.grad = (grad_out.T @ self._x).T
        self.b.grad = grad_out.sum(axis=0)
        return grad_out @ self.W.data.T if self.input_grad else None

    def parameters(self):
        return [self.W, self.b]

    def __repr__(self) -> str:
        reg = self.W.regularizer
        return f"{self.name}" + (f" with {reg!r}" if reg is not None else "")
