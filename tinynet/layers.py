"""Layers: the building blocks of a :class:`tinynet.Sequential` model.

A layer's ``forward(x)`` computes its output and caches what ``backward`` needs;
``backward(grad_out)`` takes dL/d(output) and returns dL/d(input), and sets the ``.grad`` of
each of its parameters (overwriting, not accumulating). Samples are rows: the first axis of
every input is the batch.
"""

from __future__ import annotations

import numpy as np

from .initializers import XavierNormal, Zeros, _check_number
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

    def buffers(self) -> dict[str, np.ndarray]:
        """State that is not trained but is saved with the weights, e.g. running statistics.

        Names map to the arrays themselves; :meth:`tinynet.Sequential.load_weights` writes
        into them in place. None by default.
        """
        return {}

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


def _check_rows(layer: str, x, features: int) -> None:
    """Inputs of a layer on rows: an array of shape (N, features)."""
    if getattr(x, "ndim", None) != 2 or x.shape[1] != features:
        raise ValueError(
            f"{layer}: expected input of shape (N, {features}), "
            f"received {getattr(x, 'shape', type(x).__name__)}"
        )


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
        dtype = np.dtype(dtype)
        shape_w, shape_b = (self.in_features, self.out_features), (self.out_features,)
        # W is kept in Fortran order, the layout of its gradient (see backward): the
        # optimizer's and the regulariser's element-wise updates then run over one layout.
        weight_init = XavierNormal() if weight_init is None else weight_init
        bias_init = Zeros() if bias_init is None else bias_init
        w = np.asfortranarray(self._initial("weight_init", weight_init, shape_w, rng, dtype))
        self.W = Parameter(w, "W", regularizer=regularizer)
        self.b = Parameter(self._initial("bias_init", bias_init, shape_b, rng, dtype), "b")
        self._x: np.ndarray | None = None

    def _initial(self, what, init, shape, rng, dtype) -> np.ndarray:
        """The array ``init(shape, rng, dtype)`` draws, checked."""
        if not callable(init):
            raise TypeError(
                f"{self.name}: expected {what} to be an initialiser such as Normal(0, 0.01), "
                f"received {type(init).__name__} {init!r}"
            )
        array = init(shape, rng, dtype)
        if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
            got = (
                f"shape {array.shape} and dtype {array.dtype}"
                if isinstance(array, np.ndarray)
                else type(array).__name__
            )
            raise ValueError(
                f"{self.name}: expected {what} to return an array of shape {shape} and dtype "
                f"{dtype}, received {got}"
            )
        return array

    @property
    def name(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"

    def forward(self, x):
        _check_rows(self.name, x, self.in_features)
        self._x = x
        W = self.W.data
        if x.dtype == np.float64 and len(x) >= 500 and W.shape[0] >= 8 * W.shape[1]:
            # OpenBLAS runs a many-row, wide-to-thin float64 product about 25 % faster in
            # this layout (not so for float32 or small batches): docs/performance.md.
            return (W.T @ x.T).T + self.b.data
        return x @ W + self.b.data

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


def _check_rng(layer: str, rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{layer}: expected rng to be a numpy.random.Generator, received {type(rng).__name__}"
        )
    return rng


def _require_forward(layer: str, cache) -> None:
    if cache is None:
        raise RuntimeError(f"{layer}: backward called before forward")


class ReLU(Layer):
    """Rectified linear unit, element-wise: ``y = max(0, x)``.

    Backward: ``dL/dx = dL/dy * [x > 0]``; at ``x == 0`` the subgradient 0 is used.

    Shape: input of any shape; output of the same shape.

    Example:
        >>> ReLU().forward(np.array([[-1.0, 0.0, 2.0]]))
        array([[0., 0., 2.]])
    """

    def __init__(self):
        super().__init__()
        self._mask: np.ndarray | None = None

    def forward(self, x):
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out):
        _require_forward("ReLU", self._mask)
        return grad_out * self._mask


class Tanh(Layer):
    """Hyperbolic tangent, element-wise: ``y = tanh(x)``, ``dy/dx = 1 - y**2``.

    Shape: input of any shape; output of the same shape.

    Example:
        >>> Tanh().forward(np.zeros((2, 3))).sum()
        0.0
    """

    def __init__(self):
        super().__init__()
        self._y: np.ndarray | None = None

    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out):
        _require_forward("Tanh", self._y)
        return grad_out * (1 - self._y**2)


class Sigmoid(Layer):
    """Logistic sigmoid, element-wise: ``y = 1 / (1 + exp(-x))``, ``dy/dx = y * (1 - y)``.

    Computed as ``(1 + tanh(x / 2)) / 2``, the same function without overflow in ``exp``.

    Shape: input of any shape; output of the same shape.

    Example:
        >>> Sigmoid().forward(np.array([[0.0, 1000.0, -1000.0]]))
        array([[0.5, 1. , 0. ]])
    """

    def __init__(self):
        super().__init__()
        self._y: np.ndarray | None = None

    def forward(self, x):
        self._y = 0.5 * (1 + np.tanh(0.5 * x))
        return self._y

    def backward(self, grad_out):
        _require_forward("Sigmoid", self._y)
        return grad_out * self._y * (1 - self._y)


class BatchNorm(Layer):
    """Batch normalisation over the features of (N, D) inputs (Ioffe and Szegedy, 2015).

    In training mode each feature is normalised with the batch's mean and (biased) variance,
    then scaled and shifted by learnable ``gamma`` and ``beta``::

        x_hat = (x - mean(x)) / sqrt(var(x) + eps)        (per feature, over the batch)
        y     = gamma * x_hat + beta

    and the running estimates used in evaluation mode are updated as in PyTorch::

        running_mean <- (1 - momentum) * running_mean + momentum * mean(x)
        running_var  <- (1 - momentum) * running_var  + momentum * var(x) * N / (N - 1)

    In evaluation mode (``model.eval()``, which :class:`tinynet.Trainer` sets while
    evaluating) ``x_hat = (x - running_mean) / sqrt(running_var + eps)``: a fixed affine map.

    Backward in training mode, for ``g = dL/dy`` and ``d = g * gamma`` (means over the batch)::

        dL/dgamma = sum_n g * x_hat,   dL/dbeta = sum_n g
        dL/dx     = (d - mean(d) - x_hat * mean(d * x_hat)) / sqrt(var(x) + eps)

    Args:
        num_features: D, the size of each input sample.
        momentum: weight of the newest batch in the running estimates, in (0, 1].
        eps: added to the variance for stability, > 0.
        dtype: dtype of ``gamma``, ``beta`` and the running estimates.

    Shape:
        - input ``x``: (N, D), N >= 2 in training mode
        - output ``y``: (N, D)
        - ``gamma``, ``beta``, ``running_mean``, ``running_var``: (D,)

    Example:
        >>> bn = BatchNorm(50)
        >>> y = bn.forward(np.random.default_rng(0).normal(3.0, 2.0, size=(100, 50)))
        >>> bool(np.allclose(y.mean(axis=0), 0) and np.allclose(y.std(axis=0), 1, atol=1e-4))
        True
    """

    def __init__(
        self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float64
    ):
        super().__init__()
        self.num_features = _check_size("BatchNorm", "num_features", num_features)
        self.momentum = _check_number("BatchNorm momentum", momentum, positive=True)
        if self.momentum > 1:
            raise ValueError(f"BatchNorm momentum: expected a value in (0, 1], received {momentum}")
        self.eps = _check_number("BatchNorm eps", eps, positive=True)
        dtype = np.dtype(dtype)
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), "gamma")
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), "beta")
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self._cache = None

    @property
    def name(self) -> str:
        return f"BatchNorm({self.num_features})"

    def forward(self, x):
        _check_rows(self.name, x, self.num_features)
        if self.training:
            n = len(x)
            if n < 2:
                raise ValueError(
                    f"{self.name}: expected at least 2 samples per batch in training mode, "
                    f"received {n}"
                )
            mean, var = x.mean(axis=0), x.var(axis=0)
            m = self.momentum  # in place, so buffers() and state_dict() stay the live arrays
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += m * var * (n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, self.training)
        return self.gamma.data * x_hat + self.beta.data

    def backward(self, grad_out):
        _require_forward(self.name, self._cache)
        x_hat, inv_std, training = self._cache
        self.gamma.grad = (grad_out * x_hat).sum(axis=0)
        self.beta.grad = grad_out.sum(axis=0)
        d = grad_out * self.gamma.data
        if not training:
            return d * inv_std
        return (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) * inv_std

    def parameters(self):
        return [self.gamma, self.beta]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def __repr__(self) -> str:
        return f"{self.name}"


class Dropout(Layer):
    """Inverted dropout: in training mode each entry is zeroed with probability ``p`` and the
    survivors are scaled by ``1 / (1 - p)``, so the expected output equals the input::

        mask = (u >= p) / (1 - p),   u ~ U[0, 1) drawn anew at every forward
        y    = x * mask,             dL/dx = dL/dy * mask

    In evaluation mode it is the identity (nothing to rescale at test time).

    Args:
        p: the probability of dropping an entry, in [0, 1).
        rng: the ``np.random.Generator`` the masks are drawn from; default unseeded.

    Shape: input of any shape; output of the same shape.

    Example:
        >>> drop = Dropout(0.5, rng=np.random.default_rng(0))
        >>> sorted(set(drop.forward(np.ones((4, 5))).ravel()))  # dropped or doubled
        [0.0, 2.0]
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None):
        super().__init__()
        self.p = _check_number("Dropout p", p)
        if not 0 <= self.p < 1:
            raise ValueError(f"Dropout p: expected a probability in [0, 1), received {p!r}")
        self.rng = _check_rng("Dropout", rng)
        self._mask: np.ndarray | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            self._mask = np.ones((), dtype=x.dtype)
            return x
        keep = self.rng.random(x.shape) >= self.p
        self._mask = keep.astype(x.dtype) / (1 - self.p)
        return x * self._mask

    def backward(self, grad_out):
        _require_forward("Dropout", self._mask)
        return grad_out * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
