import numpy as np
import pytest

from tinynet import L2, Dense, Layer, Normal, Parameter, Sequential, XavierNormal, Zeros
from tinynet.gradcheck import assert_layer_gradients


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
