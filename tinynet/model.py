"""Sequential: a model that chains layers and knows the cost's penalties."""

from __future__ import annotations

import numpy as np

from .layers import Layer
from .parameter import Parameter


class Sequential:
    """Layers applied one after the other: ``scores = layers[-1](...layers[0](x))``.

    ``backward(grad)`` runs the layers' backward in reverse order and then adds each
    regularised parameter's penalty gradient, so after it every ``.grad`` is the gradient of
    ``cost = loss + penalty()``, the quantity training minimises.

    Args:
        layers: a list of :class:`tinynet.Layer`.

    Example:
        >>> model = Sequential([Dense(3072, 10, regularizer=L2(0.1))])
        >>> scores = model.forward(np.zeros((5, 3072)))          # (5, 10)
        >>> [name for name, _ in model.named_parameters()]
        ['0.W', '0.b']
    """

    def __init__(self, layers):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: expected a Layer at position {i}, received {type(layer).__name__}"
                )
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Class scores (or the last layer's output) for inputs ``x``; caches for backward."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate dL/d(output); sets every parameter's ``.grad`` to d(cost)/d(param).

        Returns dL/d(input), or None with ``input_grad=False``, which lets the first layer
        skip computing it (training needs only the parameters' gradients).
        """
        first = self.layers[0] if self.layers else None
        if first is not None:
            first.input_grad = input_grad
        try:
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
        finally:
            if first is not None:
                first.input_grad = True
        for p in self.parameters():
            if p.regularizer is not None and p.grad is not None:
                p.grad = p.grad + p.regularizer.grad(p.data)
        return grad

    def parameters(self) -> list[Parameter]:
        """All trainable parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``(f"{layer index}.{parameter name}", parameter)`` pairs, e.g. ``("0.W", W)``."""
        return [
            (f"{i}.{p.name}", p) for i, layer in enumerate(self.layers) for p in layer.parameters()
        ]

    def penalty(self) -> float:
        """Sum of the regularizers' penalties, the part of the cost that is not the loss."""
        return sum(
            (p.regularizer.penalty(p.data) for p in self.parameters() if p.regularizer is not None),
            0.0,
        )

    def train(self) -> Sequential:
        """Put every layer in training mode (``layer.training = True``)."""
        return self._set_training(True)

    def eval(self) -> Sequential:
        """Put every layer in evaluation mode (``layer.training = False``)."""
        return self._set_training(False)

    def _set_training(self, mode: bool) -> Sequential:
        self.training = mode
        for layer in self.layers:
            layer.training = mode
        return self

    def __repr__(self) -> str:
        body = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({body}\n)"
