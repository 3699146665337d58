"""Tests for tinynet.datasets.cifar10: safe loading, download, splits and standardisation."""

import hashlib
import io
import os
import pickle
import re
import struct
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct

from tinynet.datasets import (
    CIFAR10Split,
    DownloadError,
    Standardizer,
    load_batch,
    load_cifar10,
    load_label_names,
)

LABEL_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


# ----------------------------------------------------------------------------------------------
# Helpers: small files in the real format (protocol-2 pickles of dicts with bytes keys)


def make_batch(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    y = rng.integers(0, 10, size=n)
    return X, y


def batch_bytes(X, y, protocol=2, overrides=None):
    d = {
        b"batch_label": b"training batch 1 of 5",
        b"labels": [int(v) for v in y],
        b"data": X,
        b"filenames": [f"img_{i}.png".encode() for i in range(len(y))],
    }
    d.update(overrides or {})
    return pickle.dumps(d, protocol=protocol)


def meta_bytes():
    d = {
        b"num_cases_per_batch": 10000,
        b"label_names": [name.encode() for name in LABEL_NAMES],
        b"num_vis": 3072,
    }
    return pickle.dumps(d, protocol=2)


def write_fake_cifar(folder, sizes=(7, 7, 7, 7, 7, 5)):
    """Write data_batch_1..5, test_batch, batches.meta into ``folder``; return the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for seed, (name, n) in enumerate(zip(BATCH_NAMES, sizes, strict=True)):
        X, y = make_batch(n, seed)
        (folder / name).write_bytes(batch_bytes(X, y))
        arrays[name] = (X, y)
    (folder / "batches.meta").write_bytes(meta_bytes())
    return arrays


def make_tarball(path, extra_members=()):
    """A small cifar-10-python.tar.gz; ``extra_members`` are (TarInfo, bytes or None)."""
    arrays = {}
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py")
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        files = {}
        for seed, name in enumerate(BATCH_NAMES):
            X, y = make_batch(6, seed)
            arrays[name] = (X, y)
            files[name] = batch_bytes(X, y)
        files["batches.meta"] = meta_bytes()
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra_members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return arrays, hashlib.md5(path.read_bytes()).hexdigest()


def all_files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ----------------------------------------------------------------------------------------------
# load_batch and load_label_names on files in the real format


def test_load_batch_real_format(tmp_path):
    X, y = make_batch(12, seed=0)
    path = tmp_path / "data_batch_1"
    path.write_bytes(batch_bytes(X, y))
    X2, y2 = load_batch(path)
    assert X2.dtype == np.uint8 and X2.shape == (12, 3072) and X2.flags.c_contiguous
    assert y2.dtype == np.int64 and y2.shape == (12,)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_load_batch_numpy1_global_names(tmp_path):
    # The distributed batches were written with numpy < 2, which names numpy.core.multiarray.
    X, y = make_batch(4, seed=5)
    data = batch_bytes(X, y)
    if b"numpy._core.multiarray\n" in data:
        data = data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert b"numpy.core.multiarray\n_reconstruct" in data
    path = tmp_path / "data_batch_1"
    path.write_bytes(data)
    X2, y2 = load_batch(path)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_load_batch_other_protocols_and_str_keys(tmp_path, protocol):
    X, y = make_batch(5, seed=1)
    d = {"data": X.reshape(5, 3, 32, 32), "labels": np.asarray(y, dtype=np.int32)}
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(d, protocol=protocol))
    X2, y2 = load_batch(path)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert X2.shape == (5, 3072) and y2.dtype == np.int64


def test_load_label_names(tmp_path):
    (tmp_path / "batches.meta").write_bytes(meta_bytes())
    assert load_label_names(tmp_path) == LABEL_NAMES
    # root may also be the folder that holds cifar-10-batches-py/
    inner = tmp_path / "parent" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    (inner / "batches.meta").write_bytes(meta_bytes())
    assert load_label_names(tmp_path / "parent") == LABEL_NAMES


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({b"data": np.zeros((3, 3071), np.uint8)}, "shape (N, 3072)"),
        ({b"data": np.zeros((3, 3072), np.float64)}, "uint8"),
        ({b"data": [[0] * 3072] * 3}, "uint8 array"),
        ({b"labels": [1, 2]}, "list of 3 ints"),
        ({b"labels": [1, 2, 10]}, "labels in 0..9"),
        ({b"labels": [1, -1, 2]}, "labels in 0..9"),
        ({b"labels": [1.0, 2.0, 3.0]}, "list of 3 ints"),
        ({b"labels": "abc"}, "list of 3 ints"),
    ],
)
def test_load_batch_rejects_bad_content(tmp_path, overrides, expected):
    X, y = make_batch(3, seed=2)
    path = tmp_path / "bad_batch"
    path.write_bytes(batch_bytes(X, y, overrides=overrides))
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        load_batch(path)
    assert "bad_batch" in str(info.value)


def test_load_batch_missing_key_and_not_a_dict(tmp_path):
    path = tmp_path / "nokey"
    path.write_bytes(pickle.dumps({b"pixels": 1}, protocol=2))
    with pytest.raises(ValueError, match=r"nokey.*b'data'"):
        load_batch(path)
    path = tmp_path / "alist"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(ValueError, match=r"alist.*expected a pickled dict, received list"):
        load_batch(path)


# ----------------------------------------------------------------------------------------------
# Hostile and corrupt files


class RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class RunsExec:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("kind", ["system", "exec"])
def test_hostile_pickle_is_refused_and_never_runs(tmp_path, kind, nested):
    marker = tmp_path / "pwned"
    if kind == "system":
        evil = RunsCommand(f"touch {marker}")
    else:
        evil = RunsExec(f"open({str(marker)!r}, 'w').close()")
    payload = {b"data": evil, b"labels": [0]} if nested else evil
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match="refused to unpickle the global") as info:
        load_batch(path)
    assert str(path) in str(info.value) and kind in str(info.value)
    assert not marker.exists()
    # the same protection for batches.meta
    (tmp_path / "batches.meta").write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="refused"):
        load_label_names(tmp_path)
    assert not marker.exists()


class EmptyArrayOfShape:
    """Pickles as numpy's _reconstruct(ndarray, shape, b'B') with no state after it."""

    def __init__(self, shape):
        self.shape = shape

    def __reduce__(self):
        return (_reconstruct, (np.ndarray, self.shape, b"B"))


class CallsNdarray:
    """Pickles as a direct call numpy.ndarray(shape, uint8)."""

    def __reduce__(self):
        return (np.ndarray, ((10, 3072), np.dtype("u1")))


@pytest.mark.parametrize("data", [EmptyArrayOfShape((10, 3072)), CallsNdarray()])
def test_arrays_whose_contents_are_not_in_the_file_are_refused(tmp_path, data):
    """A few hundred bytes must not pass for a batch of uninitialised memory."""
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [0] * 10}, protocol=2))
    assert path.stat().st_size < 1000
    with pytest.raises(ValueError, match="data_batch_1: not a valid CIFAR-10 pickle"):
        load_batch(path)


def _string(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


@pytest.mark.parametrize(
    "module, name",
    [("numpy._core.numeric", "_frombuffer"), ("_codecs", "encode"), ("numpy", "dtype")],
)
def test_a_pickle_cannot_set_attributes_on_the_allowed_globals(tmp_path, module, name):
    """BUILD with slot state on an allowed global would rename numpy's own function for the
    rest of the process (numpy's pickling of arrays then fails): refused, nothing changed."""
    payload = (
        f"\x80\x02c{module}\n{name}\nN}}".encode("latin1")
        + _string("__qualname__")
        + _string("changed")
        + b"s\x86b0}."
    )
    path = tmp_path / "data_batch_1"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="data_batch_1"):
        load_batch(path)
    assert pickle.loads(pickle.dumps(np.arange(3), protocol=5)).tolist() == [0, 1, 2]
    assert np.dtype.__qualname__ == "dtype"


def test_codecs_encode_only_for_latin1(tmp_path):
    # _codecs.encode is allowed (protocol-2 bytes) but not with other codecs.
    class EncodesWithRot13:
        def __reduce__(self):
            import _codecs

            return (_codecs.encode, ("abc", "rot13"))

    path = tmp_path / "codec"
    path.write_bytes(pickle.dumps({b"data": EncodesWithRot13()}, protocol=2))
    with pytest.raises(ValueError, match="codec"):
        load_batch(path)


def test_truncated_file_names_the_file(tmp_path):
    X, y = make_batch(20, seed=3)
    data = batch_bytes(X, y)
    path = tmp_path / "data_batch_3"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="data_batch_3.*truncated or corrupt"):
        load_batch(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="data_batch_3"):
        load_batch(path)


def _load_bytes(data):
    """load_batch on ``data``; return the result or the ValueError (anything else fails)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch"
        path.write_bytes(data)
        try:
            X, y = load_batch(path)
        except ValueError as e:
            assert str(path) in str(e)
            return e
    assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[1] == 3072
    assert y.dtype == np.int64 and y.shape == (X.shape[0],)
    return X, y


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_give_value_error_or_valid_result(data):
    _load_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_random_pickle_bodies_give_value_error_or_valid_result(data):
    _load_bytes(b"\x80\x02" + data)


_SMALL_VALID = batch_bytes(*make_batch(2, seed=4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SMALL_VALID) - 1), st.integers(0, 255)), max_size=4))
def test_corrupted_real_format_gives_value_error_or_valid_result(flips):
    data = bytearray(_SMALL_VALID)
    for position, value in flips:
        data[position] = value
    _load_bytes(bytes(data))


# ----------------------------------------------------------------------------------------------
# load_cifar10 on small files


def test_load_cifar10_default_split(tmp_path):
    arrays = write_fake_cifar(tmp_path / "cifar-10-batches-py")
    for root in (tmp_path, tmp_path / "cifar-10-batches-py"):
        data = load_cifar10(root, download=False)
        assert isinstance(data, CIFAR10Split)
        np.testing.assert_array_equal(data.X_train, arrays["data_batch_1"][0])
        np.testing.assert_array_equal(data.y_train, arrays["data_batch_1"][1])
        np.testing.assert_array_equal(data.X_val, arrays["data_batch_2"][0])
        np.testing.assert_array_equal(data.y_val, arrays["data_batch_2"][1])
        np.testing.assert_array_equal(data.X_test, arrays["test_batch"][0])
        np.testing.assert_array_equal(data.y_test, arrays["test_batch"][1])
        assert data.label_names == LABEL_NAMES
        assert "train=(7, 3072)" in repr(data)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_standardized_split_uses_the_training_statistics(tmp_path, dtype):
    write_fake_cifar(tmp_path / "cifar-10-batches-py", sizes=(40, 30, 7, 7, 7, 20))
    raw = load_cifar10(tmp_path, download=False)
    data = raw.standardized(dtype)
    mean = raw.X_train.astype(np.float64).mean(axis=0)
    std = raw.X_train.astype(np.float64).std(axis=0)
    for name in ("X_train", "X_val", "X_test"):
        X = getattr(data, name)
        assert X.dtype == dtype and X.shape == getattr(raw, name).shape
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(X, (getattr(raw, name) - mean) / std, rtol=rtol, atol=rtol)
    assert data.y_val is raw.y_val and data.label_names == raw.label_names
    X, y = data.train
    assert X is data.X_train and y is data.y_train
    assert data.val[0] is data.X_val and data.test[1] is data.y_test


@pytest.mark.parametrize("sizes", [(7, 7, 7, 7, 7, 5), (3, 8, 2, 9, 4, 5)])
def test_load_cifar10_all_batches(tmp_path, sizes):
    arrays = write_fake_cifar(tmp_path / "cifar-10-batches-py", sizes=sizes)
    X_all = np.concatenate([arrays[f"data_batch_{i}"][0] for i in range(1, 6)])
    y_all = np.concatenate([arrays[f"data_batch_{i}"][1] for i in range(1, 6)])
    data = load_cifar10(tmp_path, all_batches=True, n_validation=4, download=False)
    np.testing.assert_array_equal(data.X_train, X_all[:-4])
    np.testing.assert_array_equal(data.y_train, y_all[:-4])
    np.testing.assert_array_equal(data.X_val, X_all[-4:])
    np.testing.assert_array_equal(data.y_val, y_all[-4:])
    assert data.X_train.flags.c_contiguous and data.X_val.flags.c_contiguous
    n_total = len(y_all)
    for bad in (0, -1, n_total, n_total + 1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="n_validation"):
            load_cifar10(tmp_path, all_batches=True, n_validation=bad, download=False)


def test_n_validation_requires_all_batches(tmp_path):
    write_fake_cifar(tmp_path / "cifar-10-batches-py")
    with pytest.raises(ValueError, match="all_batches=True"):
        load_cifar10(tmp_path, n_validation=3, download=False)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(tmp_path / "nowhere", download=False)
    message = str(info.value)
    assert "data_batch_1" in message and "cifar-10-python.tar.gz" in message
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in message
    assert not (tmp_path / "nowhere").exists()


def test_without_download_an_archive_put_there_by_hand_is_extracted(tmp_path):
    """What the not-found message advises works offline: the verified archive is used."""
    root = tmp_path / "data"
    root.mkdir()
    arrays, md5 = make_tarball(root / "cifar-10-python.tar.gz")
    data = load_cifar10(root, download=False, md5=md5, url="http://unreachable.invalid/x.tgz")
    np.testing.assert_array_equal(data.X_train, arrays["data_batch_1"][0])
    assert (root / "cifar-10-python.tar.gz").is_file()  # the user's archive is kept


def test_without_download_a_wrong_archive_is_named(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(FileNotFoundError, match=r"does not have md5 .*: replace it"):
        load_cifar10(root, download=False)
    assert sorted(os.listdir(root)) == ["cifar-10-python.tar.gz"]


def test_default_root_from_environment(tmp_path, monkeypatch):
    arrays = write_fake_cifar(tmp_path / "env" / "cifar-10-batches-py")
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "env"))
    data = load_cifar10(download=False)
    np.testing.assert_array_equal(data.y_test, arrays["test_batch"][1])
    monkeypatch.delenv("TINYNET_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "home" / ".cache" / "tinynet")):
        load_cifar10(download=False)


# ----------------------------------------------------------------------------------------------
# Download through file:// URLs


def test_download_verifies_and_extracts(tmp_path):
    arrays, md5 = make_tarball(tmp_path / "cifar-10-python.tar.gz")
    root = tmp_path / "data"
    url = (tmp_path / "cifar-10-python.tar.gz").as_uri()
    data = load_cifar10(root, url=url, md5=md5, progress=False)
    np.testing.assert_array_equal(data.X_train, arrays["data_batch_1"][0])
    np.testing.assert_array_equal(data.y_test, arrays["test_batch"][1])
    assert data.label_names == LABEL_NAMES
    # only the extracted folder remains: no archive, no temporary files
    assert os.listdir(root) == ["cifar-10-batches-py"]
    # a second call finds the files and does not download (the URL is now unreachable)
    load_cifar10(root, url=(tmp_path / "gone.tar.gz").as_uri(), md5=md5, progress=False)


def test_download_with_progress_bar(tmp_path, capsys):
    _, md5 = make_tarball(tmp_path / "cifar-10-python.tar.gz")
    url = (tmp_path / "cifar-10-python.tar.gz").as_uri()
    load_cifar10(tmp_path / "data", url=url, md5=md5, progress=True)
    assert "cifar-10-python.tar.gz" in capsys.readouterr().err


def test_download_all_batches_fills_a_partial_folder(tmp_path):
    arrays, md5 = make_tarball(tmp_path / "cifar-10-python.tar.gz")
    inner = tmp_path / "data" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    (inner / "batches.meta").write_bytes(meta_bytes())
    url = (tmp_path / "cifar-10-python.tar.gz").as_uri()
    data = load_cifar10(
        tmp_path / "data", all_batches=True, n_validation=6, url=url, md5=md5, progress=False
    )
    np.testing.assert_array_equal(data.y_val, arrays["data_batch_5"][1])
    assert sorted(os.listdir(inner)) == sorted([*BATCH_NAMES, "batches.meta"])
    assert os.listdir(tmp_path / "data") == ["cifar-10-batches-py"]


def test_archive_put_by_hand_is_used(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    arrays, md5 = make_tarball(root / "cifar-10-python.tar.gz")
    data = load_cifar10(root, url="file:///nonexistent", md5=md5, progress=False)
    np.testing.assert_array_equal(data.y_train, arrays["data_batch_1"][1])
    assert (root / "cifar-10-python.tar.gz").exists()  # the user's file is kept


def test_wrong_md5_leaves_nothing(tmp_path):
    make_tarball(tmp_path / "cifar-10-python.tar.gz")
    root = tmp_path / "data"
    url = (tmp_path / "cifar-10-python.tar.gz").as_uri()
    with pytest.raises(DownloadError, match="md5") as info:
        load_cifar10(root, url=url, md5="0" * 32, progress=False)
    assert "by hand" in str(info.value)
    assert info.value.__cause__ is None
    assert all_files(root) == []


@pytest.mark.parametrize("url", ["file:///nonexistent", "file:///nonexistent/cifar.tar.gz"])
def test_unreachable_url_gives_clean_error(tmp_path, url):
    root = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        load_cifar10(root, url=url, progress=False)
    message = str(info.value)
    assert "Could not download" in message and url in message and "by hand" in message
    assert str(root / "cifar-10-batches-py") in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert all_files(root) == []


def _traversal_member(name, data=b"evil"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link_member(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    "member",
    [
        "dotdot",
        "dotdot_nested",
        "absolute",
        "symlink_out",
        "hardlink_out",
    ],
)
def test_unsafe_archive_members_are_refused(tmp_path, member):
    outside = tmp_path / "evil"
    members = {
        "dotdot": _traversal_member("../evil"),
        "dotdot_nested": _traversal_member("cifar-10-batches-py/../../evil"),
        "absolute": _traversal_member(str(outside)),
        "symlink_out": _link_member("cifar-10-batches-py/evil", str(outside), tarfile.SYMTYPE),
        "hardlink_out": _link_member("cifar-10-batches-py/evil", "../../evil", tarfile.LNKTYPE),
    }
    archive = tmp_path / "src" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    _, md5 = make_tarball(archive, extra_members=[members[member]])
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="refusing to extract"):
        load_cifar10(root, url=archive.as_uri(), md5=md5, progress=False)
    assert not outside.exists()
    assert sorted(os.listdir(tmp_path)) == ["data", "src"]
    assert all_files(root) == []


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    class InterruptedResponse:
        headers = {"Content-Length": "100"}

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise KeyboardInterrupt
            return b"x" * 10

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: InterruptedResponse())
    root = tmp_path / "data"
    with pytest.raises(KeyboardInterrupt):
        load_cifar10(root, url="https://example.invalid/c.tar.gz", progress=False)
    assert all_files(root) == []


def test_corrupt_archive_with_right_md5(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"not a gzip file at all")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="could not extract"):
        load_cifar10(root, url=archive.as_uri(), md5=md5, progress=False)
    assert all_files(root) == []


# ----------------------------------------------------------------------------------------------
# The real data (set TINYNET_DATA to the folder that holds cifar-10-batches-py/)


@pytest.fixture(scope="module")
def real_root():
    root = os.environ.get("TINYNET_DATA")
    if not root:
        pytest.skip("TINYNET_DATA is not set")
    return Path(root)


def test_real_default_split(real_root):
    data = load_cifar10(real_root, download=False)
    for X, y in [
        (data.X_train, data.y_train),
        (data.X_val, data.y_val),
        (data.X_test, data.y_test),
    ]:
        assert X.shape == (10000, 3072) and X.dtype == np.uint8 and X.flags.c_contiguous
        assert y.shape == (10000,) and y.dtype == np.int64
    np.testing.assert_array_equal(data.y_train[:10], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
    np.testing.assert_array_equal(data.y_test[:10], [3, 8, 8, 0, 6, 6, 1, 6, 3, 1])
    assert data.label_names == LABEL_NAMES
    assert np.bincount(data.y_test, minlength=10).tolist() == [1000] * 10


def test_real_root_as_either_folder(real_root):
    a = load_cifar10(real_root, download=False)
    b = load_cifar10(real_root / "cifar-10-batches-py", download=False)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert load_label_names(real_root) == load_label_names(real_root / "cifar-10-batches-py")


def test_real_all_batches(real_root):
    data = load_cifar10(real_root, all_batches=True, download=False)
    assert data.X_train.shape == (45000, 3072) and data.X_val.shape == (5000, 3072)
    assert data.y_train.shape == (45000,) and data.y_val.shape == (5000,)
    assert data.X_test.shape == (10000, 3072)
    np.testing.assert_array_equal(data.y_train[:10], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
    # channel order R, G, B: the published per-channel means of the 50,000 training images
    X_all = np.concatenate([data.X_train, data.X_val])
    means = X_all.reshape(-1, 3, 1024).mean(axis=(0, 2))
    np.testing.assert_allclose(means, [125.31, 122.95, 113.87], atol=0.05)
    assert np.bincount(np.concatenate([data.y_train, data.y_val])).tolist() == [5000] * 10
    data = load_cifar10(real_root, all_batches=True, n_validation=1000, download=False)
    assert data.X_train.shape == (49000, 3072) and data.X_val.shape == (1000, 3072)


def test_real_standardizer(real_root):
    X, _ = load_batch(real_root / "cifar-10-batches-py" / "data_batch_1")
    Z = Standardizer().fit_transform(X)
    reference = (X.astype(np.float64) - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(Z, reference, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Standardizer


def test_standardizer_zero_mean_unit_std():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(2500, 40), dtype=np.uint8)  # more rows than one chunk
    X[:, 7] = 42  # a constant column
    scaler = Standardizer()
    Z = scaler.fit_transform(X)
    assert Z.dtype == np.float64 and Z.shape == X.shape
    varying = np.arange(40) != 7
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0)[varying], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(Z[:, 7], 0.0)
    # an independent computation
    Xf = X.astype(np.float64)
    mean = Xf.sum(axis=0) / len(Xf)
    std = np.sqrt(((Xf - mean) ** 2).sum(axis=0) / len(Xf))
    np.testing.assert_allclose(scaler.mean_, mean, rtol=1e-13)
    np.testing.assert_allclose(scaler.std_[varying], std[varying], rtol=1e-13)
    assert scaler.std_[7] == 1.0
    # new data uses the training numbers, and the input is left untouched
    X_new = rng.integers(0, 256, size=(5, 40), dtype=np.uint8)
    X_copy = X_new.copy()
    np.testing.assert_allclose(scaler.transform(X_new), (X_new - mean) / scaler.std_, rtol=1e-13)
    np.testing.assert_array_equal(X_new, X_copy)


def test_standardizer_float32_stays_float32():
    X = np.random.default_rng(1).integers(0, 256, size=(100, 12), dtype=np.uint8)
    scaler = Standardizer(dtype=np.float32)
    Z = scaler.fit_transform(X)
    assert Z.dtype == np.float32 and scaler.mean_.dtype == np.float32
    assert scaler.std_.dtype == np.float32
    reference = (X - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(Z, reference, rtol=1e-5, atol=1e-5)


def test_standardizer_errors():
    scaler = Standardizer()
    with pytest.raises(ValueError, match="call fit"):
        scaler.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected X of shape \(N, D\).*received \(3,\)"):
        scaler.fit(np.zeros(3))
    with pytest.raises(ValueError, match=r"N >= 1, received \(0, 3\)"):
        scaler.fit(np.zeros((0, 3)))
    scaler.fit(np.arange(12.0).reshape(4, 3))
    with pytest.raises(ValueError, match=r"expected X of shape \(M, 3\), received \(4, 4\)"):
        scaler.transform(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"received \(3,\)"):
        scaler.transform(np.zeros(3))
    with pytest.raises(ValueError, match="floating dtype"):
        Standardizer(dtype=np.int32)
