import numpy as np
import pytest

from tinynet import (
    L2,
    SGD,
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    Normal,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    Trainer,
    XavierNormal,
    Zeros,
)
from tinynet.gradcheck import assert_layer_gradients, assert_model_gradients


@pytest.mark.parametrize("n, d, k", [(1, 1, 1), (4, 5, 3), (7, 12, 10), (3, 20, 2)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_gradients_match_finite_differences(n, d, k, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d, k, bias_init=Normal(0, 0.5), rng=rng)
    errors = assert_layer_gradients(layer, rng.standard_normal((n, d)), tol=1e-7, seed=seed)
    assert set(errors) == {"x", "W", "b"}


def test_dense_forward_is_affine_map():
    rng = np.random.default_rng(3)
    layer = Dense(6, 4, bias_init=Normal(0, 1), rng=rng)
    x = rng.standard_normal((5, 6))
    expected = np.array(
        [
            [
                sum(x[n, i] * layer.W.data[i, j] for i in range(6)) + layer.b.data[j]
                for j in range(4)
            ]
            for n in range(5)
        ]
    )
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13, atol=1e-14)


def test_dense_shapes_dtype_and_names():
    layer = Dense(3072, 10, regularizer=L2(0.1), rng=np.random.default_rng(0))
    assert layer.W.data.shape == (3072, 10) and layer.b.data.shape == (10,)
    assert layer.W.data.dtype == np.float64 and layer.b.data.dtype == np.float64
    assert [p.name for p in layer.parameters()] == ["W", "b"]
    assert isinstance(layer.W.regularizer, L2) and layer.b.regularizer is None


def test_dense_default_init_is_xavier_normal_and_zero_bias():
    layer = Dense(400, 100, rng=np.random.default_rng(0))
    assert np.all(layer.b.data == 0)
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)


def test_dense_init_draws_w_then_b_from_the_generator():
    layer = Dense(
        4,
        3,
        weight_init=Normal(0, 0.01),
        bias_init=Normal(0, 0.01),
        rng=np.random.default_rng(12345),
    )
    rng = np.random.default_rng(12345)
    np.testing.assert_array_equal(layer.W.data, rng.normal(0, 0.01, (4, 3)))
    np.testing.assert_array_equal(layer.b.data, rng.normal(0, 0.01, (3,)))


def test_dense_float32_stays_float32():
    layer = Dense(5, 3, rng=np.random.default_rng(0), dtype=np.float32)
    y = layer.forward(np.ones((2, 5), dtype=np.float32))
    grad = layer.backward(np.ones((2, 3), dtype=np.float32))
    assert y.dtype == grad.dtype == layer.W.grad.dtype == layer.b.grad.dtype == np.float32


def test_dense_wrong_input_shape_names_both_shapes():
    layer = Dense(3072, 10)
    with pytest.raises(
        ValueError,
        match=r"Dense\(3072 -> 10\): expected input of shape "
        r"\(N, 3072\), received \(100, 3071\)",
    ):
        layer.forward(np.zeros((100, 3071)))
    with pytest.raises(ValueError, match=r"received \(3072,\)"):
        layer.forward(np.zeros(3072))


@pytest.mark.parametrize(
    "args, error",
    [((0, 3), ValueError), ((3, -1), ValueError), ((2.5, 3), TypeError), ((True, 3), TypeError)],
)
def test_dense_rejects_bad_sizes(args, error):
    with pytest.raises(error, match="Dense"):
        Dense(*args)


def test_dense_rejects_non_generator_rng():
    with pytest.raises(TypeError, match="Generator"):
        Dense(2, 2, rng=42)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"regularizer": 0.1}, TypeError, r"expected a Regularizer such as L2\(0.1\).*float 0.1"),
        ({"weight_init": "normal"}, TypeError, r"expected weight_init to be an initialiser.*str"),
        (
            {"weight_init": lambda shape, rng, dtype: np.zeros(shape[0])},
            ValueError,
            r"Dense\(4 -> 3\): expected weight_init to return an array of shape \(4, 3\) and "
            r"dtype float64, received shape \(4,\) and dtype float64",
        ),
        (
            {"bias_init": lambda shape, rng, dtype: np.zeros(shape, dtype=np.float32)},
            ValueError,
            "expected bias_init to return .* received shape \\(3,\\) and dtype float32",
        ),
        ({"bias_init": lambda shape, rng, dtype: 0.0}, ValueError, "received float"),
    ],
)
def test_dense_refuses_a_bad_regularizer_or_initialiser(kwargs, error, match):
    with pytest.raises(error, match=match):
        Dense(4, 3, **kwargs)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        Dense(2, 2).backward(np.ones((1, 2)))


class Scale(Layer):
    """A user's layer: y = x * s, one learnable scale per feature."""

    def __init__(self, features):
        super().__init__()
        self.s = Parameter(np.ones(features), name="s")

    def forward(self, x):
        self.x = x
        return x * self.s.data

    def backward(self, grad_out):
        self.s.grad = (grad_out * self.x).sum(axis=0)
        return grad_out * self.s.data

    def parameters(self):
        return [self.s]


def test_user_layer_passes_the_gradient_checker():
    rng = np.random.default_rng(0)
    layer = Scale(4)
    layer.s.data = rng.standard_normal(4)
    assert max(assert_layer_gradients(layer, rng.standard_normal((3, 4))).values()) < 1e-9


def test_base_layer_defaults():
    layer = Layer()
    assert layer.training is True and layer.parameters() == []
    with pytest.raises(NotImplementedError):
        layer.forward(np.ones(1))


def test_initializers_shapes_and_values():
    rng = np.random.default_rng(0)
    assert Zeros()((2, 3), rng).sum() == 0
    assert XavierNormal()((2, 3), rng, np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="std"):
        Normal(0, 0)
    with pytest.raises(TypeError, match="real number"):
        Normal("0", 1)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="expected a Layer at position 1, received str"):
        Sequential([Dense(2, 2), "relu"])
    with pytest.raises(TypeError, match=r"received a single Dense; write Sequential\(\[layer"):
        Sequential(Dense(2, 2))


SHAPES = [(1, 1), (4, 5), (7, 12), (3, 20)]


def away_from_zero(rng, shape, gap=1e-3):
    """Normal samples with |x| >= gap, so a finite difference never crosses ReLU's kink."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < gap, np.sign(x + 0.5 * gap) * gap, x)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_gradients_match_finite_differences(shape, seed):
    rng = np.random.default_rng(seed)
    assert_layer_gradients(ReLU(), away_from_zero(rng, shape), tol=1e-8, seed=seed)


@pytest.mark.parametrize("layer", [Tanh, Sigmoid])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_smooth_activation_gradients_match_finite_differences(layer, shape, seed):
    rng = np.random.default_rng(seed)
    assert_layer_gradients(layer(), 2 * rng.standard_normal(shape), tol=1e-7, seed=seed)


def test_activation_values():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x), rtol=1e-15)
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    relu = ReLU()
    relu.forward(x)
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), [[0, 0, 0, 1, 1]])


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        y = Sigmoid().forward(np.array([[-1000.0, 1000.0]]))
    np.testing.assert_array_equal(y, [[0.0, 1.0]])


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Sigmoid(), Dropout(0.3), BatchNorm(3)])
def test_new_layers_refuse_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 3)))


# Not N = 2: two samples always normalise to about -1 and +1, whose gradient is ~0 (rounding).
@pytest.mark.parametrize("n, d", [(3, 1), (5, 3), (8, 10), (30, 4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_training_gradients_match_finite_differences(n, d, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm(d)
    layer.gamma.data[:] = rng.normal(1.0, 0.5, d)
    layer.beta.data[:] = rng.normal(0.0, 0.5, d)
    x = rng.normal(2.0, 3.0, (n, d))
    errors = assert_layer_gradients(layer, x, tol=1e-6, seed=seed)
    assert set(errors) == {"x", "gamma", "beta"}


@pytest.mark.parametrize("seed", [0, 1])
def test_batchnorm_eval_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm(4)
    layer.forward(rng.normal(1.0, 2.0, (20, 4)))
    layer.gamma.data[:] = rng.normal(1.0, 0.5, 4)
    layer.training = False
    assert_layer_gradients(layer, rng.standard_normal((3, 4)), tol=1e-7, seed=seed)


def test_batchnorm_normalises_and_tracks_running_statistics_like_pytorch():
    rng = np.random.default_rng(0)
    layer = BatchNorm(3, momentum=0.1)
    batches = [rng.normal([1.0, -2.0, 5.0], [0.5, 2.0, 3.0], (16, 3)) for _ in range(3)]
    mean, var = np.zeros(3), np.ones(3)
    for x in batches:
        y = layer.forward(x)
        np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-14)
        np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5))
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)
    layer.training = False
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-14)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)  # eval leaves them alone


def test_batchnorm_follows_the_model_mode():
    model = Sequential([Dense(4, 3, rng=np.random.default_rng(0)), BatchNorm(3)])
    model.eval()
    x = np.random.default_rng(1).standard_normal((6, 4))
    np.testing.assert_allclose(model.forward(x), model.layers[0].forward(x) / np.sqrt(1 + 1e-5))
    model.train()
    np.testing.assert_allclose(model.forward(x).mean(axis=0), 0, atol=1e-14)


def test_batchnorm_refuses_bad_input_and_hyper_parameters():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\): expected input of shape \(N, 3\), "):
        BatchNorm(3).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2 samples per batch in training mode"):
        BatchNorm(3).forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=0)
    with pytest.raises(TypeError, match="num_features"):
        BatchNorm(3.0)


class ReseededDropout(Dropout):
    """Dropout that draws the same mask at every forward, so finite differences can see it."""

    def forward(self, x):
        self.rng = np.random.default_rng(7)
        return super().forward(x)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("shape", SHAPES)
def test_dropout_gradients_match_finite_differences(p, shape):
    rng = np.random.default_rng(0)
    assert_layer_gradients(ReseededDropout(p), rng.standard_normal(shape), tol=1e-8)


def test_dropout_drops_with_probability_p_and_keeps_the_mean():
    drop = Dropout(0.3, rng=np.random.default_rng(0))
    y = drop.forward(np.ones((400, 500)))
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.005)
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    grad = drop.backward(np.ones_like(y))
    np.testing.assert_array_equal(grad, y)  # the same mask scales the gradient


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = np.random.default_rng(0).standard_normal((5, 4))
    drop = Dropout(0.5, rng=np.random.default_rng(0))
    drop.training = False
    np.testing.assert_array_equal(drop.forward(x), x)
    np.testing.assert_array_equal(drop.backward(x), x)
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_dropout_masks_follow_the_seed():
    x = np.ones((3, 8))
    a = Dropout(0.5, rng=np.random.default_rng(3)).forward(x)
    b = Dropout(0.5, rng=np.random.default_rng(3)).forward(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p, error", [(1.0, ValueError), (-0.1, ValueError), ("0.5", TypeError)])
def test_dropout_refuses_bad_probabilities(p, error):
    with pytest.raises(error, match="Dropout p"):
        Dropout(p)
    with pytest.raises(TypeError, match="Generator"):
        Dropout(0.5, rng=3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_model_with_l2_and_batchnorm_gradients_match(seed):
    rng = np.random.default_rng(seed)
    model = Sequential(
        [
            Dense(6, 5, regularizer=L2(0.1), bias_init=Normal(0, 0.5), rng=rng),
            BatchNorm(5),
            ReLU(),
            Dense(5, 3, regularizer=L2(0.05), bias_init=Normal(0, 0.5), rng=rng),
        ]
    )
    model.layers[1].gamma.data[:] = rng.normal(1.0, 0.3, 5)
    model.layers[1].beta.data[:] = rng.normal(0.0, 0.3, 5)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    hidden = model.layers[1].forward(model.layers[0].forward(x))
    assert np.abs(hidden).min() > 1e-3  # no ReLU kink within reach of the finite difference
    errors = assert_model_gradients(model, SoftmaxCrossEntropy(), x, y, tol=1e-6)
    assert set(errors) == {"0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b"}


def test_trainer_trains_dropout_and_batchnorm_and_evaluates_them_in_eval_mode():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 5)), rng.integers(0, 3, 60)
    model = Sequential(
        [Dense(5, 8, rng=rng), BatchNorm(8), ReLU(), Dropout(0.5, rng=rng), Dense(8, 3, rng=rng)]
    )
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1))
    history = trainer.fit(X, y, epochs=3, batch_size=20)
    assert all(np.isfinite(history.history["loss"]))
    assert trainer.evaluate(X, y) == trainer.evaluate(X, y)  # no dropout, running statistics
    assert all(layer.training for layer in model.layers)
    model.eval()
    expected = model.forward(X).argmax(axis=1)
    np.testing.assert_array_equal(trainer.predict(X), expected)
