"""CIFAR-10, python version: safe loading, download with checksum, standardisation.

The data set is 60,000 colour images of 32x32 pixels in 10 classes, stored as six pickled batches
of 10,000 images (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) and ``batches.meta`` in a
folder ``cifar-10-batches-py/``. Each image is one row of 3072 uint8 values: 1024 red, then 1024
green, then 1024 blue, each channel in row-major (32x32) order.

Pickles can run arbitrary code when loaded, so the batches are read by an unpickler that only
knows the few numpy functions needed to rebuild an array; anything else is refused before it runs.

Example::

    >>> from tinynet.datasets import load_cifar10, Standardizer
    >>> data = load_cifar10()                      # downloads to ~/.cache/tinynet if needed
    >>> data.X_train.shape, data.X_train.dtype
    ((10000, 3072), dtype('uint8'))
    >>> scaler = Standardizer()
    >>> X_train = scaler.fit_transform(data.X_train)  # float64, zero mean, unit std per column
    >>> X_val = scaler.transform(data.X_val)          # the training set's mean and std
"""

from __future__ import annotations

import codecs
import hashlib
import http.client
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm import tqdm

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

__all__ = [
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "CIFAR10Split",
    "DownloadError",
    "Standardizer",
    "default_root",
    "download_cifar10",
    "load_batch",
    "load_cifar10",
    "load_label_names",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
N_FEATURES = 3 * 32 * 32
N_CLASSES = 10
DEFAULT_N_VALIDATION = 5000


class DownloadError(RuntimeError):
    """Downloading, verifying or extracting the CIFAR-10 archive failed."""


# ----------------------------------------------------------------------------------------------
# Safe unpickling


def _latin1_encode(text, encoding="utf-8"):
    # Python 3 pickles (protocol < 3) store bytes as _codecs.encode(str, "latin1"). Only that
    # round trip is allowed, not arbitrary codecs.
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError("_codecs.encode is only allowed as encode(str, 'latin1')")
    return text.encode("latin1")


class _Allowed:
    """A global that a pickle may name: calls ``fn`` and nothing else.

    The pickle gets this wrapper, never the function itself, and the wrapper refuses any
    state (the BUILD opcode), so a file cannot set attributes on numpy's or tinynet's
    functions and change them for the rest of the process.
    """

    __slots__ = ("_fn", "_name")

    def __init__(self, fn, name):
        self._fn, self._name = fn, name

    def __call__(self, *args):
        return self._fn(*args)

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"refused to set state on the global {self._name!r}")


def _not_callable(*args):
    raise pickle.UnpicklingError("numpy.ndarray may only be named as _reconstruct's first argument")


# What the pickle's "numpy.ndarray" resolves to: a token only _empty_array accepts. The class
# itself would let a pickle call ndarray(shape) and receive uninitialised memory of any size
# in place of data.
_ARRAY_CLASS = _Allowed(_not_callable, "numpy.ndarray")


def _empty_array(subtype, shape, typecode):
    # numpy pickles an array as _reconstruct(ndarray, (0,), b'b') followed by a BUILD of its
    # state (shape, dtype, raw bytes), whose size numpy checks. Only that empty start is
    # allowed, so every element of an array comes from the file.
    if subtype is not _ARRAY_CLASS or shape != (0,):
        raise pickle.UnpicklingError(
            "numpy _reconstruct is only allowed as numpy writes it: "
            f"_reconstruct(ndarray, (0,), ...), received shape {shape!r}"
        )
    return _reconstruct(np.ndarray, (0,), typecode)


# The only globals a CIFAR-10 pickle may name. The real batches need the first three (they were
# written by Python 2 with numpy < 2); pickles written today by Python 3 with protocol 2 add
# _codecs.encode, protocol 5 uses _frombuffer (which checks the buffer's size), and
# numpy >= 2 writes numpy._core paths.
_ALLOWED_GLOBALS = {
    (module, name): _Allowed(fn, f"{module}.{name}")
    for (module, name), fn in {
        ("numpy.core.multiarray", "_reconstruct"): _empty_array,
        ("numpy._core.multiarray", "_reconstruct"): _empty_array,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    }.items()
}
_ALLOWED_GLOBALS[("numpy", "ndarray")] = _ARRAY_CLASS


class _RefusedGlobal(pickle.UnpicklingError):
    def __init__(self, name):
        super().__init__(f"global {name!r} is not allowed")
        self.name = name


class _SafeUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild numpy arrays, dicts, lists, numbers and strings."""

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise _RefusedGlobal(f"{module}.{name}") from None


def _load_pickle(path):
    """Unpickle ``path`` safely; any failure becomes a ValueError naming the file."""
    with open(path, "rb") as f:
        try:
            return _SafeUnpickler(f, encoding="bytes").load()
        except _RefusedGlobal as e:
            raise ValueError(
                f"{path}: refused to unpickle the global {e.name!r}; a CIFAR-10 file may only "
                "contain numpy arrays, lists, numbers and strings"
            ) from None
        except Exception as e:  # truncated or corrupt: EOFError, UnpicklingError, ValueError, ...
            raise ValueError(
                f"{path}: not a valid CIFAR-10 pickle (truncated or corrupt): "
                f"{type(e).__name__}: {e}"
            ) from None


def _describe(obj):
    if isinstance(obj, np.ndarray):
        return f"{obj.dtype} array of shape {obj.shape}"
    return type(obj).__name__


def _lookup(d, key, path):
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a pickled dict, received {_describe(d)}")
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    keys = ", ".join(repr(k) for k in list(d)[:8])
    raise ValueError(f"{path}: expected a dict with key b'{key}', received keys [{keys}]")


# ----------------------------------------------------------------------------------------------
# Loading


def load_batch(path):
    """Load one CIFAR-10 batch file (``data_batch_1`` .. ``data_batch_5`` or ``test_batch``).

    The file is read with an allow-list unpickler: only numpy array reconstruction is allowed,
    so a malicious file cannot run code. Keys may be bytes (``b'data'``) or str (``'data'``).

    Args:
        path: the batch file.

    Returns:
        ``(X, y)``: ``X`` uint8 of shape (N, 3072), C-contiguous, one image per row (1024 red,
        1024 green, 1024 blue values); ``y`` int64 of shape (N,), labels in 0..9.

    Raises:
        ValueError: the file is truncated, corrupt, names a refused global, or its content is
            not a CIFAR-10 batch (the message names the file, what was expected and received).
        FileNotFoundError: the file does not exist.

    Example::

        >>> X, y = load_batch("cifar-10-batches-py/data_batch_1")
        >>> X.shape, y[:3]
        ((10000, 3072), array([6, 9, 9]))
    """
    batch = _load_pickle(path)
    data = _lookup(batch, "data", path)
    labels = _lookup(batch, "labels", path)

    # (N, 3, 32, 32) has the same memory layout as the (N, 3072) rows, so it is accepted too.
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or not (
            (data.ndim == 2 and data.shape[1] == N_FEATURES)
            or (data.ndim == 4 and data.shape[1:] == (3, 32, 32))
        )
    ):
        raise ValueError(
            f"{path}: expected b'data' to be a uint8 array of shape (N, 3072), "
            f"received {_describe(data)}"
        )
    n = data.shape[0]
    X = np.ascontiguousarray(data.reshape(n, N_FEATURES))  # no copy for the real files

    if isinstance(labels, np.ndarray):
        y = labels
    elif isinstance(labels, (list, tuple)):
        try:
            y = np.array(labels) if len(labels) else np.zeros(0, np.int64)
        except Exception:  # ragged or exotic elements
            y = None
    else:
        y = None
    if y is None or y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != n:
        raise ValueError(
            f"{path}: expected b'labels' to be a list of {n} ints in 0..{N_CLASSES - 1}, "
            f"received {_describe(labels if y is None else y)}"
            + ("" if y is None or y.ndim != 1 else f" of length {len(y)}")
        )
    if n and (y.min() < 0 or y.max() >= N_CLASSES):
        raise ValueError(
            f"{path}: expected labels in 0..{N_CLASSES - 1}, "
            f"received values from {y.min()} to {y.max()}"
        )
    return X, y.astype(np.int64)


def default_root():
    """The default data folder: ``$TINYNET_DATA`` if set, else ``~/.cache/tinynet``."""
    env = os.environ.get("TINYNET_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "tinynet"


def _batches_dir(root):
    """Resolve ``root`` (the folder holding ``cifar-10-batches-py/`` or that folder itself)."""
    root = default_root() if root is None else Path(root).expanduser()
    if (root / BATCHES_DIR).is_dir():
        return root / BATCHES_DIR
    if root.name == BATCHES_DIR or (root / META_FILE).is_file():
        return root
    return root / BATCHES_DIR


def _read_label_names(path):
    names = _lookup(_load_pickle(path), "label_names", path)
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(name, (bytes, str)) for name in names
    ):
        raise ValueError(
            f"{path}: expected b'label_names' to be a list of strings, received {_describe(names)}"
        )
    return [name.decode("latin1") if isinstance(name, bytes) else name for name in names]


def load_label_names(root=None):
    """The class names from ``batches.meta``, read with the same safe unpickler.

    Args:
        root: the folder holding ``cifar-10-batches-py/``, or that folder itself
            (default: :func:`default_root`).

    Returns:
        list[str], e.g. ``['airplane', 'automobile', 'bird', ..., 'truck']``.
    """
    return _read_label_names(_batches_dir(root) / META_FILE)


def _load_concatenated(paths):
    """Load several batches into one array without holding them all twice in memory."""
    X0, y0 = load_batch(paths[0])
    capacity = len(y0) * len(paths)  # exact when the batches have equal sizes, as CIFAR-10's do
    X = np.empty((capacity, N_FEATURES), np.uint8)
    y = np.empty(capacity, np.int64)
    X[: len(y0)], y[: len(y0)] = X0, y0
    filled = len(y0)
    del X0, y0
    for path in paths[1:]:
        Xi, yi = load_batch(path)
        n = len(yi)
        if filled + n > capacity:  # unequal batch sizes: grow
            capacity = max(2 * capacity, filled + n)
            X_new = np.empty((capacity, N_FEATURES), np.uint8)
            y_new = np.empty(capacity, np.int64)
            X_new[:filled], y_new[:filled] = X[:filled], y[:filled]
            X, y = X_new, y_new
        X[filled : filled + n], y[filled : filled + n] = Xi, yi
        filled += n
    if filled != capacity:
        X, y = X[:filled].copy(), y[:filled].copy()
    return X, y


@dataclass(frozen=True, eq=False, repr=False)
class CIFAR10Split:
    """Train / validation / test arrays of CIFAR-10, as returned by :func:`load_cifar10`.

    ``X_*`` are uint8 of shape (N, 3072) (convert once with :meth:`standardized` or a
    :class:`Standardizer`), ``y_*`` are int64 of shape (N,), ``label_names`` the 10 class names.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    label_names: list

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_train, y_train)``, e.g. for ``trainer.fit(*data.train, ...)``."""
        return self.X_train, self.y_train

    @property
    def val(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_val, y_val)``, e.g. for ``validation_data=data.val``."""
        return self.X_val, self.y_val

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_test, y_test)``, e.g. for ``trainer.evaluate(*data.test)``."""
        return self.X_test, self.y_test

    def standardized(self, dtype=np.float64) -> CIFAR10Split:
        """The same split with every X standardised by the *training* set's statistics.

        ``X -> (X - mean) / std`` per dimension, with mean and std of ``X_train``
        (:class:`Standardizer`), in ``dtype``; labels and names are shared, not copied.

        Example::

            >>> data = load_cifar10().standardized()       # float64, (10000, 3072) each
            >>> history = trainer.fit(*data.train, validation_data=data.val)
        """
        scaler = Standardizer(dtype).fit(self.X_train)
        X_train, X_val, X_test = map(scaler.transform, (self.X_train, self.X_val, self.X_test))
        return CIFAR10Split(
            X_train, self.y_train, X_val, self.y_val, X_test, self.y_test, self.label_names
        )

    def __repr__(self):
        return (
            f"CIFAR10Split(train={self.X_train.shape}, val={self.X_val.shape}, "
            f"test={self.X_test.shape}, dtype={self.X_train.dtype}, "
            f"label_names={self.label_names})"
        )


def _how_to_install(batches_dir):
    parent = batches_dir.parent
    return (
        f"Download {ARCHIVE_NAME} by hand (from {CIFAR10_URL}) and either put the archive at "
        f"{parent / ARCHIVE_NAME} or extract it in {parent} so that "
        f"{batches_dir / TRAIN_BATCHES[0]} exists. You can also set TINYNET_DATA to the folder "
        f"that holds {BATCHES_DIR}/."
    )


def load_cifar10(
    root=None,
    *,
    all_batches=False,
    n_validation=None,
    download=True,
    url=CIFAR10_URL,
    md5=CIFAR10_MD5,
    progress=True,
):
    """Load CIFAR-10 as uint8 arrays, downloading it first if it is missing.

    Splits:
        - default (the DD2424 assignment): ``data_batch_1`` for training (10,000),
          ``data_batch_2`` for validation (10,000), ``test_batch`` for testing (10,000).
        - ``all_batches=True``: the five training batches concatenated in order (50,000); the
          last ``n_validation`` of them (default 5000) are held out for validation.

    Args:
        root: the folder that holds ``cifar-10-batches-py/``, or that folder itself. Default:
            ``$TINYNET_DATA`` if set, else ``~/.cache/tinynet``.
        all_batches: use all five training batches (see above).
        n_validation: with ``all_batches=True``, the number of validation samples,
            ``0 < n_validation < 50000``. Not allowed without ``all_batches``.
        download: download and extract the archive if batches are missing. If False, the
            network is never used: a verified archive already at
            ``root/cifar-10-python.tar.gz`` is extracted, and otherwise
            ``FileNotFoundError`` is raised.
        url, md5: where to download ``cifar-10-python.tar.gz`` from and its md5 checksum.
        progress: show a tqdm progress bar while downloading.

    Returns:
        :class:`CIFAR10Split` with ``X_train, y_train, X_val, y_val, X_test, y_test`` (X uint8 of
        shape (N, 3072), y int64 of shape (N,)) and ``label_names``.

    Raises:
        FileNotFoundError: batches missing and ``download=False``.
        DownloadError: the download, checksum or extraction failed.
        ValueError: bad ``n_validation`` or a corrupt batch file.

    Example::

        >>> data = load_cifar10("~/data", all_batches=True, n_validation=1000)
        >>> data.X_train.shape, data.X_val.shape
        ((49000, 3072), (1000, 3072))
    """
    if all_batches:
        n_val = DEFAULT_N_VALIDATION if n_validation is None else n_validation
        if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) or n_val <= 0:
            raise ValueError(f"n_validation must be a positive int, received {n_validation!r}")
        needed = [*TRAIN_BATCHES, TEST_BATCH, META_FILE]
    else:
        if n_validation is not None:
            raise ValueError(
                "n_validation only applies with all_batches=True; the default split uses "
                f"data_batch_2 for validation, received n_validation={n_validation!r}"
            )
        needed = [TRAIN_BATCHES[0], TRAIN_BATCHES[1], TEST_BATCH, META_FILE]

    batches_dir = _batches_dir(root)
    missing = [name for name in needed if not (batches_dir / name).is_file()]
    if missing:
        if download:
            batches_dir = download_cifar10(batches_dir, url=url, md5=md5, progress=progress)
        else:  # no network: only a verified archive already on disk is extracted
            archive = batches_dir.parent / ARCHIVE_NAME
            if not (archive.is_file() and _md5_of(archive) == md5):
                found = (
                    f" The archive at {archive} does not have md5 {md5}: replace it."
                    if archive.is_file()
                    else ""
                )
                raise FileNotFoundError(
                    f"CIFAR-10 not found: missing {', '.join(missing)} in {batches_dir}.{found} "
                    + _how_to_install(batches_dir)
                    + " Or let tinynet download it (download=True; in the examples, leave out "
                    "--no-download)."
                )
            _extract(archive, batches_dir)
        missing = [name for name in needed if not (batches_dir / name).is_file()]
        if missing:
            raise DownloadError(
                f"the archive from {url} did not contain {', '.join(missing)} in {BATCHES_DIR}/"
            )

    label_names = _read_label_names(batches_dir / META_FILE)
    if all_batches:
        X, y = _load_concatenated([batches_dir / name for name in TRAIN_BATCHES])
        if n_val >= len(y):
            raise ValueError(
                f"n_validation must satisfy 0 < n_validation < {len(y)} (the number of "
                f"training samples), received {n_val}"
            )
        # Views into one array: no copy.
        X_train, y_train, X_val, y_val = X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]
    else:
        X_train, y_train = load_batch(batches_dir / TRAIN_BATCHES[0])
        X_val, y_val = load_batch(batches_dir / TRAIN_BATCHES[1])
    X_test, y_test = load_batch(batches_dir / TEST_BATCH)
    return CIFAR10Split(X_train, y_train, X_val, y_val, X_test, y_test, label_names)


# ----------------------------------------------------------------------------------------------
# Download


def _md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url, dest, md5, progress, batches_dir):
    """Download ``url`` to ``dest`` through a temporary file; verify md5; then rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    total = response.headers.get("Content-Length")
                    with tqdm(
                        total=int(total) if total and total.isdigit() else None,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=f"Downloading {ARCHIVE_NAME}",
                        disable=not progress,
                    ) as bar:
                        for chunk in iter(lambda: response.read(1 << 20), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(len(chunk))
            except (OSError, ValueError, http.client.HTTPException) as e:  # URLError is an OSError
                reason = getattr(e, "reason", None) or e
                raise DownloadError(
                    f"Could not download CIFAR-10 from {url}: {reason}. "
                    + _how_to_install(batches_dir)
                ) from None
        if digest.hexdigest() != md5:
            raise DownloadError(
                f"Checksum mismatch for {url}: expected md5 {md5}, received "
                f"{digest.hexdigest()} (incomplete or wrong file; it was deleted). "
                + _how_to_install(batches_dir)
            )
        os.replace(tmp, dest)
    except BaseException:  # includes KeyboardInterrupt: never leave a half file behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_member(member, dest, archive):
    """Refuse archive members that are not plain files or folders inside ``dest``."""
    name = member.name
    parts = PurePosixPath(name.replace("\\", "/")).parts
    inside = (dest / name).resolve()
    if (
        name.startswith(("/", "\\"))
        or os.path.isabs(name)
        or ".." in parts
        or not inside.is_relative_to(dest.resolve())
    ):
        raise DownloadError(
            f"refusing to extract {archive}: member {name!r} would be written outside {dest}"
        )
    if not (member.isfile() or member.isdir()):
        raise DownloadError(
            f"refusing to extract {archive}: member {name!r} is a link or special file, "
            "expected only regular files and folders"
        )


def _extract(archive, batches_dir):
    """Extract ``archive`` into a temporary folder next to ``batches_dir``, then move it there."""
    parent = batches_dir.parent
    tmp_dir = Path(tempfile.mkdtemp(prefix=".cifar-10-extract-", dir=parent))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member, tmp_dir, archive)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.12 and recent 3.10/3.11
                    tar.extractall(tmp_dir, members=members, filter="data")
                else:
                    tar.extractall(tmp_dir, members=members)  # members checked above
        except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as e:
            raise DownloadError(f"could not extract {archive}: {e}") from None
        extracted = tmp_dir / BATCHES_DIR
        if not extracted.is_dir():
            raise DownloadError(f"{archive} does not contain a {BATCHES_DIR}/ folder")
        try:
            os.rename(extracted, batches_dir)  # atomic; fails if batches_dir already exists
        except OSError:
            if not batches_dir.is_dir():
                raise
            for item in extracted.iterdir():  # keep the files already there, add the missing
                if not (batches_dir / item.name).exists():
                    os.replace(item, batches_dir / item.name)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def download_cifar10(root=None, *, url=CIFAR10_URL, md5=CIFAR10_MD5, progress=True):
    """Download, verify and extract ``cifar-10-python.tar.gz``; return the batches folder.

    The archive is downloaded into a temporary file next to its destination, its md5 is
    checked, and only then is it renamed; extraction goes to a temporary folder that is renamed
    to ``cifar-10-batches-py/`` at the end. A failure or Ctrl-C leaves no partial file behind.
    Archive members that would land outside the target (absolute paths, ``..``, links) are
    refused. If a verified archive is already at ``root/cifar-10-python.tar.gz`` (e.g. put there
    by hand), it is used instead of downloading; an archive downloaded here is deleted after
    extraction.

    Args:
        root: the folder to put ``cifar-10-batches-py/`` in (or that folder itself).
        url: where to download the archive from (``https://``, ``http://`` or ``file://``).
        md5: the expected md5 hex digest of the archive.
        progress: show a tqdm progress bar.

    Returns:
        Path of the ``cifar-10-batches-py`` folder.

    Raises:
        DownloadError: with what failed and where to put the files by hand.
    """
    batches_dir = _batches_dir(root)
    parent = batches_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(
            f"cannot create {parent}: {e}. " + _how_to_install(batches_dir)
        ) from None
    archive = parent / ARCHIVE_NAME
    downloaded = False
    try:
        if not (archive.is_file() and _md5_of(archive) == md5):
            _download(url, archive, md5, progress, batches_dir)
            downloaded = True
        _extract(archive, batches_dir)
    finally:
        if downloaded and archive.exists():
            archive.unlink()
    return batches_dir


# ----------------------------------------------------------------------------------------------
# Standardisation


class Standardizer:
    """Standardise features with the training set's per-column mean and standard deviation.

    .. math::
        \\mu_j = \\frac{1}{N} \\sum_i X_{ij}, \\qquad
        \\sigma_j = \\sqrt{\\frac{1}{N} \\sum_i (X_{ij} - \\mu_j)^2}, \\qquad
        \\hat X_{ij} = (X_{ij} - \\mu_j) / \\sigma_j

    (population std, ``ddof=0``, like ``np.std``). A constant column has ``sigma_j = 0``; its
    std is replaced by 1, so that column becomes all zeros instead of NaN.

    Args:
        dtype: floating dtype of the output (and of ``mean_``/``std_``), default float64.

    Shape:
        - fit: ``X`` of shape (N, D), any numeric dtype (e.g. uint8 images), N >= 1.
        - transform: ``X`` of shape (M, D) -> (M, D) in ``dtype``; the input is not modified.

    Attributes:
        mean_, std_: arrays of shape (D,), set by :meth:`fit`.

    Example::

        >>> scaler = Standardizer()
        >>> X_train = scaler.fit_transform(data.X_train)  # (10000, 3072) float64
        >>> X_test = scaler.transform(data.X_test)        # same mean and std
    """

    _CHUNK = 1024  # rows per step when summing squared deviations (bounds temporary memory)

    def __init__(self, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Standardizer: expected a floating dtype, received {self.dtype}")
        self.mean_ = None
        self.std_ = None

    def __repr__(self):
        fitted = "unfitted" if self.mean_ is None else f"D={self.mean_.shape[0]}"
        return f"Standardizer(dtype={self.dtype}, {fitted})"

    def fit(self, X):
        """Compute the per-column mean and std of ``X`` of shape (N, D). Returns self."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(
                f"Standardizer.fit: expected X of shape (N, D) with N >= 1, received {X.shape}"
            )
        # Accumulate in float64 whatever the output dtype, and in chunks of rows, so that no
        # float copy of the whole X is made (X may be 50,000 x 3072).
        mean = X.mean(axis=0, dtype=np.float64)
        sq = np.zeros(X.shape[1], np.float64)
        for start in range(0, X.shape[0], self._CHUNK):
            d = X[start : start + self._CHUNK].astype(np.float64)
            d -= mean
            sq += np.einsum("ij,ij->j", d, d)
        std = np.sqrt(sq / X.shape[0])
        std[std == 0] = 1.0  # constant column: (x - mean) / 1 = 0
        self.mean_ = mean.astype(self.dtype)
        self.std_ = std.astype(self.dtype)
        return self

    def transform(self, X):
        """Return ``(X - mean_) / std_`` in ``dtype``, shape (M, D); ``X`` is not modified."""
        if self.mean_ is None:
            raise ValueError("Standardizer.transform: call fit(X_train) before transform")
        X = np.asarray(X)
        D = self.mean_.shape[0]
        if X.ndim != 2 or X.shape[1] != D:
            raise ValueError(
                f"Standardizer.transform: expected X of shape (M, {D}), received {X.shape}"
            )
        out = X.astype(self.dtype)  # the only full-size allocation
        out -= self.mean_
        out /= self.std_
        return out

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)
