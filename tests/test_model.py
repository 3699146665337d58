import numpy as np
import pytest

from tinynet import L2, Dense, Layer, MultiClassHinge, Normal, Sequential, SoftmaxCrossEntropy
from tinynet.gradcheck import assert_model_gradients


class Square(Layer):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return 2 * self.x * grad_out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("n, d, k", [(4, 6, 3), (10, 8, 10)])
def test_whole_model_cost_gradient_includes_l2(seed, lam, n, d, k):
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(d, k, regularizer=L2(lam), bias_init=Normal(0, 0.1), rng=rng)])
    x, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
    errors = assert_model_gradients(model, SoftmaxCrossEntropy(), x, y, tol=1e-7)
    assert set(errors) == {"0.W", "0.b"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_model_hinge_cost_gradient_includes_l2(seed):
    """The assignment's bonus cost: mean multi-class hinge + lam * ||W||^2.

    Scores are kept at least 1e-3 from every hinge's kink (s_j - s_y + 1 = 0), where
    centred differences would straddle it."""
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(6, 4, regularizer=L2(0.2), bias_init=Normal(0, 0.1), rng=rng)])
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
    s = model.forward(x)
    margins = s - s[np.arange(8), y][:, None] + 1
    margins[np.arange(8), y] = 1.0
    assert np.abs(margins).min() > 1e-3
    errors = assert_model_gradients(model, MultiClassHinge(), x, y, tol=1e-7)
    assert set(errors) == {"0.W", "0.b"}


def test_two_layer_model_with_a_user_layer_and_two_penalties():
    rng = np.random.default_rng(5)
    model = Sequential(
        [
            Dense(5, 7, regularizer=L2(0.3), rng=rng),
            Square(),
            Dense(7, 4, regularizer=L2(0.05), rng=rng),
        ]
    )
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 4, 6)
    errors = assert_model_gradients(model, SoftmaxCrossEntropy(), x, y, tol=1e-7)
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b"}


def test_penalty_is_sum_over_regularised_weights_only():
    rng = np.random.default_rng(0)
    a, b = Dense(3, 4, regularizer=L2(0.5), rng=rng), Dense(4, 2, rng=rng)
    model = Sequential([a, b])
    assert model.penalty() == pytest.approx(0.5 * np.sum(a.W.data**2), rel=1e-14)


def test_backward_adds_exactly_the_penalty_gradient():
    rng = np.random.default_rng(1)
    dense = Dense(3, 2, regularizer=L2(0.25), rng=rng)
    model, x, g = Sequential([dense]), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    model.forward(x)
    model.backward(g)
    np.testing.assert_allclose(dense.W.grad, x.T @ g + 0.5 * dense.W.data, rtol=1e-14)
    np.testing.assert_allclose(dense.b.grad, g.sum(axis=0), rtol=1e-14)


def test_named_parameters_and_modes():
    model = Sequential([Dense(2, 3), Square(), Dense(3, 2)])
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert len(model.parameters()) == 4
    model.eval()
    assert not model.training and not any(layer.training for layer in model.layers)
    model.train()
    assert model.training and all(layer.training for layer in model.layers)
    assert "Dense(2 -> 3)" in repr(model)


def test_weights_file_carries_batchnorm_running_statistics(tmp_path):
    from tinynet import BatchNorm, ReLU

    rng = np.random.default_rng(0)

    def build():
        return Sequential([Dense(5, 8, rng=rng), BatchNorm(8), ReLU(), Dense(8, 3, rng=rng)])

    model = build()
    x = 3 + 2 * rng.standard_normal((20, 5))
    for _ in range(5):
        model.forward(x)  # training mode: the running statistics move
    model.save_weights(tmp_path / "w.npz")
    assert [name for name, _ in model.named_buffers()] == ["1.running_mean", "1.running_var"]

    clone = build()
    clone.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(clone.layers[1].running_mean, model.layers[1].running_mean)
    np.testing.assert_array_equal(clone.layers[1].running_var, model.layers[1].running_var)
    np.testing.assert_array_equal(clone.eval().forward(x), model.eval().forward(x))
