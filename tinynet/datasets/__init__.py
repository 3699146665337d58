"""Data sets: CIFAR-10 loading, download and standardisation."""

from tinynet.datasets.cifar10 import (
    CIFAR10_MD5,
    CIFAR10_URL,
    CIFAR10Split,
    DownloadError,
    Standardizer,
    default_root,
    download_cifar10,
    load_batch,
    load_cifar10,
    load_label_names,
)

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
