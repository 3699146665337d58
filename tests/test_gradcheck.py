import numpy as np
import pytest

from tinynet import Dense, Layer, Parameter, Sequential, SoftmaxCrossEntropy
from tinynet.gradcheck import (
    GradientCheckError,
    assert_layer_gradients,
    check_layer_gradients,
    check_model_gradients,
    numerical_gradient,
    relative_error,
)


class WrongBias(Dense):
    """Dense with a bias gradient off by a factor 2 in one place."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.b.grad = self.b.grad.copy()
        self.b.grad[1] *= 2
        return grad_in


def test_numerical_gradient_of_a_cubic():
    x = np.array([1.0, -2.0, 0.5])
    numeric = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(numeric, 3 * x**2, rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored


def test_relative_error_formula():
    err = relative_error(np.array([1.0, 0.0, 1e-12]), np.array([1.1, 0.0, 0.0]))
    np.testing.assert_allclose(err, [0.1 / 2.1, 0.0, 1e-12 / 1e-8])


def test_detects_a_wrong_gradient_and_names_the_worst_entry():
    rng = np.random.default_rng(0)
    layer = WrongBias(4, 3, rng=rng)
    x = rng.standard_normal((5, 4))
    errors = check_layer_gradients(layer, x)
    assert errors["b"] > 0.1 and errors["W"] < 1e-8 and errors["x"] < 1e-8
    with pytest.raises(
        GradientCheckError,
        match=r"gradient of b is wrong.*at index \(1,\): "
        r"analytic .*, numerical ",
    ) as info:
        assert_layer_gradients(layer, x)
    assert "Dense(4 -> 3)" in str(info.value)
    assert isinstance(info.value, AssertionError)


def test_float32_input_and_parameters_are_refused():
    layer = Dense(3, 2)
    with pytest.raises(TypeError, match="expected input x of dtype float64, received float32"):
        check_layer_gradients(layer, np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="parameter 'W' of dtype float64, received float32"):
        check_layer_gradients(Dense(3, 2, dtype=np.float32), np.ones((2, 3)))


def test_missing_parameter_gradient_is_reported():
    class Forgetful(Layer):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones(3), "w")

        def forward(self, x):
            return x * self.w.data

        def backward(self, grad_out):
            return grad_out * self.w.data

        def parameters(self):
            return [self.w]

    with pytest.raises(GradientCheckError, match="gradient of w: expected an analytic gradient"):
        check_layer_gradients(Forgetful(), np.ones((2, 3)))


def test_model_check_flags_a_wrong_layer():
    rng = np.random.default_rng(2)
    model = Sequential([WrongBias(4, 3, rng=rng)])
    errors = check_model_gradients(
        model, SoftmaxCrossEntropy(), rng.standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    )
    assert errors["0.b"] > 0.1 and errors["0.W"] < 1e-7


class Flatten(Layer):
    """A user's layer whose forward returns a view of its input."""

    def forward(self, x):
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_out):
        return grad_out.reshape(self._shape)


class Identity(Layer):
    def forward(self, x):
        return x

    def backward(self, grad_out):
        return grad_out


@pytest.mark.parametrize("layer", [Flatten(), Identity()], ids=["flatten", "identity"])
def test_layers_returning_their_input_or_a_view_of_it_pass(layer):
    """The checker perturbs x in place: outputs that alias x must be copied before it does."""
    x = np.random.default_rng(3).standard_normal((4, 2, 3))
    errors = assert_layer_gradients(layer, x)
    assert errors["x"] < 1e-9


def test_non_float64_input_messages_say_what_was_received():
    with pytest.raises(TypeError, match="received int64"):
        check_layer_gradients(Identity(), np.ones((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="as a float64 numpy array, received list"):
        check_layer_gradients(Identity(), [[1.0, 2.0]])
