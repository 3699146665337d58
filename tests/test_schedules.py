import math

import numpy as np
import pytest

from tinynet import (
    SGD,
    CyclicLR,
    Dense,
    LearningRateScheduler,
    Sequential,
    SoftmaxCrossEntropy,
    StepDecay,
    Trainer,
)


def course_cyclic_lr(t, eta_min, eta_max, n_s):
    """The course's two-case formula for the triangular cycle, written out."""
    l = t // (2 * n_s)  # noqa: E741 (the course's name for the cycle index)
    if 2 * l * n_s <= t <= (2 * l + 1) * n_s:
        return eta_min + (t - 2 * l * n_s) / n_s * (eta_max - eta_min)
    return eta_max - (t - (2 * l + 1) * n_s) / n_s * (eta_max - eta_min)


def make_trainer(callbacks, lr=0.01, n=50, d=3, k=2):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
    model = Sequential([Dense(d, k, rng=rng)])
    return Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr), callbacks), X, y


@pytest.mark.parametrize("n_s", [1, 2, 7, 900])
def test_cyclic_lr_follows_the_course_formula(n_s):
    clr = CyclicLR(eta_min=1e-5, eta_max=1e-1, n_s=n_s)
    for t in range(0, 6 * n_s + 1, max(1, n_s // 50)):
        assert clr.lr_at(t) == pytest.approx(course_cyclic_lr(t, 1e-5, 1e-1, n_s), rel=1e-12)
    assert clr.lr_at(0) == 1e-5 and clr.lr_at(n_s) == 1e-1 and clr.lr_at(2 * n_s) == 1e-5
    assert clr.lr_at(5 * n_s) == 1e-1


def test_cyclic_lr_sets_every_step_and_history_records_it():
    clr = CyclicLR(eta_min=0.01, eta_max=0.05, n_s=4)
    trainer, X, y = make_trainer([clr])
    history = trainer.fit(X, y, epochs=3, batch_size=10)  # 5 steps an epoch, 15 in all
    expected = [course_cyclic_lr(t, 0.01, 0.05, 4) for t in range(15)]
    np.testing.assert_allclose(history.batch_lr, expected, rtol=1e-12)
    assert len(history.batch_lr) == len(history.batch_loss) == 15


def test_cyclic_lr_steps_change_the_weights_as_plain_sgd_with_those_rates():
    """The schedule's rates, replayed by hand with plain SGD, give the same weights."""
    trainer, X, y = make_trainer([CyclicLR(0.01, 0.2, n_s=3)])
    reference, _, _ = make_trainer([])
    trainer.fit(X, y, epochs=2, batch_size=25)
    for t in range(4):
        reference.optimizer.lr = course_cyclic_lr(t, 0.01, 0.2, 3)
        start = (t % 2) * 25
        reference.train_step(X[start : start + 25], y[start : start + 25])
    for ours, theirs in zip(trainer.model.parameters(), reference.model.parameters(), strict=True):
        np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-13)


def test_cyclic_lr_stops_after_whole_cycles_and_restarts_with_each_fit():
    clr = CyclicLR(eta_min=0.01, eta_max=0.05, n_s=3, cycles=2)  # 12 updates
    trainer, X, y = make_trainer([clr])
    history = trainer.fit(X, y, epochs=10, batch_size=10)
    assert len(history.batch_lr) == 12 and len(history.epoch) == 3  # stopped mid-epoch 3
    assert history.batch_lr[-1] == pytest.approx(course_cyclic_lr(11, 0.01, 0.05, 3))
    history = trainer.fit(X, y, epochs=1, batch_size=10)
    assert history.batch_lr[0] == 0.01


def test_constant_lr_is_recorded_without_a_schedule():
    trainer, X, y = make_trainer([], lr=0.03)
    assert trainer.fit(X, y, epochs=2, batch_size=20).batch_lr == [0.03] * 6


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (10, 0.9)])
def test_step_decay_follows_its_formula(step_size, gamma):
    decay = StepDecay(step_size, gamma, initial_lr=0.02)
    for epoch in range(25):
        expected = 0.02 * gamma ** math.floor(epoch / step_size)
        assert decay.lr_at(epoch) == pytest.approx(expected, rel=1e-12)


def test_step_decay_sets_the_rate_per_epoch_from_the_optimizers_initial_rate():
    trainer, X, y = make_trainer([StepDecay(step_size=2, gamma=0.1)], lr=0.1)
    history = trainer.fit(X, y, epochs=5, batch_size=25)  # 2 steps an epoch
    expected = [0.1] * 4 + [0.01] * 4 + [0.001] * 2
    np.testing.assert_allclose(history.batch_lr, expected, rtol=1e-12)
    history = trainer.fit(X, y, epochs=1, batch_size=25)  # a new fit starts from 0.1 again
    assert history.batch_lr == [0.1, 0.1]


def test_learning_rate_scheduler_with_a_function_per_step_and_per_epoch():
    trainer, X, y = make_trainer([LearningRateScheduler(lambda t: 0.1 / (1 + t), per="step")])
    history = trainer.fit(X, y, epochs=2, batch_size=25)
    np.testing.assert_allclose(history.batch_lr, [0.1, 0.05, 0.1 / 3, 0.025])
    trainer, X, y = make_trainer([LearningRateScheduler(lambda e: 0.1 * (e + 1), per="epoch")])
    history = trainer.fit(X, y, epochs=2, batch_size=25)
    np.testing.assert_allclose(history.batch_lr, [0.1, 0.1, 0.2, 0.2])


def test_a_schedule_that_returns_a_bad_rate_is_refused():
    trainer, X, y = make_trainer([LearningRateScheduler(lambda t: 0.0)])
    with pytest.raises(ValueError, match="SGD lr: expected a positive finite number"):
        trainer.fit(X, y)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: CyclicLR(0.1, 0.01, 10), ValueError, "eta_max > eta_min"),
        (lambda: CyclicLR(0.0, 0.1, 10), ValueError, "eta_min"),
        (lambda: CyclicLR(1e-5, 0.1, 0), ValueError, "n_s"),
        (lambda: CyclicLR(1e-5, 0.1, 2.5), TypeError, "n_s"),
        (lambda: CyclicLR(1e-5, 0.1, 10, cycles=0), ValueError, "cycles"),
        (lambda: StepDecay(0), ValueError, "step_size"),
        (lambda: StepDecay(2, gamma=-1), ValueError, "gamma"),
        (lambda: LearningRateScheduler(0.1), TypeError, "callable"),
        (lambda: LearningRateScheduler().lr_at(0), TypeError, "schedule function"),
        (lambda: LearningRateScheduler(abs, per="batch"), ValueError, "per='step'"),
    ],
)
def test_schedules_refuse_bad_hyper_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()
