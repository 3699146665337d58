"""Reliability: bad input, divergence, interrupts, weights files, checkpoints, hostile files.

Each user mistake or hostile file must meet a clear error (ValueError/TypeError saying what was
expected and what was received), never silent garbage or code execution; a run that stops early,
for whatever reason, keeps what it recorded.
"""

import math
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinynet import (
    L2,
    SGD,
    BatchNorm,
    Callback,
    Dense,
    Dropout,
    EarlyStopping,
    GradientCheckError,
    Layer,
    Loss,
    ModelCheckpoint,
    Normal,
    ProgressBar,
    Sequential,
    SoftmaxCrossEntropy,
    Trainer,
    TrainingDiverged,
)
from tinynet.datasets.cifar10 import load_batch
from tinynet.gradcheck import assert_layer_gradients, check_layer_gradients, check_loss_gradients


def make_problem(seed=0, n=60, d=12, k=4):
    rng = np.random.default_rng(seed)
    centres = 2 * rng.standard_normal((k, d))
    y = rng.integers(0, k, n)
    return centres[y] + rng.standard_normal((n, d)), y


def build(lr=0.1, lam=0.0, d=12, k=4, seed=12345, callbacks=None, **trainer_kwargs):
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(d, k, regularizer=L2(lam), bias_init=Normal(0, 0.01), rng=rng)])
    trainer = Trainer(
        model,
        SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=lr),
        callbacks=callbacks,
        **trainer_kwargs,
    )
    return model, trainer


def snapshot(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


class Events(Callback):
    """Records on_train_begin / on_train_end and the logs on_train_end received."""

    def __init__(self):
        self.began = False
        self.end_logs = None

    def on_train_begin(self, logs=None):
        self.began = True

    def on_train_end(self, logs=None):
        self.end_logs = logs


# ----------------------------------------------------------------------------------------------
# 3. Trainer.fit refuses bad data and arguments, before any training


X12, Y12 = make_problem(0, n=8)
NAN_AT_3 = X12.copy()
NAN_AT_3[3, 5] = np.nan
INF_AT_2 = X12.copy()
INF_AT_2[2, 0] = np.inf
NEG_INF = X12.copy()
NEG_INF[0, 0] = -np.inf


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (NAN_AT_3, Y12, ValueError, r"expected finite X, received NaN or inf \(first at sample 3"),
        (INF_AT_2, Y12, ValueError, r"expected finite X, received NaN or inf \(first at sample 2"),
        (NEG_INF, Y12, ValueError, "expected finite X"),
        (X12, Y12[:5], ValueError, r"expected labels y of shape \(8,\) .*received \(5,\)"),
        (X12[:0], Y12[:0], ValueError, "expected at least one sample"),
        (X12, Y12.astype(float), TypeError, "expected integer class labels, received dtype float"),
        (X12, np.eye(4, dtype=int)[Y12], ValueError, r"received \(8, 4\)"),
        (X12[0], Y12, ValueError, r"expected X of shape \(N, features\).*received shape \(12,\)"),
        (X12.astype(complex), Y12, TypeError, "expected real numeric X"),
        (X12.astype(object), Y12, TypeError, "expected real numeric X"),
        (X12.tolist(), Y12, TypeError, "expected X as a numpy array, received list"),
    ],
)
def test_fit_refuses_bad_data_before_training(X, y, error, match):
    events = Events()
    model, trainer = build(callbacks=[events])
    before = snapshot(model)
    with pytest.raises(error, match=match):
        trainer.fit(X, y)
    assert not events.began
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


@pytest.mark.parametrize(
    "validation_data, error, match",
    [
        ((NAN_AT_3, Y12), ValueError, "validation_data: expected finite X"),
        ((INF_AT_2, Y12), ValueError, "validation_data: expected finite X"),
        ((X12, Y12[:3]), ValueError, r"validation_data: expected labels y of shape \(8,\)"),
        ((X12, Y12 + 0.5), TypeError, "validation_data: expected integer class labels"),
        ((X12[:, :11], Y12), ValueError, r"samples of shape \(12,\) like X .*received \(8, 11\)"),
        ((X12,), TypeError, r"expected validation_data=\(X_val, y_val\), received tuple"),
    ],
)
def test_fit_refuses_bad_validation_data_before_training(validation_data, error, match):
    events = Events()
    _, trainer = build(callbacks=[events])
    with pytest.raises(error, match=match):
        trainer.fit(X12, Y12, validation_data=validation_data)
    assert not events.began


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "expected epochs >= 1, received 0"),
        ({"epochs": -3}, ValueError, "expected epochs >= 1, received -3"),
        ({"epochs": 1.5}, TypeError, "expected an integer epochs, received float"),
        ({"epochs": True}, TypeError, "expected an integer epochs, received bool"),
        ({"batch_size": 0}, ValueError, "expected batch_size >= 1, received 0"),
        ({"batch_size": -10}, ValueError, "expected batch_size >= 1, received -10"),
        ({"batch_size": 2.0}, TypeError, "expected an integer batch_size, received float"),
        ({"batch_size": True}, TypeError, "expected an integer batch_size, received bool"),
        ({"batch_size": "10"}, TypeError, "expected an integer batch_size, received str"),
    ],
)
def test_fit_refuses_bad_epochs_and_batch_size(kwargs, error, match):
    _, trainer = build()
    with pytest.raises(error, match=match):
        trainer.fit(X12, Y12, **kwargs)


def test_numpy_integer_sizes_are_accepted():
    _, trainer = build()
    history = trainer.fit(X12, Y12, epochs=np.int64(2), batch_size=np.int32(3))
    assert len(history.epoch) == 2 and len(history.batch_loss) == 2 * 3


def test_three_dimensional_X_into_dense_names_the_layer_and_both_shapes():
    events = Events()
    _, trainer = build(callbacks=[events])
    X3 = X12.reshape(8, 3, 4)
    with pytest.raises(
        ValueError, match=r"Dense\(12 -> 4\): expected input of shape \(N, 12\), received"
    ):
        trainer.fit(X3, Y12, batch_size=4)
    assert not events.began  # found by the label check's one-sample forward, before training


@pytest.mark.parametrize("bad", [7, 4, -1])
def test_labels_out_of_range_are_refused_before_any_step(bad):
    """A bad label in the last batch is found before the first step, not after nine."""
    model, trainer = build()
    X, y = make_problem(0, n=100)
    y[95] = bad
    before = snapshot(model)
    with pytest.raises(
        ValueError,
        match=rf"Trainer.fit: expected labels in \[0, 4\), received {bad} \(sample 95\)",
    ):
        trainer.fit(X, y, batch_size=10)
    assert trainer.history.batch_loss == []
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_validation_labels_out_of_range_are_refused_before_training():
    events = Events()
    _, trainer = build(callbacks=[events])
    with pytest.raises(ValueError, match=r"validation_data: expected labels in \[0, 4\)"):
        trainer.fit(X12, Y12, validation_data=(X12, np.full(8, 9)))
    assert not events.began


def test_the_label_check_draws_nothing_from_a_dropout_rng():
    """It reads the number of classes in evaluation mode, so the only draws from a dropout
    layer's generator are the masks of the training steps."""
    rng = np.random.default_rng(3)
    model = Sequential([Dropout(0.5, rng=rng), Dense(12, 4, rng=rng)])
    trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1))
    trainer.fit(X12, Y12, epochs=1, batch_size=4)
    expected = np.random.default_rng(3)
    Dense(12, 4, rng=expected)
    expected.random((4, 12)), expected.random((4, 12))  # the two batches' masks
    assert rng.bit_generator.state == expected.bit_generator.state


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"shuffle": "yes"}, TypeError, "expected shuffle True or False, received 'yes'"),
        (
            {"shuffle": True, "rng": "abc"},
            TypeError,
            "expected rng to be a numpy.random.Generator, an integer seed or None, received 'abc'",
        ),
        ({"shuffle": True, "rng": 1.5}, TypeError, "received 1.5"),
    ],
)
def test_fit_refuses_bad_shuffle_arguments(kwargs, error, match):
    _, trainer = build()
    with pytest.raises(error, match=match):
        trainer.fit(X12, Y12, **kwargs)


def test_predict_checks_its_input():
    _, trainer = build()
    with pytest.raises(ValueError, match="Trainer.predict: expected at least one sample"):
        trainer.predict(np.zeros((0, 12)))
    with pytest.raises(TypeError, match="Trainer.predict: expected X as a numpy array"):
        trainer.predict([[0.0] * 12])
    assert trainer.predict(X12).shape == (8,)


def test_trainer_refuses_an_optimizer_of_another_model():
    model, other = Sequential([Dense(12, 4)]), Sequential([Dense(12, 4)])
    with pytest.raises(ValueError, match=r"expected an optimizer built on this model's param"):
        Trainer(model, SoftmaxCrossEntropy(), SGD(other.parameters(), lr=0.1))
    # a subset (some parameters frozen) is fine
    Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters()[:1], lr=0.1))


def test_trainer_refuses_a_single_callback_with_a_hint():
    model = Sequential([Dense(12, 4)])
    with pytest.raises(TypeError, match=r"received a single ProgressBar; write callbacks=\["):
        Trainer(
            model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), callbacks=ProgressBar()
        )


# ----------------------------------------------------------------------------------------------
# 4. Constructors refuse nonsense (more cases in test_layers/test_optimizers/test_regularizers)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SGD(Dense(2, 2).parameters(), lr=0), ValueError, "expected a positive"),
        (lambda: SGD(Dense(2, 2).parameters(), lr=-0.1), ValueError, "received -0.1"),
        (lambda: Dense(0, 3), ValueError, "expected in_features >= 1, received 0"),
        (lambda: L2(-0.1), ValueError, "expected lam >= 0, received -0.1"),
    ],
)
def test_constructors_refuse_nonsense(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_trainer_refuses_a_bad_eval_batch_size():
    model, _ = build()
    with pytest.raises(ValueError, match="expected eval_batch_size >= 1, received 0"):
        Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), eval_batch_size=0)


# ----------------------------------------------------------------------------------------------
# 5. Divergence


def test_divergence_stops_at_the_first_nonfinite_loss_and_keeps_the_history():
    # With lr * 2 * lam = 2e10 the weights grow by that factor every step, overflow to inf,
    # and the scores and loss become NaN a few dozen steps in.
    X, y = make_problem(0, n=40)
    events = Events()
    model, trainer = build(lr=1e10, lam=1.0, callbacks=[events])
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        trainer.fit(X, y, epochs=100, batch_size=10, validation_data=(X, y))
    error = info.value
    assert isinstance(error, FloatingPointError)
    assert not math.isfinite(error.loss)
    assert f"batch {error.batch} in epoch {error.epoch}" in str(error)
    assert "diverged" in str(error) and "learning rate" in str(error)

    history = trainer.history
    steps = 4 * error.epoch + error.batch + 1
    assert len(history.batch_loss) == steps
    assert all(math.isfinite(v) for v in history.batch_loss[:-1])
    assert not math.isfinite(history.batch_loss[-1])
    assert history.epoch == list(range(error.epoch))  # the completed epochs are kept
    assert len(history.history["val_loss"]) == error.epoch
    assert events.end_logs == {"diverged": True}
    assert model.training


def test_divergence_takes_no_step_from_the_nonfinite_batch():
    """The parameters stay those before the batch whose loss was not finite."""
    X, y = make_problem(0, n=30)
    model = Sequential([Dense(12, 4, rng=np.random.default_rng(0))])
    loss = PoisonedLoss()
    kept = {}

    class KeepBefore(Callback):
        def on_batch_begin(self, batch, logs=None):
            kept.update(snapshot(self.trainer.model))

    trainer = Trainer(
        model,
        loss,
        SGD(model.parameters(), lr=0.1),
        callbacks=[PoisonAt(loss, 1, 2, math.nan), KeepBefore()],
    )
    with pytest.raises(TrainingDiverged):
        trainer.fit(X, y, epochs=3, batch_size=10)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, kept[name], err_msg=name)


class PoisonedLoss(Loss):
    """Cross-entropy that returns ``poison`` once, when it is set, instead of the loss."""

    def __init__(self):
        self.inner, self.poison = SoftmaxCrossEntropy(), None

    def forward(self, scores, y):
        value = self.inner.forward(scores, y)
        if self.poison is not None:
            value, self.poison = self.poison, None
        return value

    def backward(self):
        return self.inner.backward()


class PoisonAt(Callback):
    def __init__(self, loss, epoch, batch, value):
        self.loss, self.at, self.value, self.epoch = loss, (epoch, batch), value, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.loss.poison = self.value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_divergence_names_epoch_batch_and_value(bad):
    X, y = make_problem(0, n=30)
    model = Sequential([Dense(12, 4, rng=np.random.default_rng(0))])
    loss = PoisonedLoss()
    events = Events()
    trainer = Trainer(
        model,
        loss,
        SGD(model.parameters(), lr=0.1),
        callbacks=[PoisonAt(loss, 2, 1, bad), events],
    )
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(X, y, epochs=5, batch_size=10)
    assert (info.value.epoch, info.value.batch) == (2, 1)
    assert f"batch 1 in epoch 2 (counting from 0) is {bad}" in str(info.value)
    assert len(trainer.history.batch_loss) == 3 + 3 + 2 and trainer.history.epoch == [0, 1]
    assert events.end_logs == {"diverged": True}


def test_divergence_check_can_be_turned_off():
    X, y = make_problem(0, n=40)
    model, trainer = build(lr=1e10, lam=1.0, stop_on_nonfinite=False)
    with np.errstate(all="ignore"):
        history = trainer.fit(X, y, epochs=20, batch_size=10)
    assert len(history.batch_loss) == 80 and math.isnan(history.batch_loss[-1])


def test_training_diverged_pickles_with_its_attributes():
    error = pickle.loads(pickle.dumps(TrainingDiverged(3, 7, math.inf)))
    assert (error.epoch, error.batch, error.loss) == (3, 7, math.inf)
    assert "batch 7 in epoch 3" in str(error)


# ----------------------------------------------------------------------------------------------
# 6. Interrupts


class InterruptAt(Callback):
    def __init__(self, hook, epoch, batch=None):
        self.hook, self.at = hook, (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if self.hook == "on_batch_end" and (self.epoch, batch) == self.at:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "on_epoch_end" and epoch == self.at[0]:
            raise KeyboardInterrupt


@pytest.mark.parametrize("was_training", [True, False])
def test_interrupt_from_a_callback_keeps_history_and_calls_on_train_end(was_training):
    X, y = make_problem(0, n=40)
    events, bar = Events(), ProgressBar(disable=True)
    model, trainer = build(callbacks=[bar, InterruptAt("on_batch_end", 1, 2), events])
    model._set_training(was_training)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, y, epochs=5, batch_size=10, validation_data=(X, y))
    history = trainer.history
    assert history.epoch == [0] and len(history.history["val_accuracy"]) == 1
    assert len(history.batch_loss) == 4 + 3
    assert events.end_logs == {"interrupted": True}
    assert bar._bar is None  # closed by its on_train_end
    assert model.training is was_training
    assert all(layer.training is was_training for layer in model.layers)


def test_interrupt_during_evaluation_leaves_the_model_in_its_mode():
    X, y = make_problem(0, n=20)
    calls = {"eval": 0, "train": 0}

    class InterruptInEval(Layer):
        """Interrupts the first evaluation after a training step: the end of epoch 0."""

        def forward(self, x):
            calls["train"] += self.training
            if not self.training and calls["train"]:
                calls["eval"] += 1
                raise KeyboardInterrupt
            return x

        def backward(self, grad_out):
            return grad_out

    model = Sequential([InterruptInEval(), Dense(12, 4, rng=np.random.default_rng(0))])
    events = Events()
    trainer = Trainer(
        model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), callbacks=[events]
    )
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, y, epochs=3, batch_size=10)
    assert calls["eval"] == 1 and len(trainer.history.batch_loss) == 2
    assert model.training and all(layer.training for layer in model.layers)
    assert events.end_logs == {"interrupted": True}


class InterruptOnTrainBegin(Callback):
    def on_train_begin(self, logs=None):
        raise KeyboardInterrupt


def test_interrupt_from_on_train_begin_still_cleans_up():
    """The callbacks that began are ended (the bar closes), and the model's mode comes back;
    a callback whose on_train_begin never ran is not ended."""
    events, bar, late = Events(), ProgressBar(disable=True), Events()
    model, trainer = build(callbacks=[bar, events, InterruptOnTrainBegin(), late])
    model.eval()
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X12, Y12)
    assert events.end_logs == {"interrupted": True}
    assert bar._bar is None
    assert not late.began and late.end_logs is None
    assert not model.training and not any(layer.training for layer in model.layers)


def test_a_caught_interrupt_lets_training_continue_from_where_it_was():
    X, y = make_problem(0, n=40)
    model, trainer = build(callbacks=[InterruptAt("on_epoch_end", 1)])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, y, epochs=5, batch_size=10)
    assert trainer.history.epoch == [0, 1]  # History, attached first, recorded epoch 1
    trainer.callbacks = []
    before = snapshot(model)
    trainer.fit(X, y, epochs=1, batch_size=10)
    assert not np.array_equal(model.layers[0].W.data, before["0.W"])


# ----------------------------------------------------------------------------------------------
# 7. save_weights / load_weights


def two_layer(seed=0, hidden=5):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(12, hidden, rng=rng), Dense(hidden, 4, rng=rng)])


def test_weights_round_trip_in_place_to_exactly_the_given_path(tmp_path):
    model, other = two_layer(0), two_layer(1)
    path = tmp_path / "model.weights"  # no .npz suffix is added
    model.save_weights(path)
    assert sorted(os.listdir(tmp_path)) == ["model.weights"]
    arrays = [p.data for p in other.parameters()]
    other.load_weights(str(path))
    for (name, p), (_, q), data in zip(
        model.named_parameters(), other.named_parameters(), arrays, strict=True
    ):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert q.data is data  # copied into the existing array, not rebound
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["0.W", "0.b", "1.W", "1.b"]


def test_save_overwrites_atomically_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    model, other = two_layer(0), two_layer(1)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    good = path.read_bytes()

    def fails_midway(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fails_midway)
    with pytest.raises(OSError, match="disk full"):
        other.save_weights(path)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]


@pytest.mark.parametrize(
    "saved, match",
    [
        (
            lambda: two_layer(hidden=6),
            r"parameter '0.W': expected shape \(12, 5\), received \(12, 6\)",
        ),
        (lambda: Sequential([Dense(12, 4)]), r"parameter '1.W' is missing from the file"),
        (
            lambda: Sequential([Dense(12, 5), Dense(5, 4), Dense(4, 4)]),
            r"the file has a parameter '2.W' the model does not",
        ),
        (
            lambda: Sequential([Dense(12, 5, dtype=np.float32), Dense(5, 4, dtype=np.float32)]),
            "parameter '0.W': expected dtype float64, received float32",
        ),
    ],
)
def test_loading_into_another_architecture_names_the_parameter_and_changes_nothing(
    tmp_path, saved, match
):
    path = tmp_path / "w.npz"
    saved().save_weights(path)
    model = two_layer()
    before = snapshot(model)
    with pytest.raises(ValueError, match=match) as info:
        model.load_weights(path)
    assert str(path) in str(info.value)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_a_bad_last_parameter_leaves_the_first_ones_untouched(tmp_path):
    model = two_layer()
    arrays = {name: p.data + 1.0 for name, p in model.named_parameters()}
    arrays["1.b"] = np.zeros(5)
    np.savez(tmp_path / "w.npz", **arrays)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"'1.b': expected shape \(4,\), received \(5,\)"):
        model.load_weights(tmp_path / "w.npz")
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


class TouchesMarker:
    """Unpickling this object would create ``path``: the proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_weights_file_with_a_pickled_object_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    model = two_layer()
    arrays = {name: p.data for name, p in model.named_parameters()}
    evil = np.empty((12, 5), dtype=object)
    evil[...] = TouchesMarker(marker)
    arrays["0.W"] = evil
    np.savez(tmp_path / "w.npz", **arrays)  # np.savez pickles object arrays
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"w.npz.*'0.W' cannot be read.*allow_pickle=False"):
        model.load_weights(tmp_path / "w.npz")
    assert not marker.exists()
    np.testing.assert_array_equal(model.layers[0].W.data, before["0.W"])


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_posing_as_a_weights_file_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "w.npz"
    path.write_bytes(pickle.dumps(TouchesMarker(marker), protocol=protocol))
    with pytest.raises(ValueError, match=r"w.npz' is not a weights file"):
        two_layer().load_weights(path)
    assert not marker.exists()


def test_corrupt_weights_files_name_the_file(tmp_path):
    model = two_layer()
    good = tmp_path / "good.npz"
    model.save_weights(good)
    data = good.read_bytes()
    cases = {
        "empty.npz": b"",
        "text.npz": b"hello, not weights\n",
        "truncated.npz": data[: len(data) // 2],
        "npy.npz": b"\x93NUMPY" + data[6:],
    }
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF  # inside an array: the zip's CRC check catches it
    cases["flipped.npz"] = bytes(flipped)
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=name):
            model.load_weights(path)


def test_zip_entries_that_are_not_arrays_or_too_big_are_refused(tmp_path):
    model = Sequential([Dense(3, 2)])
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("0.W", b"raw bytes, no .npy header")
        zf.writestr("0.b.npy", b"")
    with pytest.raises(ValueError, match="'0.W': expected a numpy array entry"):
        model.load_weights(path)
    np.savez(path, **{"0.W": np.zeros((300, 300)), "0.b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"'0.W': expected shape \(3, 2\).*received an entry"):
        model.load_weights(path)


def test_missing_weights_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        two_layer().load_weights(tmp_path / "nothing.npz")


def test_save_refuses_duplicate_parameter_names(tmp_path):
    class TwoW(Layer):
        def parameters(self):
            return [Dense(2, 2).W, Dense(2, 2).W]

    with pytest.raises(ValueError, match="unique parameter names.*'0.W' twice"):
        Sequential([TwoW()]).save_weights(tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_as_weights_give_value_error(data):
    _load_weights_bytes(data, expect_error=True)


_VALID_WEIGHTS = None


def _valid_weights_bytes():
    global _VALID_WEIGHTS
    if _VALID_WEIGHTS is None:
        import io

        buffer = io.BytesIO()
        np.savez(
            buffer, **{name: p.data for name, p in Sequential([Dense(3, 2)]).named_parameters()}
        )
        _VALID_WEIGHTS = buffer.getvalue()
    return _VALID_WEIGHTS


def _load_weights_bytes(data, expect_error=False):
    import tempfile

    model = Sequential([Dense(3, 2, rng=np.random.default_rng(0))])
    before = snapshot(model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "w.npz")
        with open(path, "wb") as f:
            f.write(data)
        try:
            model.load_weights(path)
        except ValueError as e:
            assert path in str(e)
            for name, p in model.named_parameters():
                np.testing.assert_array_equal(p.data, before[name])
            return
    assert not expect_error
    assert [p.shape for p in model.parameters()] == [(3, 2), (2,)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_weights_files_give_value_error_or_a_valid_load(data):
    raw = bytearray(_valid_weights_bytes())
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=4)
    )
    for position, value in flips:
        raw[position] = value
    _load_weights_bytes(bytes(raw))


# ----------------------------------------------------------------------------------------------
# 8. ModelCheckpoint and EarlyStopping


class Script(Callback):
    """Overwrites a log with scripted values (placed before the callbacks under test) and keeps
    a copy of the parameters at each epoch's end."""

    def __init__(self, key, values):
        self.key, self.values, self.weights = key, list(values), []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(snapshot(self.trainer.model))


def test_model_checkpoint_keeps_the_best_epoch_on_disk(tmp_path):
    X, y = make_problem(0, n=30)
    path = tmp_path / "best.npz"
    script = Script("val_loss", [1.0, 0.5, 0.7, 0.4, 0.9, 0.45])
    checkpoint = ModelCheckpoint(path)
    model, trainer = build(callbacks=[script, checkpoint])
    trainer.fit(X, y, epochs=6, batch_size=10, validation_data=(X, y))
    assert (checkpoint.best, checkpoint.best_epoch, checkpoint.mode) == (0.4, 3, "min")
    fresh = Sequential([Dense(12, 4)])
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.layers[0].W.data, script.weights[3]["0.W"])
    assert sorted(os.listdir(tmp_path)) == ["best.npz"]


def test_model_checkpoint_auto_mode_maximises_accuracy_and_can_save_every_epoch(tmp_path):
    X, y = make_problem(0, n=30)
    saves = []
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="val_accuracy")
    latest = ModelCheckpoint(tmp_path / "latest.npz", monitor="loss", save_best_only=False)
    script = Script("val_accuracy", [0.2, 0.6, 0.5, math.nan])

    class CountSaves(Callback):
        def on_epoch_end(self, epoch, logs=None):
            saves.append(os.path.getmtime(tmp_path / "latest.npz"))

    model, trainer = build(callbacks=[script, best, latest, CountSaves()])
    trainer.fit(X, y, epochs=4, batch_size=10, validation_data=(X, y))
    assert (best.mode, best.best, best.best_epoch) == ("max", 0.6, 1)
    assert latest.mode == "min" and len(saves) == 4
    fresh = Sequential([Dense(12, 4)])
    fresh.load_weights(tmp_path / "latest.npz")
    np.testing.assert_array_equal(fresh.layers[0].W.data, model.layers[0].W.data)


def test_monitoring_a_missing_log_names_it_and_the_available_ones(tmp_path):
    X, y = make_problem(0, n=10)
    for callback in (ModelCheckpoint(tmp_path / "w.npz"), EarlyStopping()):
        _, trainer = build(callbacks=[callback])
        with pytest.raises(
            ValueError,
            match=r"expected monitor 'val_loss' in the epoch logs, received the keys "
            r"\['accuracy', 'cost', 'loss'\] \(pass validation_data",
        ):
            trainer.fit(X, y)


@pytest.mark.parametrize("cls", [ModelCheckpoint, EarlyStopping])
def test_callbacks_refuse_a_bad_mode_or_monitor(cls, tmp_path):
    args = (tmp_path / "w.npz",) if cls is ModelCheckpoint else ()
    with pytest.raises(ValueError, match="expected mode 'auto', 'min' or 'max', received 'best'"):
        cls(*args, mode="best")
    with pytest.raises(TypeError, match="expected monitor to be a log name"):
        cls(*args, monitor=None)


def test_model_checkpoint_refuses_a_missing_folder_before_training(tmp_path):
    events = Events()
    _, trainer = build(callbacks=[ModelCheckpoint(tmp_path / "no" / "w.npz"), events])
    with pytest.raises(ValueError, match="expected an existing folder"):
        trainer.fit(X12, Y12, validation_data=(X12, Y12))
    assert not events.began


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    X, y = make_problem(0, n=30)
    script = Script("val_loss", [1.0, 0.8, 0.85, 0.81, 0.9, 0.1, 0.1])
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model, trainer = build(callbacks=[script, stopper])
    W = model.layers[0].W.data
    history = trainer.fit(X, y, epochs=7, batch_size=10, validation_data=(X, y))
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (0.8, 1, 3)
    assert history.epoch == [0, 1, 2, 3]
    assert model.layers[0].W.data is W  # restored in place
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, script.weights[1][name])


@pytest.mark.parametrize(
    "values, kwargs, stopped, best_epoch",
    [
        ([1.0, 0.99, 0.98, 0.5], {"min_delta": 0.05, "patience": 1}, 1, 0),
        ([1.0, 0.9, 0.95], {"patience": 0}, 2, 1),
        ([0.1, 0.3, 0.2, 0.25], {"monitor": "val_accuracy", "patience": 2}, 3, 1),
        ([1.0, 2.0, 3.0], {"mode": "max", "patience": 0}, None, 2),
        ([math.nan, math.nan], {"patience": 1}, 0, None),
    ],
)
def test_early_stopping_semantics(values, kwargs, stopped, best_epoch):
    X, y = make_problem(0, n=10)
    monitor = kwargs.get("monitor", "val_loss")
    stopper = EarlyStopping(**kwargs)
    _, trainer = build(callbacks=[Script(monitor, values), stopper])
    trainer.fit(X, y, epochs=len(values), batch_size=10, validation_data=(X, y))
    assert (stopper.stopped_epoch, stopper.best_epoch) == (stopped, best_epoch)


def test_early_stopping_restores_the_best_weights_after_divergence():
    X, y = make_problem(0, n=40)
    stopper = EarlyStopping(monitor="loss", patience=100, restore_best_weights=True)
    model, trainer = build(lr=1e10, lam=1.0, callbacks=[stopper])
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged):
        trainer.fit(X, y, epochs=100, batch_size=10)
    assert stopper.best_epoch is not None
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_early_stopping_restores_batch_norm_running_statistics_too():
    """The best epoch's model is its parameters and its buffers: both come back."""
    X, y = make_problem(0, n=40)
    values = [1.0, 0.5, 2.0, 3.0]  # best at epoch 1
    kept = {}

    class Keep(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                kept.update({k: a.copy() for k, a in self.trainer.model.state_dict().items()})

    rng = np.random.default_rng(0)
    model = Sequential([Dense(12, 6, rng=rng), BatchNorm(6), Dense(6, 4, rng=rng)])
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    trainer = Trainer(
        model,
        SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        callbacks=[Script("val_loss", values), Keep(), stopper],
    )
    trainer.fit(X, y, epochs=4, batch_size=10, validation_data=(X, y))
    assert stopper.best_epoch == 1
    state = model.state_dict()
    assert sorted(state) == sorted(kept) and "1.running_mean" in state
    for name, array in state.items():
        np.testing.assert_array_equal(array, kept[name], err_msg=name)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"patience": -1}, ValueError, "expected patience >= 0, received -1"),
        ({"patience": 1.5}, TypeError, "expected an integer patience, received float"),
        ({"min_delta": -0.1}, ValueError, "expected a finite min_delta >= 0, received -0.1"),
        ({"min_delta": math.nan}, ValueError, "min_delta >= 0, received nan"),
        ({"min_delta": "0"}, TypeError, "expected a number min_delta, received str"),
    ],
)
def test_early_stopping_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)


# ----------------------------------------------------------------------------------------------
# 9. Properties over random small shapes: Dense, SoftmaxCrossEntropy, the gradient checker

SIZES = st.integers(1, 6)
SEEDS = st.integers(0, 2**32 - 1)
PROPERTY = settings(max_examples=50, deadline=None)


@PROPERTY
@given(n=SIZES, d=SIZES, k=SIZES, seed=SEEDS)
def test_dense_gradients_are_right_for_any_small_shape(n, d, k, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d, k, bias_init=Normal(0, 0.5), rng=rng)
    x = rng.standard_normal((n, d))
    errors = assert_layer_gradients(layer, x, seed=seed)
    assert set(errors) == {"x", "W", "b"}
    assert layer.forward(x).shape == (n, k)


@st.composite
def scores_and_labels(draw, low=-50.0, high=50.0):
    n, k = draw(SIZES), draw(SIZES)
    scores = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(low, high)))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return scores, labels


@PROPERTY
@given(scores_and_labels(), st.floats(-1e3, 1e3))
def test_cross_entropy_is_nonnegative_shift_invariant_and_its_gradient_is_exact(data, shift):
    scores, y = data
    loss = SoftmaxCrossEntropy()
    value = loss.forward(scores, y)
    grad = loss.backward()
    assert value >= 0 and math.isfinite(value)
    row_shift = shift * np.linspace(-1, 1, len(y))[:, None]
    assert loss.forward(scores + row_shift, y) == pytest.approx(value, rel=1e-9, abs=1e-9)
    # The gradient is (softmax - onehot) / N, computed here independently in a long way round.
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - np.eye(scores.shape[1])[y]) / len(y)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


@PROPERTY
@given(scores_and_labels(-2.0, 2.0))
def test_cross_entropy_passes_the_gradient_checker(data):
    # On scores of moderate size; far out, tiny probabilities meet the rounding of a loss that
    # is large, and any finite-difference check gets noisy.
    scores, y = data
    assert check_loss_gradients(SoftmaxCrossEntropy(), scores, y) < 1e-6


class BrokenDense(Dense):
    """Dense whose gradient of one array is off by ``delta`` at one entry."""

    def __init__(self, *args, broken, index, delta, **kwargs):
        super().__init__(*args, **kwargs)
        self.broken, self.index, self.delta = broken, index, delta

    def backward(self, grad_out):
        grad_x = super().backward(grad_out).copy()
        target = {"x": grad_x, "W": self.W.grad, "b": self.b.grad}[self.broken]
        target[tuple(i % s for i, s in zip(self.index, target.shape, strict=False))] += self.delta
        return grad_x


@PROPERTY
@given(
    n=SIZES,
    d=SIZES,
    k=SIZES,
    seed=SEEDS,
    broken=st.sampled_from(["x", "W", "b"]),
    index=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    delta=st.floats(1e-3, 10.0) | st.floats(-10.0, -1e-3),
)
def test_the_gradient_checker_always_catches_a_wrong_gradient(n, d, k, seed, broken, index, delta):
    rng = np.random.default_rng(seed)
    layer = BrokenDense(d, k, broken=broken, index=index, delta=delta, rng=rng)
    x = rng.standard_normal((n, d))
    errors = check_layer_gradients(layer, x, seed=seed)
    assert errors[broken] > 1e-6  # above the default tolerance: caught
    assert all(errors[name] < 1e-6 for name in errors if name != broken)
    with pytest.raises(GradientCheckError, match=f"gradient of {broken} is wrong"):
        assert_layer_gradients(layer, x, seed=seed)


@PROPERTY
@given(n=SIZES, d=SIZES, seed=SEEDS)
def test_the_gradient_checker_catches_a_missing_parameter_gradient(n, d, seed):
    class ForgetsBias(Dense):
        def backward(self, grad_out):
            grad_x = super().backward(grad_out)
            self.b.grad = None
            return grad_x

    rng = np.random.default_rng(seed)
    with pytest.raises(GradientCheckError, match="gradient of b: expected an analytic gradient"):
        check_layer_gradients(ForgetsBias(d, 3, rng=rng), rng.standard_normal((n, d)))


# ----------------------------------------------------------------------------------------------
# 1, 2. Hostile CIFAR-10 pickles (more in test_cifar10.py): every protocol, hidden in arrays


class RunsOsSystem:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("where", ["top", "labels", "object array"])
def test_a_cifar_payload_is_refused_in_any_protocol_and_never_runs(tmp_path, protocol, where):
    marker = tmp_path / "pwned"
    evil = RunsOsSystem(marker)
    data = np.zeros((2, 3072), np.uint8)
    payload = {
        "top": evil,
        "labels": {b"data": data, b"labels": [0, evil]},
        "object array": {b"data": np.array([evil, evil], dtype=object), b"labels": [0, 1]},
    }[where]
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(ValueError, match="data_batch_1") as info:
        load_batch(path)
    assert "refused" in str(info.value) or "not a valid CIFAR-10 pickle" in str(info.value)
    assert not marker.exists()
