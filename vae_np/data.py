"""The data: two image sets as float arrays in [0, 1], minibatches, and one input check.

* :func:`load_digits` gives scikit-learn's bundled 8×8 handwritten digits (1797 images,
  shipped inside scikit-learn, so nothing is fetched), split into train and test by a
  seeded permutation.
* :func:`load_mnist` reads the 28×28 MNIST digits from the four standard IDX files in a
  folder on your disk. ``vae_np`` never downloads data: put the files there yourself.
* :func:`batches` yields the minibatches of one epoch, in a fresh seeded order.
* :func:`check_data` is the one validation every model runs on its input: a 2-D float
  array, finite, and inside [0, 1] where the likelihood is Bernoulli.

Every loader returns a :class:`Dataset`: images flattened to rows, ``x: (n, d)`` with
``d = h·w``, pixel values scaled to [0, 1], labels as integers.
"""
from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .tensor import Tensor
from .validate import FLOAT_DTYPES, float_dtype, non_finite

__all__ = ["Dataset", "load_digits", "load_mnist", "batches", "check_data"]

@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of flattened images with pixel values in [0, 1].

    Attributes
    ----------
    x_train : (n_train, d) float array
    y_train : (n_train,) int array of class labels
    x_test : (n_test, d) float array
    y_test : (n_test,) int array
    image_shape : (h, w) with ``h * w == d``; ``x[i].reshape(image_shape)`` is an image
    name : str, e.g. ``"digits"`` or ``"mnist"``
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    name: str

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: x_train {self.x_train.shape}, x_test {self.x_test.shape}, "
            f"image_shape {self.image_shape}, dtype {self.x_train.dtype})"
        )


# --------------------------------------------------------------------------- digits

def load_digits(test_size: int = 297, seed: int = 0, dtype: Any = np.float64) -> Dataset:
    """scikit-learn's 8×8 digits, scaled to [0, 1] and split by a seeded permutation.

    The 1797 images have integer pixel values 0..16; they are divided by 16, so the
    smallest value is exactly 0 and the largest exactly 1.

    Parameters
    ----------
    test_size : int
        Number of test images, ``0 < test_size < 1797``. The default leaves 1500 for
        training.
    seed : int
        Seed of the permutation: the same seed always gives the same split.
    dtype : float32 or float64

    Returns
    -------
    Dataset
        ``x_train: (1797 - test_size, 64)``, ``x_test: (test_size, 64)``, labels 0..9,
        ``image_shape=(8, 8)``, ``name="digits"``.
    """
    from sklearn.datasets import load_digits as _sklearn_digits  # bundled, no download

    target = float_dtype(dtype)
    raw = _sklearn_digits()
    n = raw.data.shape[0]
    if isinstance(test_size, bool) or not isinstance(test_size, (int, np.integer)):
        raise TypeError(f"test_size must be an int; got {test_size!r}")
    if not 0 < test_size < n:
        raise ValueError(f"test_size must be between 1 and {n - 1} (there are {n} images); got {test_size}")
    x = (raw.data / 16.0).astype(target)
    y = raw.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:test_size], order[test_size:]
    return Dataset(x[train], y[train], x[test], y[test], (8, 8), "digits")


# ---------------------------------------------------------------------------- MNIST

_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions: (n, rows, cols)
_IDX_LABELS = 0x00000801  # unsigned bytes, 1 dimension: (n,)


def _find_idx_files(folder: Path) -> dict[str, Path]:
    """The path of each MNIST file in ``folder`` (raw preferred over ``.gz``), or
    FileNotFoundError listing every missing one and where to put it."""
    found, missing = {}, []
    for key, name in _MNIST_FILES.items():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(name)
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing: {', '.join(missing)}. Put them (raw or with .gz) in the "
            f"folder {str(folder)!r}; vae_np never downloads data."
        )
    return found


def _read_idx(file: Path, magic: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes; ``magic`` fixes the number of dimensions.

    Layout: a big-endian 4-byte magic number ``0x000008DD`` (``08`` = unsigned byte,
    ``DD`` = number of dimensions), then each dimension as a big-endian uint32, then the
    values, row-major. Any disagreement raises ValueError naming ``file``.
    """
    try:
        raw = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
    except (OSError, EOFError, zlib.error) as err:  # a broken .gz
        raise ValueError(f"{file}: cannot decompress ({err})") from None
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{file}: truncated, {len(raw)} bytes is shorter than the {header}-byte IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{file}: bad magic number 0x{found:08X}, expected 0x{magic:08X}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(dims)
    if len(raw) - header != expected:
        raise ValueError(
            f"{file}: the header promises {expected} values for shape {dims}, "
            f"but {len(raw) - header} bytes follow it (truncated or padded file)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(path: str | Path, dtype: Any = np.float64, binarize: bool = False) -> Dataset:
    """MNIST from the four standard IDX files in a local folder, scaled to [0, 1].

    Parameters
    ----------
    path : str or Path
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or as
        ``.gz``. Nothing is downloaded.
    dtype : float32 or float64
    binarize : bool
        If True, pixels are thresholded (``x > 0.5`` becomes 1, else 0), a fixed
        binarisation suited to a Bernoulli likelihood.

    Returns
    -------
    Dataset
        ``x_train: (60000, 784)``, ``x_test: (10000, 784)`` for the real files (the
        counts and image size are read from the headers), ``name="mnist"``.

    Raises
    ------
    FileNotFoundError
        If any of the four files is missing; the message lists them and the folder.
    ValueError
        If a file is corrupt: bad magic number, truncated, header and data disagree,
        label and image counts differ, or train and test image sizes differ.
    """
    target = float_dtype(dtype)
    files = _find_idx_files(Path(path).expanduser().absolute())
    arrays = {
        key: _read_idx(file, _IDX_IMAGES if key.endswith("images") else _IDX_LABELS)
        for key, file in files.items()
    }
    for split in ("train", "test"):
        n_images, n_labels = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_images != n_labels:
            raise ValueError(
                f"{files[f'{split}_labels']}: {n_labels} labels, but "
                f"{files[f'{split}_images'].name} holds {n_images} images"
            )
    image_shape = arrays["train_images"].shape[1:]
    if arrays["test_images"].shape[1:] != image_shape:
        raise ValueError(
            f"{files['test_images']}: images are {arrays['test_images'].shape[1:]}, "
            f"but the training images are {image_shape}"
        )

    def pixels(images: np.ndarray) -> np.ndarray:  # (n, h, w) uint8 -> (n, h·w) in [0, 1]
        flat = images.reshape(len(images), -1)
        if binarize:
            return (flat > 127).astype(target)  # x / 255 > 0.5
        x = flat.astype(target)
        x /= 255
        return x

    return Dataset(
        pixels(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
        pixels(arrays["test_images"]), arrays["test_labels"].astype(np.int64),
        (int(image_shape[0]), int(image_shape[1])), "mnist",
    )


# ----------------------------------------------------------------- batches, checks

def batches(
    x: np.ndarray, batch_size: int, rng: np.random.Generator | int | None, shuffle: bool = True
) -> Iterator[np.ndarray]:
    """Yield the minibatches of one epoch: every row of ``x`` exactly once.

    Parameters
    ----------
    x : (n, ...) array
    batch_size : int ≥ 1
        The last batch holds the remaining ``n % batch_size`` rows when that is not 0.
    rng : numpy Generator or int seed
        Draws the order. Pass the *same* Generator every epoch to get a new order each
        epoch that is still reproducible from the seed.
    shuffle : bool
        If False, rows come in their stored order and ``rng`` is not used.

    Yields
    ------
    (b, ...) array, ``b ≤ batch_size``
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an int ≥ 1; got {batch_size!r}")
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension (rows to batch); got a scalar")
    n = len(x)
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield x[order[start:start + batch_size]]


def check_data(x: Any, name: str = "x", likelihood: str | None = None) -> np.ndarray:
    """Return ``x`` as a 2-D float array after checking it is fit to train on.

    Parameters
    ----------
    x : (n, d) float32 or float64 array (or a Tensor)
    name : str
        How ``x`` is called in the error messages.
    likelihood : str, optional
        The model's likelihood. With ``"bernoulli"`` every value must lie in [0, 1];
        other likelihoods (``"gaussian"``, ``"mse"``) accept any finite value. The model
        validates the name itself.

    Returns
    -------
    (n, d) array, the same data without a copy.

    Raises
    ------
    TypeError
        For integer or boolean data (scale it to [0, 1] floats yourself, e.g.
        ``x / 255.0``; ``vae_np`` does not guess the scale) and non-real data.
    ValueError
        For a wrong number of dimensions, an empty array, NaN or infinite values (the
        count and the first index), or values outside [0, 1] for a Bernoulli likelihood.
    """
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    if x.dtype.kind in "biu":
        seen = f" (values {x.min()}..{x.max()})" if x.size else ""
        raise TypeError(
            f"{name} has dtype {x.dtype}{seen}; vae_np needs floats in [0, 1]: scale it "
            f"yourself, e.g. {name}.astype(np.float64) / 255 for 8-bit images"
        )
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64; got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D, (n, d) with one example per row; got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    found = non_finite(x)
    if found:
        count, first = found
        raise ValueError(
            f"{name} has {count} non-finite values (NaN or inf); "
            f"the first is {x[first]} at index {first}"
        )
    if likelihood == "bernoulli":
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{name} must lie in [0, 1] for a Bernoulli likelihood; "
                f"found values from {lo} to {hi}"
            )
    return x
