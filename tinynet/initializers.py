"""Weight initialisers: callables ``init(shape, rng, dtype) -> ndarray``.

Each draws from the ``np.random.Generator`` it is given, so a seed fixes every weight.
A user's initialiser is any callable with the same signature.

Example:
    >>> rng = np.random.default_rng(0)
    >>> Normal(0.0, 0.01)((3, 2), rng).std() < 0.1
    True
"""

from __future__ import annotations

import numpy as np


def _check_number(name: str, value, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, received {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        expected = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{name}: expected {expected}, received {value!r}")
    return value


class Initializer:
    """Base class: ``__call__(shape, rng, dtype=np.float64) -> ndarray``."""

    def __call__(self, shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        raise NotImplementedError


class Normal(Initializer):
    """Draws from N(mean, std^2); the assignment's ``Normal(0, 0.01)``."""

    def __init__(self, mean: float = 0.0, std: float = 0.01):
        self.mean = _check_number("Normal mean", mean)
        self.std = _check_number("Normal std", std, positive=True)

    def __call__(self, shape, rng, dtype=np.float64):
        return rng.normal(self.mean, self.std, size=shape).astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"Normal(mean={self.mean}, std={self.std})"


class Zeros(Initializer):
    """All zeros (draws nothing from ``rng``)."""

    def __call__(self, shape, rng, dtype=np.float64):
        return np.zeros(shape, dtype=dtype)

    def __repr__(self) -> str:
        return "Zeros()"


class XavierNormal(Initializer):
    """Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out)) for a ``(fan_in, fan_out)`` matrix."""

    def __call__(self, shape, rng, dtype=np.float64):
        fan_in, fan_out = shape[0], shape[-1]
        std = np.sqrt(2.0 / (fan_in + fan_out))
        return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)

    def __repr__(self) -> str:
        return "XavierNormal()"


class HeNormal(Initializer):
    """He/Kaiming normal: N(0, 2 / fan_in), suited to ReLU networks."""

    def __call__(self, shape, rng, dtype=np.float64):
        std = np.sqrt(2.0 / shape[0])
        return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)

    def __repr__(self) -> str:
        return "HeNormal()"
