"""Losses: ``forward(scores, y) -> float`` (mean over the batch), ``backward() -> dL/dscores``."""

from __future__ import annotations

import numpy as np

from .initializers import _check_number


class Loss:
    """Base class of losses.

    ``forward(scores, y)`` returns the mean loss over the batch as a float and caches what
    ``backward()`` needs; ``backward()`` returns dL/dscores, of the shape of ``scores``, with
    the 1/N of the mean included.
    """

    def forward(self, scores: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(scores, y)")

    def backward(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward()")

    def __call__(self, scores, y) -> float:
        return self.forward(scores, y)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_labels(name: str, scores, y) -> np.ndarray:
    """Validate integer class labels ``y`` of shape (N,) against ``scores`` of shape (N, K)."""
    if getattr(scores, "ndim", None) != 2:
        raise ValueError(
            f"{name}: expected scores of shape (N, K), "
            f"received {getattr(scores, 'shape', type(scores).__name__)}"
        )
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name}: expected integer class labels, received dtype {y.dtype}")
    n, k = scores.shape
    if y.shape != (n,):
        raise ValueError(
            f"{name}: expected labels of shape ({n},) to match scores {scores.shape}, "
            f"received {y.shape}"
        )
    check_label_range(name, y, k)
    return y


def check_label_range(name: str, y: np.ndarray, n_classes: int) -> None:
    """Labels must index the ``n_classes`` class scores: ``0 <= y < n_classes``."""
    if len(y) and (y.min() < 0 or y.max() >= n_classes):  # cheap on every training step
        i = int(np.argmax((y < 0) | (y >= n_classes)))
        raise ValueError(
            f"{name}: expected labels in [0, {n_classes}), received {y[i]} (sample {i})"
        )


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, fused for stability.

    For scores ``s`` (N, K) and integer labels ``y`` (N,)::

        p = softmax(s) = exp(s - max s) / sum exp(s - max s)     (row-wise)
        L = -1/N * sum_n log p[n, y_n]
        dL/ds = (p - onehot(y)) / N

    Subtracting each row's maximum keeps ``exp`` from overflowing, so scores in the
    thousands give a finite loss.

    Shape:
        - scores: (N, K); y: (N,) integers in [0, K)
        - backward(): (N, K)

    Example:
        >>> loss = SoftmaxCrossEntropy()
        >>> round(loss.forward(np.zeros((4, 10)), np.array([0, 1, 2, 3])), 4)  # log(10)
        2.3026
        >>> loss.backward().shape
        (4, 10)
    """

    def __init__(self):
        self._probs: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._rows: np.ndarray | None = None

    def forward(self, scores, y):
        y = check_labels("SoftmaxCrossEntropy", scores, y)
        n = len(y)
        rows = np.arange(n)
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1)
        # -log p[n, y_n] = log(sum exp(shifted[n])) - shifted[n, y_n]; sum / n is np.mean's
        # arithmetic without its call overhead, which shows on every training step.
        loss = float((np.log(total) - shifted[rows, y]).sum()) / n if n else float("nan")
        exp /= total[:, None]
        self._probs, self._y, self._rows = exp, y, rows
        return loss

    def backward(self):
        if self._probs is None:
            raise RuntimeError("SoftmaxCrossEntropy: backward called before forward")
        grad = self._probs.copy()
        grad[self._rows, self._y] -= 1
        grad /= len(self._y)
        return grad

    @property
    def probabilities(self) -> np.ndarray | None:
        """The softmax probabilities of the last forward, (N, K)."""
        return self._probs


class MultiClassHinge(Loss):
    """Multi-class SVM (hinge) loss, as in Weston and Watkins and cs231n.

    For scores ``s`` (N, K) and integer labels ``y`` (N,)::

        m[n, j] = s[n, j] - s[n, y_n] + margin                         (j != y_n)
        L       = 1/N * sum_n sum_{j != y_n} max(0, m[n, j])
        dL/ds[n, j]   =  [m[n, j] > 0] / N                             (j != y_n)
        dL/ds[n, y_n] = -(number of j != y_n with m[n, j] > 0) / N

    At a kink (``m == 0``) the subgradient 0 is used, the choice ``max(0, m)``'s derivative
    makes when written ``[m > 0]``; finite differences disagree only exactly there.

    Args:
        margin: the required gap between the true class's score and the others', > 0.

    Shape:
        - scores: (N, K); y: (N,) integers in [0, K)
        - backward(): (N, K)

    Example:
        >>> loss = MultiClassHinge()
        >>> loss.forward(np.zeros((4, 10)), np.array([0, 1, 2, 3]))  # 9 margins of 1 each
        9.0
    """

    def __init__(self, margin: float = 1.0):
        self.margin = _check_number("MultiClassHinge margin", margin, positive=True)
        self._active: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, scores, y):
        y = check_labels("MultiClassHinge", scores, y)
        rows = np.arange(len(y))
        margins = scores - scores[rows, y][:, None] + self.margin
        margins[rows, y] = 0
        self._active, self._y = margins > 0, y
        self._dtype = scores.dtype
        return float(np.maximum(margins, 0).sum() / len(y))

    def backward(self):
        if self._active is None:
            raise RuntimeError("MultiClassHinge: backward called before forward")
        n = len(self._y)
        grad = self._active.astype(self._dtype)
        grad[np.arange(n), self._y] = -self._active.sum(axis=1)
        grad /= n
        return grad

    def __repr__(self) -> str:
        return f"MultiClassHinge(margin={self.margin})"
