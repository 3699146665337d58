"""Regularizers: a penalty on a weight array that is added to the training cost."""

from __future__ import annotations

import numpy as np

from .initializers import _check_number


class Regularizer:
    """Base class. ``penalty(W) -> float`` and its gradient ``grad(W) -> ndarray``.

    Attach one to a :class:`tinynet.Parameter` (``Dense(..., regularizer=L2(0.1))`` does this
    for its weight). Training minimises ``cost = loss + sum of penalties``; the model adds
    each ``grad`` to its parameter's gradient in ``backward``.
    """

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def grad(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class L2(Regularizer):
    """Squared L2 norm: ``penalty(W) = lam * sum(W**2)``, ``grad(W) = 2 * lam * W``.

    The convention of the DD2424 assignment and of Keras (no factor 1/2).

    Args:
        lam: the strength, ``lam >= 0``.

    Example:
        >>> L2(0.1).penalty(np.ones((2, 2)))
        0.4
    """

    def __init__(self, lam: float):
        lam = _check_number("L2 lam", lam)
        if lam < 0:
            raise ValueError(f"L2 lam: expected lam >= 0, received {lam!r}")
        self.lam = lam

    def penalty(self, w):
        return self.lam * float(np.vdot(w, w))

    def grad(self, w):
        return (2 * self.lam) * w

    def __repr__(self) -> str:
        return f"L2(lam={self.lam})"
