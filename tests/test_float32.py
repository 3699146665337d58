"""float32 data and float32 layers stay float32 through every array of training."""

import numpy as np
import pytest

from tinynet import L2, SGD, Callback, Dense, Normal, Sequential, SoftmaxCrossEntropy, Trainer


class Recorder(SoftmaxCrossEntropy):
    """The loss, noting the dtype of every array it receives and returns."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def forward(self, scores, y):
        self.seen.append(("scores", scores.dtype))
        value = super().forward(scores, y)
        self.seen.append(("probabilities", self.probabilities.dtype))
        return value

    def backward(self):
        grad = super().backward()
        self.seen.append(("loss grad", grad.dtype))
        return grad


class ParameterDtypes(Callback):
    """After every step, the dtype of every parameter's data and gradient."""

    def __init__(self, seen):
        self.seen = seen

    def on_batch_end(self, batch, logs=None):
        for name, p in self.trainer.model.named_parameters():
            self.seen.append((f"{name}.data", p.data.dtype))
            self.seen.append((f"{name}.grad", p.grad.dtype))


def build(lam=0.1, k=4, d=12):
    rng = np.random.default_rng(12345)
    layers = [
        Dense(d, 8, regularizer=L2(lam), weight_init=Normal(0, 0.1), rng=rng, dtype=np.float32),
        Dense(8, k, regularizer=L2(lam), weight_init=Normal(0, 0.1), rng=rng, dtype=np.float32),
    ]
    return Sequential(layers)


def data(n=60, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, k, n)


@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_every_array_of_a_training_step_stays_float32(lam):
    X, y = data()
    model = build(lam)
    seen = []
    trainer = Trainer(
        model, Recorder(seen), SGD(model.parameters(), lr=0.1), callbacks=[ParameterDtypes(seen)]
    )
    history = trainer.fit(X, y, epochs=2, batch_size=16, validation_data=data(seed=1))

    names = {name for name, _ in seen}
    assert {"scores", "probabilities", "loss grad", "0.W.grad", "1.b.data"} <= names
    wrong = sorted({(name, str(dtype)) for name, dtype in seen if dtype != np.float32})
    assert wrong == []
    assert all(isinstance(v, float) for values in history.history.values() for v in values)


def test_layer_outputs_and_input_gradients_stay_float32():
    X, y = data()
    model = build()
    loss = SoftmaxCrossEntropy()
    scores = model.forward(X)
    loss.forward(scores, y)
    grad_x = model.backward(loss.backward())
    assert scores.dtype == grad_x.dtype == np.float32
    for layer in model.layers:
        assert layer.forward(np.ones((3, layer.in_features), np.float32)).dtype == np.float32
        assert layer.backward(np.ones((3, layer.out_features), np.float32)).dtype == np.float32


def test_evaluation_and_prediction_of_float32_data():
    X, y = data(n=2500)
    model = build()
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1))
    before = [p.data.copy() for p in model.parameters()]
    result = trainer.evaluate(X, y)
    assert all(isinstance(v, float) for v in result.values())
    assert trainer.predict(X).shape == (2500,)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    for p, old in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)
