import numpy as np
import pytest

from tinynet import L2
from tinynet.gradcheck import numerical_gradient, relative_error


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1,), (3, 4), (10, 2)])
@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0, 7.5])
def test_l2_gradient_matches_finite_differences(shape, lam, seed):
    reg = L2(lam)
    w = np.random.default_rng(seed).standard_normal(shape)
    numeric = numerical_gradient(lambda: reg.penalty(w), w)
    assert relative_error(reg.grad(w), numeric).max() < 1e-8


def test_l2_is_lam_times_sum_of_squares_without_a_half():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert L2(0.1).penalty(w) == pytest.approx(0.1 * 14.25, rel=1e-15)
    np.testing.assert_array_equal(L2(0.1).grad(w), 0.2 * w)


@pytest.mark.parametrize(
    "lam, error", [(-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]
)
def test_l2_rejects_bad_lambda(lam, error):
    with pytest.raises(error, match="L2 lam"):
        L2(lam)
