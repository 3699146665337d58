import numpy as np
import pytest

from tinynet import SGD, Dense, Optimizer, Parameter


def test_sgd_updates_in_place_and_skips_parameters_without_gradient():
    a, b = Parameter(np.array([1.0, 2.0]), "a"), Parameter(np.array([3.0]), "b")
    data_a = a.data
    a.grad = np.array([0.5, -1.0])
    SGD([a, b], lr=0.1).step()
    assert a.data is data_a
    np.testing.assert_array_equal(a.data, [1.0 - 0.05, 2.0 + 0.1])
    np.testing.assert_array_equal(b.data, [3.0])


@pytest.mark.parametrize(
    "lr, error",
    [(0, ValueError), (-0.1, ValueError), (float("inf"), ValueError), (None, TypeError)],
)
def test_sgd_rejects_bad_learning_rates(lr, error):
    with pytest.raises(error, match="SGD lr"):
        SGD(Dense(2, 2).parameters(), lr=lr)


def test_optimizer_rejects_non_parameters_and_empty_lists():
    with pytest.raises(TypeError, match="expected Parameters"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="at least one parameter"):
        SGD([], lr=0.1)


def test_user_optimizer_keeps_state_per_parameter():
    class CountingSGD(Optimizer):
        def update(self, param, state):
            state["steps"] = state.get("steps", 0) + 1
            param.data -= self.lr * param.grad

    p, q = Parameter(np.zeros(2), "p"), Parameter(np.zeros(2), "q")
    opt = CountingSGD([p, q], lr=1.0)
    p.grad = np.ones(2)
    opt.step()
    opt.step()
    q.grad = np.ones(2)
    opt.step()
    assert opt.state[p]["steps"] == 3 and opt.state[q]["steps"] == 1
    np.testing.assert_array_equal(p.data, [-3.0, -3.0])
