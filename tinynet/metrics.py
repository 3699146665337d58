"""Metrics computed from class scores."""

from __future__ import annotations

import numpy as np


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose highest score is at the true class.

    Args:
        scores: (N, K) class scores (or probabilities).
        y: (N,) integer labels.

    Example:
        >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        0.5
    """
    scores, y = np.asarray(scores), np.asarray(y)
    if scores.ndim != 2 or y.shape != scores.shape[:1]:
        raise ValueError(
            f"accuracy: expected scores (N, K) and labels (N,), "
            f"received {scores.shape} and {y.shape}"
        )
    return float(np.mean(scores.argmax(axis=1) == y)) if len(y) else float("nan")


def correct_count(scores: np.ndarray, y: np.ndarray) -> int:
    """Number of rows whose highest score is at the true class."""
    return int(np.count_nonzero(scores.argmax(axis=1) == y))
