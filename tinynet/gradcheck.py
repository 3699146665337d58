"""Gradient checks by centred finite differences, for layers, losses and whole models.

For a scalar function f of an array x, the numerical gradient of each entry is::

    df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

compared with the analytic gradient by the relative error::

    err[i] = |a[i] - n[i]| / max(1e-8, |a[i]| + |n[i]|)

A layer is checked on ``f(x) = sum(layer.forward(x) * G)`` for a fixed random ``G``, whose
gradient is exactly what ``layer.backward(G)`` computes; the difference is taken between the
two outputs before summing (``sum((F(x + h) - F(x - h)) * G) / 2h``), which keeps the
rounding error of entries with small gradients far below that of differencing two sums.
Everything must be float64: in float32 the differences are noise of order 1e-2 and every
check would cry wolf. A correct layer gives errors around 1e-9 or less; the default
tolerance, 1e-6, leaves room for entries whose gradient is small next to the function.

Example, for a layer of your own::

    from tinynet.gradcheck import assert_layer_gradients
    assert_layer_gradients(MyLayer(...), np.random.default_rng(0).standard_normal((4, 5)))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DEFAULT_H = 1e-5
DEFAULT_TOL = 1e-6


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Centred-difference gradient of ``f()`` with respect to ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` takes no
    arguments and must read ``x`` (e.g. a layer whose parameter ``x`` is).

    Shape: returns an array of the shape of ``x``.
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f()
        x[idx] = old - h
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(
    forward: Callable[[], np.ndarray], x: np.ndarray, G: np.ndarray, h: float = DEFAULT_H
) -> np.ndarray:
    """Centred-difference gradient of ``sum(forward() * G)`` with respect to ``x``.

    ``forward`` takes no arguments, reads ``x`` (perturbed in place and restored) and returns
    an array of the shape of ``G``.
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        out_plus = np.array(forward(), dtype=np.float64)
        x[idx] = old - h
        out_minus = np.array(forward(), dtype=np.float64)  # a copy: forward may return a view of x
        x[idx] = old
        grad[idx] = np.sum((out_plus - out_minus) * G) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Entry-wise ``|a - n| / max(1e-8, |a| + |n|)``."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"relative_error: expected arrays of one shape, received "
            f"{analytic.shape} and {numeric.shape}"
        )
    return np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))


def _require_float64(what: str, array) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"gradient check: expected {what} as a float64 numpy array, "
            f"received {type(array).__name__}"
        )
    if array.dtype != np.float64:
        raise TypeError(
            f"gradient check: expected {what} of dtype float64, received {array.dtype} "
            "(finite differences need float64: in float32 they are ~1e-2 noise; "
            "use .astype(np.float64))"
        )


def _unique_names(params) -> list[str]:
    names, seen = [], set()
    for i, p in enumerate(params):
        name = p.name or f"param{i}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


class _Comparison:
    """Analytic vs numerical gradient of one array: max relative error and where."""

    def __init__(self, name: str, analytic: np.ndarray, numeric: np.ndarray):
        if analytic is None or np.shape(analytic) != numeric.shape:
            raise GradientCheckError(
                f"gradient of {name}: expected an analytic gradient of shape "
                f"{numeric.shape}, received "
                f"{None if analytic is None else np.shape(analytic)}"
            )
        err = relative_error(analytic, numeric)
        self.name = name
        self.index = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
        self.error = float(err[self.index]) if err.size else 0.0
        self.analytic = float(analytic[self.index]) if err.size else 0.0
        self.numeric = float(numeric[self.index]) if err.size else 0.0

    def message(self, owner: str, tol: float) -> str:
        index = tuple(int(i) for i in self.index)
        return (
            f"{owner}: gradient of {self.name} is wrong: max relative error "
            f"{self.error:.3e} > tol {tol:.0e} at index {index}: "
            f"analytic {self.analytic!r}, numerical {self.numeric!r}"
        )


def _compare_layer(layer, x, h, seed) -> list[_Comparison]:
    _require_float64("input x", x)
    params = layer.parameters()
    for p in params:
        _require_float64(f"parameter {p.name!r}", p.data)
    x = np.array(x, dtype=np.float64)
    G = np.random.default_rng(seed).standard_normal(np.shape(layer.forward(x)))
    grad_x = layer.backward(G)
    analytic = [None if a is None else np.array(a) for a in [grad_x] + [p.grad for p in params]]

    arrays = [x] + [p.data for p in params]
    names = ["x"] + _unique_names(params)
    return [
        _Comparison(name, a, numerical_gradient_array(lambda: layer.forward(x), arr, G, h))
        for name, a, arr in zip(names, analytic, arrays, strict=True)
    ]


def check_layer_gradients(
    layer, x: np.ndarray, *, h: float = DEFAULT_H, seed: int = 0
) -> dict[str, float]:
    """Max relative error of a layer's gradients, for its input and each parameter.

    Args:
        layer: any :class:`tinynet.Layer` (a user's own included), with float64 parameters.
        x: a float64 input of the shape the layer takes, e.g. (4, in_features).
        h: the finite-difference step.
        seed: seed of the random output gradient ``G``.

    Returns:
        ``{"x": err, "<param name>": err, ...}``, e.g. ``{"x": 3e-11, "W": 1e-10, "b": 4e-11}``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 5))
        >>> errors = check_layer_gradients(Dense(5, 3), x)
        >>> max(errors.values()) < 1e-7
        True
    """
    return {c.name: c.error for c in _compare_layer(layer, x, h, seed)}


def assert_layer_gradients(
    layer, x: np.ndarray, *, tol: float = DEFAULT_TOL, h: float = DEFAULT_H, seed: int = 0
) -> dict[str, float]:
    """Like :func:`check_layer_gradients`, but raise :class:`GradientCheckError` above ``tol``.

    The error names the layer, the array, the worst index and both values.
    """
    comparisons = _compare_layer(layer, x, h, seed)
    for c in comparisons:
        if not c.error <= tol:
            raise GradientCheckError(c.message(repr(layer), tol))
    return {c.name: c.error for c in comparisons}


def _compare_loss(loss, scores, y, h) -> _Comparison:
    _require_float64("scores", scores)
    scores = np.array(scores, dtype=np.float64)
    loss.forward(scores, y)
    analytic = loss.backward()
    return _Comparison(
        "scores", analytic, numerical_gradient(lambda: loss.forward(scores, y), scores, h)
    )


def check_loss_gradients(loss, scores: np.ndarray, y: np.ndarray, *, h: float = DEFAULT_H) -> float:
    """Max relative error of ``loss.backward()`` against finite differences of the loss."""
    return _compare_loss(loss, scores, y, h).error


def assert_loss_gradients(
    loss, scores, y, *, tol: float = DEFAULT_TOL, h: float = DEFAULT_H
) -> float:
    """Like :func:`check_loss_gradients`, but raise :class:`GradientCheckError` above ``tol``."""
    c = _compare_loss(loss, scores, y, h)
    if not c.error <= tol:
        raise GradientCheckError(c.message(repr(loss), tol))
    return c.error


def _compare_model(model, loss, x, y, h) -> list[_Comparison]:
    _require_float64("input x", x)
    named = model.named_parameters()
    for name, p in named:
        _require_float64(f"parameter {name!r}", p.data)
    x = np.array(x, dtype=np.float64)

    def cost():
        return loss.forward(model.forward(x), y) + model.penalty()

    cost()
    model.backward(loss.backward())
    analytic = [None if p.grad is None else np.array(p.grad) for _, p in named]
    return [
        _Comparison(name, a, numerical_gradient(cost, p.data, h))
        for (name, p), a in zip(named, analytic, strict=True)
    ]


def check_model_gradients(
    model, loss, x: np.ndarray, y: np.ndarray, *, h: float = DEFAULT_H
) -> dict[str, float]:
    """Max relative error of every parameter's gradient of the whole cost.

    The cost is ``loss.forward(model.forward(x), y) + model.penalty()``: what training
    minimises, regularisation included. Keys are ``model.named_parameters()`` names.

    Example:
        >>> model = Sequential([Dense(5, 3, regularizer=L2(0.1))])
        >>> x, y = np.random.default_rng(0).normal(size=(4, 5)), np.array([0, 2, 1, 0])
        >>> errors = check_model_gradients(model, SoftmaxCrossEntropy(), x, y)
        >>> sorted(errors)
        ['0.W', '0.b']
    """
    return {c.name: c.error for c in _compare_model(model, loss, x, y, h)}


def assert_model_gradients(
    model, loss, x, y, *, tol: float = DEFAULT_TOL, h: float = DEFAULT_H
) -> dict[str, float]:
    """Like :func:`check_model_gradients`, but raise :class:`GradientCheckError` above ``tol``."""
    comparisons = _compare_model(model, loss, x, y, h)
    for c in comparisons:
        if not c.error <= tol:
            raise GradientCheckError(c.message("model cost", tol))
    return {c.name: c.error for c in comparisons}
