import numpy as np
import pytest

from tinynet import SGD, Adam, Dense, Optimizer, Parameter, Sequential


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


def test_optimizer_built_on_the_model_instead_of_its_parameters_gets_a_hint():
    model = Sequential([Dense(2, 2)])
    for wrong in (model, model.parameters):
        with pytest.raises(TypeError, match=r"did you mean model.parameters\(\)\?"):
            SGD(wrong, lr=0.1)


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


def run_steps(opt_factory, grads, start=1.0):
    """Apply one optimizer step per gradient to a scalar parameter; return the values."""
    p = Parameter(np.array([start]), "p")
    opt = opt_factory([p])
    values = []
    for g in grads:
        p.grad = np.array([g])
        opt.step()
        values.append(float(p.data[0]))
    return values


def test_sgd_without_momentum_is_the_plain_update_bit_for_bit():
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal((3, 4)), rng.standard_normal((5, 3, 4))
    p, q = Parameter(w0.copy(), "p"), Parameter(w0.copy(), "q")
    plain, zero = SGD([p], lr=0.01), SGD([q], lr=0.01, momentum=0.0)
    expected = w0.copy()
    for g in grads:
        p.grad, q.grad = g, g
        plain.step()
        zero.step()
        expected = expected - 0.01 * g
    np.testing.assert_array_equal(p.data, expected)
    np.testing.assert_array_equal(q.data, expected)
    assert not zero.state[q]  # no buffer is kept without momentum


def test_sgd_momentum_steps_computed_by_hand():
    # buf1 = g1 = 1;              w1 = 1 - 0.1 * 1        = 0.9
    # buf2 = 0.9 * 1 + 2 = 2.9;   w2 = 0.9 - 0.1 * 2.9    = 0.61
    # buf3 = 0.9 * 2.9 - 1 = 1.61; w3 = 0.61 - 0.1 * 1.61 = 0.449
    values = run_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9), [1.0, 2.0, -1.0])
    np.testing.assert_allclose(values, [0.9, 0.61, 0.449], rtol=1e-14)


def test_sgd_nesterov_steps_computed_by_hand():
    # buf1 = 1;   step1 = 1 + 0.9 * 1 = 1.9;      w1 = 1 - 0.19     = 0.81
    # buf2 = 2.9; step2 = 2 + 0.9 * 2.9 = 4.61;   w2 = 0.81 - 0.461 = 0.349
    values = run_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [1.0, 2.0])
    np.testing.assert_allclose(values, [0.81, 0.349], rtol=1e-14)


def test_adam_steps_computed_by_hand():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    # step 1, g = 1: m = 0.1, v = 0.001; m_hat = 1, v_hat = 1
    w1 = 1.0 - lr * 1.0 / (1.0 + eps)
    # step 2, g = 2: m = 0.9 * 0.1 + 0.1 * 2 = 0.29, v = 0.999 * 0.001 + 0.001 * 4 = 0.004999
    m_hat, v_hat = 0.29 / (1 - b1**2), 0.004999 / (1 - b2**2)
    w2 = w1 - lr * m_hat / (np.sqrt(v_hat) + eps)
    values = run_steps(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), eps=eps), [1.0, 2.0])
    np.testing.assert_allclose(values, [w1, w2], rtol=1e-14)


def test_adam_first_step_has_size_lr_whatever_the_gradient_scale():
    for g in (1e-6, 1.0, 1e6):
        (value,) = run_steps(lambda ps: Adam(ps, lr=0.01, eps=0.0), [g], start=0.0)
        assert value == pytest.approx(-0.01, rel=1e-12)


def test_momentum_and_adam_state_is_kept_per_parameter():
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(3), "b")
    for opt in (SGD([a, b], lr=0.1, momentum=0.5), Adam([a, b])):
        a.grad, b.grad = np.ones(2), None
        opt.step()
        assert a in opt.state and b not in opt.state


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"momentum": 1.0}, ValueError, "SGD momentum"),
        ({"momentum": -0.1}, ValueError, "SGD momentum"),
        ({"momentum": "0.9"}, TypeError, "SGD momentum"),
        ({"nesterov": True}, ValueError, "nesterov"),
        ({"momentum": 0.9, "nesterov": 1}, TypeError, "nesterov"),
    ],
)
def test_sgd_rejects_bad_momentum(kwargs, error, match):
    with pytest.raises(error, match=match):
        SGD(Dense(2, 2).parameters(), lr=0.1, **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": 0}, ValueError, "Adam lr"),
        ({"betas": (0.9, 1.0)}, ValueError, "Adam betas"),
        ({"betas": 0.9}, TypeError, "Adam betas"),
        ({"eps": -1e-8}, ValueError, "Adam eps"),
    ],
)
def test_adam_rejects_bad_hyper_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adam(Dense(2, 2).parameters(), **kwargs)
