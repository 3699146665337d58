import numpy as np
import pytest

from tinynet import SoftmaxCrossEntropy
from tinynet.gradcheck import assert_loss_gradients


def reference_cross_entropy(scores, y):
    """Written out by the definition, in float64 with an explicit log-sum-exp."""
    total = 0.0
    for s, label in zip(scores, y, strict=True):
        m = max(s)
        log_z = m + np.log(sum(np.exp(v - m) for v in s))
        total += log_z - s[label]
    return total / len(y)


@pytest.mark.parametrize("n, k", [(1, 2), (5, 3), (8, 10), (20, 7)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences(n, k, seed):
    rng = np.random.default_rng(seed)
    scores, y = rng.standard_normal((n, k)), rng.integers(0, k, n)
    assert assert_loss_gradients(SoftmaxCrossEntropy(), scores, y, tol=1e-7) < 1e-7


def test_value_matches_definition():
    rng = np.random.default_rng(4)
    scores, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    assert SoftmaxCrossEntropy().forward(scores, y) == pytest.approx(
        reference_cross_entropy(scores, y), rel=1e-14
    )


def test_uniform_scores_give_log_k_and_gradient_sums_to_zero():
    loss = SoftmaxCrossEntropy()
    assert loss.forward(np.zeros((4, 10)), np.array([0, 3, 9, 1])) == pytest.approx(np.log(10))
    grad = loss.backward()
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-16)
    assert grad[0, 0] == pytest.approx((0.1 - 1) / 4)


def test_stable_for_scores_in_the_thousands():
    loss = SoftmaxCrossEntropy()
    scores = np.array([[5000.0, 0.0, -3000.0], [1000.0, 1001.0, 999.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(scores, np.array([1, 1]))
        grad = loss.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(reference_cross_entropy(scores, [1, 1]), rel=1e-12)


@pytest.mark.parametrize(
    "y, error, match",
    [
        (np.array([0, 3]), ValueError, r"labels in \[0, 3\), received 3"),
        (np.array([-1, 0]), ValueError, r"received -1"),
        (np.array([0.0, 1.0]), TypeError, "integer class labels"),
        (np.array([0, 1, 2]), ValueError, r"shape \(2,\)"),
    ],
)
def test_bad_labels_are_refused(y, error, match):
    with pytest.raises(error, match=match):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), y)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        SoftmaxCrossEntropy().backward()
