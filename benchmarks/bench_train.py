"""Training speed and memory of tinynet against a plain numpy loop and PyTorch.

The workload is config 2 of the DD2424 assignment: one ``Dense(3072 -> 10)`` layer with
softmax cross-entropy, lam = 0, 40 epochs of mini-batch gradient descent (batch 100,
eta 0.001) over ``data_batch_1`` in stored order, and after each epoch the loss, cost and
accuracy of the whole training and validation (``data_batch_2``) sets. Inputs are
standardised with the training set's per-dimension mean and std.

Data: the real CIFAR-10 python pickles when the environment variable ``TINYNET_DATA`` names
the folder holding ``cifar-10-batches-py/``, synthetic uint8 data of the same shape otherwise.

Sections (``--only`` picks some):

- ``speed``: tinynet's ``Trainer``, the numpy loop below and PyTorch (when installed), in
  float64 and float32, alternating in one process; the median of ``--repeats`` runs each.
- ``rss``: peak resident memory of a whole example run for one config, measured in a fresh
  process via ``getrusage(RUSAGE_CHILDREN)``.
- ``scaling``: tinynet's time for 10k, 20k and 50k training samples (validation on
  ``test_batch``), to show time grows linearly with the training set.

Run from the repository root::

    TINYNET_DATA=/path/to/cifar10 python benchmarks/bench_train.py            # full
    python benchmarks/bench_train.py --quick                                   # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout: import tinynet from here
    sys.path.insert(0, str(ROOT))

from tinynet.datasets import Standardizer, load_batch  # noqa: E402

torch = None  # imported by load_torch(): the optional "bench" extra, and heavy


def load_torch():
    global torch
    try:
        import torch as module
    except ImportError:
        return None
    torch = module
    return torch


SEED = 12345
CONFIG = {"lam": 0.0, "epochs": 40, "batch_size": 100, "lr": 0.001}
DIM, CLASSES = 3072, 10


# --------------------------------------------------------------------------- data


def data_folder() -> Path | None:
    """The ``cifar-10-batches-py`` folder named by ``TINYNET_DATA``, or None for synthetic."""
    root = os.environ.get("TINYNET_DATA")
    if not root:
        return None
    folder = Path(root) / "cifar-10-batches-py"
    if not folder.is_dir():
        sys.exit(f"TINYNET_DATA={root!r}: expected a folder containing cifar-10-batches-py/")
    return folder


def load_raw(n_train: int, validation: str) -> tuple[np.ndarray, ...]:
    """uint8 (n_train, 3072) training data from the batches 1..5 in order, and a validation set.

    ``validation`` is ``"data_batch_2"`` (the assignment's split, n_train = 10000 only) or
    ``"test_batch"`` (for the scaling runs). Synthetic data when ``TINYNET_DATA`` is unset.
    """
    folder = data_folder()
    if folder is None:
        rng = np.random.default_rng(0)
        Xu = rng.integers(0, 256, (n_train, DIM), dtype=np.uint8)
        Xvu = rng.integers(0, 256, (10000, DIM), dtype=np.uint8)
        return Xu, rng.integers(0, CLASSES, n_train), Xvu, rng.integers(0, CLASSES, 10000)
    if validation == "data_batch_2":
        names = ["data_batch_1"]
    else:
        names = [f"data_batch_{i}" for i in range(1, 6)]
    parts, need = [], n_train
    for name in names:
        if need <= 0:
            break
        X, y = load_batch(folder / name)
        parts.append((X[:need], y[:need]))
        need -= len(y)
    if need > 0:
        sys.exit(f"only {n_train - need} training samples available, asked for {n_train}")
    Xu = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    y = np.concatenate([p[1] for p in parts])
    Xvu, yv = load_batch(folder / validation)
    return Xu, y, Xvu, yv


def standardised(Xu: np.ndarray, *others: np.ndarray, dtype=np.float64) -> list[np.ndarray]:
    """The sets in ``dtype``, standardised with the first one's per-dimension mean and std."""
    scaler = Standardizer(dtype=dtype).fit(Xu)
    return [scaler.transform(raw) for raw in (Xu, *others)]


def initial_weights(dtype) -> tuple[np.ndarray, np.ndarray]:
    """W (3072, 10) then b (10,) from N(0, 0.01^2), seed 12345, as tinynet's Dense draws them."""
    rng = np.random.default_rng(SEED)
    W = rng.normal(0.0, 0.01, (DIM, CLASSES)).astype(dtype)
    b = rng.normal(0.0, 0.01, (CLASSES,)).astype(dtype)
    return W, b


# --------------------------------------------------------------------------- implementations


def run_numpy(X, y, Xv, yv, epochs, batch_size, lr, lam):
    """The hand-written loop: samples as rows, one forward pass per set for loss and accuracy."""
    W, b = initial_weights(X.dtype)
    lr, lam = X.dtype.type(lr), X.dtype.type(lam)
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}

    def measure(data, labels, prefix):
        s = data @ W + b
        s -= s.max(axis=1, keepdims=True)
        log_p = s[np.arange(len(labels)), labels] - np.log(np.exp(s).sum(axis=1))
        history[prefix + "loss"].append(float(-log_p.mean()))
        history[prefix + "accuracy"].append(float(np.mean(s.argmax(axis=1) == labels)))

    n = len(X)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            s = xb @ W + b
            p = np.exp(s - s.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1
            p /= len(yb)
            grad_W = xb.T @ p
            if lam:
                grad_W += 2 * lam * W
            W -= lr * grad_W
            b -= lr * p.sum(axis=0)
        measure(X, y, "")
        measure(Xv, yv, "val_")
    return history


def build_tinynet(dtype, lr, lam):
    """A tinynet Trainer for the workload, initialised as in the assignment."""
    from tinynet import L2, SGD, Dense, Normal, Sequential, SoftmaxCrossEntropy, Trainer

    rng = np.random.default_rng(SEED)
    dense = Dense(
        DIM,
        CLASSES,
        regularizer=L2(lam),
        weight_init=Normal(0, 0.01),
        bias_init=Normal(0, 0.01),
        rng=rng,
        dtype=dtype,
    )
    model = Sequential([dense])
    return Trainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr))


def run_tinynet(X, y, Xv, yv, epochs, batch_size, lr, lam):
    trainer = build_tinynet(X.dtype, lr, lam)
    history = trainer.fit(
        X, y, epochs=epochs, batch_size=batch_size, validation_data=(Xv, yv), shuffle=False
    )
    return history.history


def run_torch(X, y, Xv, yv, epochs, batch_size, lr, lam):
    """Idiomatic PyTorch: nn.Linear, cross_entropy, autograd and optim.SGD, no DataLoader."""
    W, b = initial_weights(X.dtype)
    X, Xv = torch.from_numpy(X), torch.from_numpy(Xv)  # shares memory, no copy
    y, yv = torch.from_numpy(np.asarray(y)), torch.from_numpy(np.asarray(yv))
    linear = torch.nn.Linear(DIM, CLASSES, dtype=X.dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T))
        linear.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(linear.parameters(), lr=lr)
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    n = len(X)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(linear(xb), yb)
            if lam:
                loss = loss + lam * linear.weight.square().sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            for data, labels, prefix in ((X, y, ""), (Xv, yv, "val_")):
                s = linear(data)
                history[prefix + "loss"].append(float(torch.nn.functional.cross_entropy(s, labels)))
                history[prefix + "accuracy"].append(float((s.argmax(1) == labels).double().mean()))
    return history


# --------------------------------------------------------------------------- harness


def have_tinynet() -> bool:
    try:
        import tinynet  # noqa: F401
        from tinynet import Trainer  # noqa: F401
    except ImportError:
        return False
    return True


def _cpu_jiffies() -> tuple[int, int] | None:
    """(total, idle + iowait) CPU time of the whole machine in clock ticks; None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]
    except (OSError, ValueError, IndexError):
        return None


def _others_busy(before, after, own_cpu: float, wall: float) -> float:
    """Fraction of all CPUs that other processes kept busy between two _cpu_jiffies()."""
    if before is None or after is None or wall <= 0:
        return 0.0
    busy = ((after[0] - after[1]) - (before[0] - before[1])) / os.sysconf("SC_CLK_TCK")
    return max(0.0, busy - own_cpu) / (wall * (os.cpu_count() or 1))


WAIT_IDLE = 0.0  # set by --wait-idle
RETRIED = []  # runs repeated because other processes used the CPUs meanwhile


def wait_idle() -> None:
    """On a shared machine, wait (up to WAIT_IDLE s) until other processes leave the CPUs."""
    deadline = time.monotonic() + WAIT_IDLE
    while time.monotonic() < deadline:
        before = _cpu_jiffies()
        time.sleep(0.5)
        if _others_busy(before, _cpu_jiffies(), 0.0, 0.5) < 0.1:
            return


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call. With --wait-idle, a run during which other processes
    kept more than 15 % of the CPUs busy is repeated (twice at most)."""
    for attempt in range(3 if WAIT_IDLE else 1):
        wait_idle()
        before, cpu = _cpu_jiffies(), time.process_time()
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        wall = time.perf_counter() - start
        others = _others_busy(before, _cpu_jiffies(), time.process_time() - cpu, wall)
        if others < 0.15 or attempt == 2 or not WAIT_IDLE:
            return wall, result
        RETRIED.append((getattr(fn, "__name__", "?"), round(wall, 3), round(others, 2)))
    raise AssertionError("unreachable")


def fmt_ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def speed(args) -> dict:
    """Alternate the implementations in one process; report the median time of each."""
    runners = {}
    if have_tinynet():
        runners["tinynet"] = run_tinynet
    else:
        print("tinynet: skipped (tinynet.Trainer not importable)")
    runners["numpy"] = run_numpy
    if args.no_torch:
        pass
    elif torch is None:
        print("torch: skipped (not installed; pip install '.[bench]')")
    else:
        runners["torch"] = run_torch

    Xu, y, Xvu, yv = load_raw(10000, "data_batch_2")
    cfg = dict(CONFIG, epochs=args.epochs)
    results = {}
    for dtype in (np.float64, np.float32):
        X, Xv = standardised(Xu, Xvu, dtype=dtype)
        name = np.dtype(dtype).name
        for fn in runners.values():  # warm-up: page in the data, load BLAS kernels
            fn(X[:1000], y[:1000], Xv[:1000], yv[:1000], **dict(cfg, epochs=1))
        times = {k: [] for k in runners}
        final = {}
        for _ in range(args.repeats):
            for key, fn in runners.items():
                t, hist = timed(fn, X, y, Xv, yv, **cfg)
                times[key].append(t)
                final[key] = (hist["val_loss"][-1], hist["val_accuracy"][-1])
        print(f"\n{name}: median of {args.repeats} (min .. max), seconds")
        for key, ts in times.items():
            med = statistics.median(ts)
            results[(name, key)] = med
            vl, va = final[key]
            print(
                f"  {key:8s} {med:7.3f}  ({min(ts):.3f} .. {max(ts):.3f})"
                f"   final val_loss {vl:.6f}  val_accuracy {va:.4f}"
            )
        del X, Xv
    print("\nratios (time / time):")
    for name in ("float64", "float32"):
        tn, npy, tt = (results.get((name, k)) for k in ("tinynet", "numpy", "torch"))
        print(
            f"  {name}: tinynet/numpy {fmt_ratio(tn, npy)}"
            f"   torch/tinynet {fmt_ratio(tt, tn)}   torch/numpy {fmt_ratio(tt, npy)}"
        )
    for key in runners:
        t64, t32 = results.get(("float64", key)), results.get(("float32", key))
        print(f"  {key}: float32/float64 {fmt_ratio(t32, t64)}")
    return results


_RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss(command: list[str]) -> tuple[int, float]:
    """(exit code, peak RSS in MiB) of ``command`` run as the only child of a fresh process."""
    env = dict(os.environ)  # the example imports tinynet from this checkout
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, *command],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    code, kib = out.stdout.split()[-2:]
    return int(code), int(kib) / 1024  # ru_maxrss is in KiB on Linux


def rss(args) -> None:
    """Peak RSS of the single-layer example for config 2, in float64 and float32."""
    if data_folder() is None:
        print("\npeak RSS: skipped (the example needs the real CIFAR-10: set TINYNET_DATA)")
        return
    example = ROOT / "examples" / "cifar10_single_layer.py"
    with tempfile.TemporaryDirectory() as out:
        for extra in ([], ["--float32"]):
            command = [sys.executable, str(example), "--config", "2", "--quiet", "--no-download"]
            command += ["--out", out, *extra]
            if args.epochs != CONFIG["epochs"]:  # a custom setting with config 2's values
                command[2:4] = ["--lam", "0", "--eta", "0.001", "--batch-size", "100"]
                command += ["--epochs", str(args.epochs)]
            code, mib = peak_rss(command)
            shown = " ".join(Path(c).name if c == sys.executable else c for c in command)
            shown = shown.replace(str(ROOT) + os.sep, "").replace(out, "TMP")
            status = "" if code == 0 else f"  (exit code {code}!)"
            print(f"\npeak RSS of `{shown}`: {mib:.0f} MiB{status}", end="")
    print()


def scaling(args) -> None:
    if not have_tinynet():
        print("\nscaling: skipped (tinynet.Trainer not importable)")
        return
    cfg = dict(CONFIG, epochs=args.scaling_epochs)
    print(
        f"\nscaling, tinynet float64, {cfg['epochs']} epochs, validation on test_batch "
        f"(10000), median of {args.repeats}:"
    )
    times = {}
    for n in args.sizes:
        Xu, y, Xvu, yv = load_raw(n, "test_batch")
        X, Xv = standardised(Xu, Xvu)
        del Xu, Xvu
        ts = [timed(run_tinynet, X, y, Xv, yv, **cfg)[0] for _ in range(args.repeats)]
        times[n] = statistics.median(ts)
        del X, Xv
    base = min(times)
    for n, t in times.items():
        slope = (
            "" if n == base else f"   +{(t - times[base]) / (n - base) * 1e4:.3f} s per 10k more"
        )
        print(f"  n={n:6d}  {t:7.3f} s   {t / n * 1e4:.3f} s per 10k{slope}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = ""
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"].get("name", "")
        blas += " " + cfg["Build Dependencies"]["blas"].get("version", "")
    except Exception:  # noqa: BLE001 - older numpy has no mode="dicts"
        pass
    parts = [
        f"{cpu}, {os.cpu_count()} cpus",
        f"python {platform.python_version()}",
        f"numpy {np.__version__} ({blas.strip() or 'unknown BLAS'})",
    ]
    if torch is not None:
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    env = [f"{k}={os.environ[k]}" for k in sorted(os.environ) if k.startswith("OPENBLAS_")]
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return "; ".join(parts) + (f"; {' '.join(env)}" if env else "")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 40)")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 repeat: a smoke run")
    parser.add_argument(
        "--only", nargs="+", choices=("speed", "rss", "scaling"), default=None, metavar="PART"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each timed run, wait up to this long for the CPUs to be idle "
        "(for shared machines; default 0: do not wait)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 20000, 50000])
    parser.add_argument("--scaling-epochs", type=int, default=None, help="default: --epochs")
    args = parser.parse_args(argv)
    global WAIT_IDLE
    WAIT_IDLE = args.wait_idle
    if args.quick:
        args.repeats = 1
        args.epochs = args.epochs or 2
    args.epochs = args.epochs or CONFIG["epochs"]
    args.scaling_epochs = args.scaling_epochs or args.epochs
    parts = args.only or ["speed", "rss", "scaling"]

    if not args.no_torch:
        load_torch()
    source = data_folder()
    print(f"machine: {machine()}")
    print(
        f"workload: config 2 (lam={CONFIG['lam']}, {args.epochs} epochs, batch "
        f"{CONFIG['batch_size']}, eta {CONFIG['lr']}), train 10000 x {DIM}, val 10000; data: "
        + ("CIFAR-10" if source else "synthetic (set TINYNET_DATA for CIFAR-10)")
    )
    if "speed" in parts:
        speed(args)
    if "rss" in parts:
        rss(args)
    if "scaling" in parts:
        scaling(args)
    if RETRIED:
        print(f"\nruns repeated because other processes used the CPUs: {RETRIED}")
    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
