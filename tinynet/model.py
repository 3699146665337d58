"""Sequential: a model that chains layers and knows the cost's penalties."""

from __future__ import annotations

import os
import secrets

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
        >>> model.save_weights("weights.npz")
        >>> model.load_weights("weights.npz")
    """

    def __init__(self, layers):
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise TypeError(
                f"Sequential: expected a list of layers, received a single "
                f"{type(layers).__name__}; write Sequential([layer, ...])"
            )
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

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """``(f"{layer index}.{buffer name}", array)`` pairs of the layers' non-trained state."""
        return [
            (f"{i}.{name}", array)
            for i, layer in enumerate(self.layers)
            for name, array in layer.buffers().items()
        ]

    def save_weights(self, path) -> None:
        """Write every parameter and buffer to the ``.npz`` file ``path``, keyed by its name.

        Keys are those of :meth:`named_parameters` and :meth:`named_buffers` (``"0.W"``,
        ``"1.running_mean"``). The file is written to a temporary file in the same folder and
        then renamed over ``path`` (``os.replace``), so ``path`` always holds either the old
        weights or all of the new ones, even if the program is killed meanwhile. It is written
        exactly at ``path``: no ``.npz`` suffix is added.

        Raises:
            ValueError: two parameters share a name, or one holds Python objects.
        """
        path = os.fspath(path)
        arrays = self.state_dict()
        for name, array in arrays.items():
            if array.dtype.hasobject:
                raise ValueError(
                    f"save_weights: expected numeric parameters, received {name!r} of dtype "
                    f"{array.dtype}"
                )
        folder, base = os.path.split(os.path.abspath(path))
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "xb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def load_weights(self, path) -> None:
        """Load parameters and buffers written by :meth:`save_weights`, in place, all or nothing.

        Every name, shape and dtype in the file must match this model's; any difference raises
        before a single array is changed. The file is read with ``allow_pickle=False``: an
        entry holding pickled Python objects is refused, and nothing in the file is ever
        executed.

        Raises:
            ValueError: naming the file and, for a mismatch, the parameter with what was
                expected and what was received; also for a file that is not a readable
                ``.npz`` archive (truncated, corrupt, a pickle).
        """
        path = os.fspath(path)
        targets = self.state_dict()
        for name, array in _read_weights(path, targets).items():
            targets[name][...] = array

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter's data and every buffer by name, as in a weights file.

        The arrays themselves, not copies (as in PyTorch): ``{"0.W": W.data, "0.b": b.data,
        "1.running_mean": ...}``. Copy them to keep a snapshot; write into them with
        ``array[...] = value`` to restore one.

        Raises:
            ValueError: two parameters or buffers of one layer share a name.
        """
        named = {}
        for name, array in [(n, p.data) for n, p in self.named_parameters()] + self.named_buffers():
            if name in named:
                raise ValueError(
                    f"Sequential: expected unique parameter names within a layer, "
                    f"received {name!r} twice"
                )
            named[name] = array
        return named

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


# Room for the .npy header of an entry, beyond its data, when bounding what is read.
_NPY_HEADER_ALLOWANCE = 1 << 16


def _read_weights(path: str, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check every entry of a weights file against the arrays ``params``; modify nothing."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic != b"PK":
        raise ValueError(
            f"load_weights: {path!r} is not a weights file: expected an .npz (zip) archive "
            f"written by save_weights, received a file starting with {magic!r}"
        )
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as exc:  # zipfile, zlib and numpy each raise their own kind
        raise ValueError(
            f"load_weights: {path!r} is corrupt or truncated: {type(exc).__name__}: {exc}"
        ) from exc
    with npz:
        missing = [name for name in params if name not in npz.files]
        unexpected = [name for name in npz.files if name not in params]
        if missing or unexpected:
            what = (
                f"parameter {missing[0]!r} is missing from the file"
                if missing
                else f"the file has a parameter {unexpected[0]!r} the model does not"
            )
            raise ValueError(
                f"load_weights: {path!r} does not fit this model: {what}; expected "
                f"{sorted(params)}, received {sorted(npz.files)}"
            )
        arrays = {}
        for name, p in params.items():
            member = f"{name}.npy" if f"{name}.npy" in npz.zip.namelist() else name
            size = npz.zip.getinfo(member).file_size
            if size > p.nbytes + _NPY_HEADER_ALLOWANCE:
                raise ValueError(
                    f"load_weights: {path!r}: parameter {name!r}: expected shape {p.shape}, "
                    f"dtype {p.dtype} ({p.nbytes} bytes), received an entry of {size} bytes"
                )
            try:
                array = npz[name]
            except Exception as exc:
                raise ValueError(
                    f"load_weights: {path!r}: parameter {name!r} cannot be read "
                    f"(refused or corrupt): {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(array, np.ndarray):
                raise ValueError(
                    f"load_weights: {path!r}: parameter {name!r}: expected a numpy array "
                    "entry, received raw bytes"
                )
            if array.shape != p.shape:
                raise ValueError(
                    f"load_weights: {path!r}: parameter {name!r}: expected shape {p.shape}, "
                    f"received {array.shape}"
                )
            if array.dtype != p.dtype:
                raise ValueError(
                    f"load_weights: {path!r}: parameter {name!r}: expected dtype {p.dtype}, "
                    f"received {array.dtype}"
                )
            arrays[name] = array
    return arrays
