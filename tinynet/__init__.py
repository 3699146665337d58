"""tinynet: a small, exact, object-oriented deep-learning framework on numpy.

Example:
    >>> import numpy as np
    >>> from tinynet import Sequential, Dense, SoftmaxCrossEntropy, L2, SGD, Trainer
    >>> rng = np.random.default_rng(12345)
    >>> model = Sequential([Dense(3072, 10, regularizer=L2(0.1), rng=rng)])
    >>> trainer = Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.001))
"""

from .callbacks import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar
from .gradcheck import GradientCheckError
from .initializers import HeNormal, Initializer, Normal, XavierNormal, Zeros
from .layers import BatchNorm, Dense, Dropout, Layer, ReLU, Sigmoid, Tanh
from .losses import Loss, MultiClassHinge, SoftmaxCrossEntropy
from .metrics import accuracy
from .model import Sequential
from .optimizers import SGD, Adam, Optimizer
from .parameter import Parameter
from .regularizers import L2, Regularizer
from .schedules import CyclicLR, LearningRateScheduler, StepDecay
from .trainer import Trainer, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "Adam",
    "BatchNorm",
    "Callback",
    "CyclicLR",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "GradientCheckError",
    "HeNormal",
    "History",
    "Initializer",
    "L2",
    "Layer",
    "LearningRateScheduler",
    "Loss",
    "ModelCheckpoint",
    "MultiClassHinge",
    "Normal",
    "Optimizer",
    "Parameter",
    "ProgressBar",
    "ReLU",
    "Regularizer",
    "SGD",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "StepDecay",
    "Tanh",
    "Trainer",
    "TrainingDiverged",
    "XavierNormal",
    "Zeros",
    "accuracy",
]
