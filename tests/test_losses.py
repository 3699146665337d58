import numpy as np
import pytest

from tinynet import MultiClassHinge, SoftmaxCrossEntropy
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


def reference_hinge(scores, y, margin=1.0):
    """The assignment's SVM loss written by its definition, one sample and class at a time."""
    total = 0.0
    for s, label in zip(scores, y, strict=True):
        total += sum(max(0.0, s[j] - s[label] + margin) for j in range(len(s)) if j != label)
    return total / len(y)


def scores_away_from_kinks(rng, n, k, margin=1.0, gap=1e-3):
    """Random scores whose margins s_j - s_y + margin all lie at least ``gap`` from 0."""
    while True:
        scores, y = 2 * rng.standard_normal((n, k)), rng.integers(0, k, n)
        m = scores - scores[np.arange(n), y][:, None] + margin
        m[np.arange(n), y] = 1.0
        if np.abs(m).min() >= gap:
            return scores, y


@pytest.mark.parametrize("n, k", [(1, 2), (5, 3), (8, 10), (20, 7)])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_gradient_matches_finite_differences_away_from_kinks(n, k, seed, margin):
    scores, y = scores_away_from_kinks(np.random.default_rng(seed), n, k, margin)
    assert assert_loss_gradients(MultiClassHinge(margin), scores, y, tol=1e-8) < 1e-8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hinge_value_matches_definition(seed):
    rng = np.random.default_rng(seed)
    scores, y = rng.standard_normal((9, 6)), rng.integers(0, 6, 9)
    value = MultiClassHinge().forward(scores, y)
    assert value == pytest.approx(reference_hinge(scores, y), rel=1e-14)


def test_hinge_subgradient_at_the_kink_is_zero_and_rows_sum_to_zero():
    loss = MultiClassHinge()
    # row 0: margins 1 - 2 + 1 = 0 (the kink) and 0.5 - 2 + 1 < 0; row 1: margins 4 and 1
    scores = np.array([[2.0, 1.0, 0.5], [0.0, 3.0, 0.0]])
    assert loss.forward(scores, np.array([0, 0])) == (0.0 + 4.0 + 1.0) / 2
    grad = loss.backward()
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 0.0], [-1.0, 0.5, 0.5]])
    np.testing.assert_array_equal(grad.sum(axis=1), 0)


def test_hinge_is_zero_when_every_margin_is_met():
    loss = MultiClassHinge()
    assert loss.forward(np.array([[3.0, 1.0, 0.0]]), np.array([0])) == 0.0
    np.testing.assert_array_equal(loss.backward(), 0)


def test_hinge_refuses_bad_margin_labels_and_early_backward():
    with pytest.raises(ValueError, match="margin"):
        MultiClassHinge(margin=0)
    with pytest.raises(ValueError, match=r"MultiClassHinge: expected labels in \[0, 3\)"):
        MultiClassHinge().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(RuntimeError, match="before forward"):
        MultiClassHinge().backward()
