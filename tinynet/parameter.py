"""Parameter: a trainable array, its gradient and its name."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array with its gradient.

    Optimizers update ``data`` in place and never rebind it; a layer's ``backward``
    overwrites ``grad`` (one backward per forward, nothing to zero). A parameter may carry
    a regularizer, whose penalty is added to the cost that training minimises and whose
    gradient :meth:`tinynet.Sequential.backward` adds to ``grad``.

    Args:
        data: the initial values; stored as a numpy array (not copied if already one).
        name: a short name, unique within its layer (``"W"``, ``"b"``).
        regularizer: an optional :class:`tinynet.Regularizer` penalising ``data``.

    Example:
        >>> p = Parameter(np.zeros((3, 2)), name="W")
        >>> p.data.shape, p.grad
        ((3, 2), None)
    """

    def __init__(self, data, name: str = "", regularizer=None):
        self.data = np.asarray(data)
        self.grad: np.ndarray | None = None
        self.name = name
        if regularizer is not None and not (
            callable(getattr(regularizer, "penalty", None))
            and callable(getattr(regularizer, "grad", None))
        ):
            raise TypeError(
                f"Parameter {name!r}: expected a Regularizer such as L2(0.1) (with penalty and "
                f"grad methods) or None, received {type(regularizer).__name__} {regularizer!r}"
            )
        self.regularizer = regularizer

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __repr__(self) -> str:
        reg = f", regularizer={self.regularizer!r}" if self.regularizer is not None else ""
        return (
            f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype}{reg})"
        )
