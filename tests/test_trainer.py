import numpy as np
import pytest
from test_layers import Scale

from tinynet import (
    L2,
    SGD,
    Callback,
    Dense,
    History,
    Layer,
    Normal,
    ProgressBar,
    Sequential,
    SoftmaxCrossEntropy,
    Trainer,
)


def make_problem(seed=0, n=230, d=12, k=4):
    rng = np.random.default_rng(seed)
    centres = 2 * rng.standard_normal((k, d))
    y = rng.integers(0, k, n)
    X = centres[y] + rng.standard_normal((n, d))
    return X, y


def build(lam, lr, d=12, k=4, seed=12345):
    rng = np.random.default_rng(seed)
    model = Sequential(
        [
            Dense(
                d,
                k,
                regularizer=L2(lam),
                weight_init=Normal(0, 0.01),
                bias_init=Normal(0, 0.01),
                rng=rng,
            )
        ]
    )
    return model, Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr))


def numpy_reference(X, y, Xv, yv, W, b, lam, eta, epochs, n_batch):
    """The assignment's procedure written as one plain numpy loop, independent of tinynet."""
    W, b = W.copy(), b.copy()
    records = {
        key: [] for key in ("loss", "cost", "accuracy", "val_loss", "val_cost", "val_accuracy")
    }

    def probabilities(data):
        s = data @ W + b
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def measure(data, labels, prefix):
        p = probabilities(data)
        loss = -np.mean(np.log(p[np.arange(len(labels)), labels]))
        records[prefix + "loss"].append(loss)
        records[prefix + "cost"].append(loss + lam * np.sum(W**2))
        records[prefix + "accuracy"].append(np.mean(p.argmax(axis=1) == labels))

    for _ in range(epochs):
        for start in range(0, len(X), n_batch):
            xb, yb = X[start : start + n_batch], y[start : start + n_batch]
            g = probabilities(xb)
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            grad_W = xb.T @ g + 2 * lam * W
            grad_b = g.sum(axis=0)
            W -= eta * grad_W
            b -= eta * grad_b
        measure(X, y, "")
        measure(Xv, yv, "val_")
    return W, b, records


@pytest.mark.parametrize(
    "lam, lr, batch_size", [(0.0, 0.1, 50), (0.1, 0.05, 100), (1.0, 0.01, 230), (0.01, 0.2, 7)]
)
def test_training_matches_an_independent_numpy_loop(lam, lr, batch_size):
    X, y = make_problem(0)
    Xv, yv = make_problem(1, n=90)
    model, trainer = build(lam, lr)
    dense = model.layers[0]
    W0, b0 = dense.W.data.copy(), dense.b.data.copy()
    history = trainer.fit(X, y, epochs=6, batch_size=batch_size, validation_data=(Xv, yv))
    W, b, ref = numpy_reference(X, y, Xv, yv, W0, b0, lam, lr, 6, batch_size)
    np.testing.assert_allclose(dense.W.data, W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense.b.data, b, rtol=1e-12, atol=1e-12)
    for key, values in ref.items():
        np.testing.assert_allclose(
            history.history[key], values, rtol=1e-12, atol=1e-12, err_msg=key
        )
    assert len(history.batch_loss) == 6 * -(-230 // batch_size)


def test_same_seed_gives_bit_identical_history():
    X, y = make_problem(0)

    def run():
        _, trainer = build(0.1, 0.1)
        return trainer.fit(X, y, epochs=3, batch_size=32, shuffle=True, rng=7)

    a, b = run(), run()
    assert a.history == b.history and a.batch_loss == b.batch_loss


def test_shuffle_changes_the_order_each_epoch_and_default_keeps_it():
    X, y = make_problem(0, n=20)
    seen = []

    class Recorder(Layer):
        def forward(self, x):
            if self.training:
                seen.append(x[:, 0].copy())
            return x

        def backward(self, grad_out):
            return grad_out

    def fit(**kwargs):
        seen.clear()
        model = Sequential([Recorder(), Dense(12, 4, rng=np.random.default_rng(0))])
        Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1)).fit(
            X, y, epochs=2, batch_size=20, **kwargs
        )
        return [s.copy() for s in seen]

    stored = fit()
    np.testing.assert_array_equal(stored[0], X[:, 0])
    np.testing.assert_array_equal(stored[1], X[:, 0])
    shuffled = fit(shuffle=True, rng=np.random.default_rng(1))
    assert not np.array_equal(shuffled[0], X[:, 0]) and not np.array_equal(shuffled[0], shuffled[1])
    np.testing.assert_array_equal(np.sort(shuffled[0]), np.sort(X[:, 0]))


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, "loss" in logs))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


def test_callback_hooks_run_in_keras_order():
    X, y = make_problem(0, n=5)
    model, _ = build(0.0, 0.1)
    recorder = Recorder()
    trainer = Trainer(
        model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), callbacks=[recorder]
    )
    history = trainer.fit(X, y, epochs=2, batch_size=3, validation_data=(X, y))
    keys = ["accuracy", "cost", "loss", "val_accuracy", "val_cost", "val_loss"]
    epoch = [("batch_begin", 0), ("batch_end", 0, True), ("batch_begin", 1), ("batch_end", 1, True)]
    assert recorder.events == [
        ("train_begin",),
        ("epoch_begin", 0),
        *epoch,
        ("epoch_end", 0, keys),
        ("epoch_begin", 1),
        *epoch,
        ("epoch_end", 1, keys),
        ("train_end",),
    ]
    assert isinstance(history, History) and history is trainer.history
    assert recorder.trainer is trainer


def test_stop_training_stops_after_the_current_batch():
    X, y = make_problem(0, n=100)

    class StopAt(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.trainer.stop_training = True

    model, _ = build(0.0, 0.1)
    trainer = Trainer(
        model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), callbacks=[StopAt()]
    )
    history = trainer.fit(X, y, epochs=5, batch_size=10)
    assert len(history.batch_loss) == 3
    assert history.epoch == [0] and len(history.history["loss"]) == 1


def test_evaluate_matches_a_direct_computation_and_chunks_do_not_matter():
    X, y = make_problem(3, n=101)
    model, trainer = build(0.5, 0.1)
    trainer.fit(X, y, epochs=1, batch_size=10)
    whole = trainer.evaluate(X, y)
    trainer.eval_batch_size = 7
    chunked = trainer.evaluate(X, y)
    scores = model.forward(X)
    loss = SoftmaxCrossEntropy().forward(scores, y)
    assert whole["loss"] == pytest.approx(loss, rel=1e-13)
    assert chunked["loss"] == pytest.approx(loss, rel=1e-13)
    assert whole["cost"] == pytest.approx(
        loss + 0.5 * np.sum(model.layers[0].W.data ** 2), rel=1e-13
    )
    assert whole["accuracy"] == chunked["accuracy"] == np.mean(scores.argmax(1) == y)
    np.testing.assert_array_equal(trainer.predict(X), scores.argmax(1))


def test_a_user_layer_trains_inside_sequential():
    X, y = make_problem(4)
    scale = Scale(12)
    model = Sequential([scale, Dense(12, 4, rng=np.random.default_rng(0))])
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1))
    history = trainer.fit(X, y, epochs=10, batch_size=23)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert not np.allclose(scale.s.data, 1.0)


def test_progress_bar_can_be_silenced(capsys):
    X, y = make_problem(0, n=20)
    model, _ = build(0.0, 0.1)
    trainer = Trainer(
        model,
        SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        callbacks=[ProgressBar(disable=True)],
    )
    trainer.fit(X, y, epochs=2, batch_size=10)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    trainer.callbacks = [ProgressBar()]
    history = trainer.fit(X, y, epochs=2, batch_size=10, validation_data=(X, y))
    err = capsys.readouterr().err
    assert "2/2" in err
    # the postfix shows the latest epoch's numbers
    assert f"loss={history.history['loss'][-1]:.4f}" in err
    assert f"val_accuracy={history.history['val_accuracy'][-1]:.4f}" in err


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "epochs >= 1, received 0"),
        ({"batch_size": 0}, ValueError, "batch_size >= 1, received 0"),
        ({"batch_size": 2.5}, TypeError, "integer batch_size, received float"),
        ({"validation_data": np.zeros(3)}, TypeError, r"validation_data=\(X_val, y_val\)"),
    ],
)
def test_fit_refuses_bad_arguments(kwargs, error, match):
    X, y = make_problem(0, n=10)
    _, trainer = build(0.0, 0.1)
    with pytest.raises(error, match=match):
        trainer.fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (np.full((4, 12), np.nan), np.zeros(4, int), ValueError, "finite X, received NaN"),
        (np.zeros((4, 12)), np.zeros(3, int), ValueError, r"shape \(4,\) to match X"),
        (np.zeros((4, 12)), np.zeros(4), TypeError, "integer class labels"),
        (np.zeros((0, 12)), np.zeros(0, int), ValueError, "at least one sample"),
        (np.zeros(12), np.zeros(12, int), ValueError, "samples as rows"),
        ([[0.0] * 12], [0], TypeError, "numpy array"),
    ],
)
def test_fit_refuses_bad_data(X, y, error, match):
    _, trainer = build(0.0, 0.1)
    with pytest.raises(error, match=match):
        trainer.fit(X, y)


def test_trainer_refuses_wrong_components():
    model, _ = build(0.0, 0.1)
    with pytest.raises(TypeError, match="expected loss to be a Loss, received function"):
        Trainer(model, lambda s, y: 0.0, SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="expected Callback objects"):
        Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), callbacks=[print])
