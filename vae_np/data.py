"""The data: two image sets as float arrays in [0, 1], minibatches, and one input check.

* :func:`load_digits` gives scikit-learn's bundled 8×8 handwritten digits (1797 images,
  shipped inside scikit-learn, so nothing is fetched), split into train and test by a
  seeded permutation.
* :func:`load_mnist` reads the 28×28 MNIST digits from the four standard IDX files in a
  folder on your disk. ``vae_np`` never downloads data: put the files there yourself.
* :func:`batches` yields the minibatches of one epoch, in a fresh seeded order, of one
  array or of several arrays together (images and labels).
* :func:`check_data` is the one validation every model runs on its input: a 2-D float
  array, finite, and inside [0, 1] where the likelihood is Bernoulli.
  :func:`check_arrays` is its counterpart for several arrays batched together.

Every loader returns a :class:`Dataset`: images flattened to rows, ``x: (n, d)`` with
``d = h·w``, pixel values scaled to [0, 1], labels as integers.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .validate import as_array, as_rng, describe, float_dtype, integer, is_tensor, non_finite, positive_int

__all__ = ["Dataset", "load_digits", "load_mnist", "batches", "check_data", "check_arrays"]


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

_N_DIGITS = 1797  # images in scikit-learn's bundled set

def load_digits(test_size: int = 297, seed: int = 0, dtype: Any = np.float64) -> Dataset:
    """scikit-learn's 8×8 digits, scaled to [0, 1] and split by a seeded permutation.

    The 1797 images have integer pixel values 0..16; they are divided by 16, so the
    smallest value is exactly 0 and the largest exactly 1.

    Parameters
    ----------
    test_size : int
        Number of test images, ``0 < test_size < 1797``. The default leaves 1500 for
        training.
    seed : int ≥ 0
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
    n = _N_DIGITS
    test_size = integer(test_size, "test_size")
    if not 0 < test_size < n:
        raise ValueError(f"test_size must be between 1 and {n - 1} (there are {n} images); got {test_size}")
    order = as_rng(seed, "seed").permutation(n)
    raw = _sklearn_digits()
    x = (raw.data / 16.0).astype(target)
    y = raw.target.astype(np.int64)
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
        raw = file.read_bytes()
    except OSError as err:
        raise OSError(f"cannot read {file}: {err.strerror or err}") from None
    if file.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
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
    TypeError
        If ``path`` is not a str or Path, or ``dtype`` not float32/float64.
    FileNotFoundError, NotADirectoryError
        If the folder does not exist or is a file, or any of the four files is missing;
        the message names the folder and lists the missing files.
    OSError
        If a file cannot be read (naming it).
    ValueError
        If a file is corrupt: bad magic number, truncated, header and data disagree,
        label and image counts differ, or train and test image sizes differ.
    """
    target = float_dtype(dtype)
    if not isinstance(binarize, (bool, np.bool_)):
        raise TypeError(f"binarize must be True or False; got {describe(binarize)}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a folder name (str or Path); got {describe(path)}")
    folder = Path(path).expanduser().absolute()
    if not folder.is_dir():
        kind = "is a file, not a folder" if folder.exists() else "does not exist"
        error = NotADirectoryError if folder.exists() else FileNotFoundError
        raise error(f"MNIST folder {str(folder)!r} {kind}; put the four IDX files in a folder and pass "
                    f"its path (vae_np never downloads data)")
    files = _find_idx_files(folder)
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

def check_arrays(arrays: tuple[Any, ...], name: str = "arrays") -> tuple[np.ndarray, ...]:
    """Several arrays to batch together, checked: numbers, at least one axis, the same
    number of rows, none empty, no NaN or inf.

    Parameters
    ----------
    arrays : tuple of (n, ...) arrays (or Tensors, or lists), e.g. ``(x, y)``
    name : str
        How the tuple is called in the error messages (``name[i]`` for its items).

    Returns
    -------
    tuple of (n, ...) arrays, the same data without a copy (Tensors give their data).
    """
    if not isinstance(arrays, tuple) or not arrays:
        raise TypeError(f"{name} must be a non-empty tuple of arrays; got {describe(arrays)}")
    out = tuple(_rows(a, f"{name}[{i}]") for i, a in enumerate(arrays))
    lengths = [len(a) for a in out]
    if len(set(lengths)) > 1:
        raise ValueError(f"the arrays of {name} must have the same number of rows; got {lengths}")
    return out


def _rows(x: Any, name: str) -> np.ndarray:
    """``x`` as an array of numbers with at least one row, each finite."""
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array; got {describe(x)}")
    if is_tensor(x):
        x = x.data
    try:
        x = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged lists
        raise TypeError(f"{name} must be an array of numbers; got {describe(x)} ({err})") from None
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got an array of dtype {x.dtype}")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name} must have at least one row; got shape {x.shape}")
    if x.dtype.kind == "f":
        found = non_finite(x)
        if found:
            raise ValueError(f"{name} has {found[0]} non-finite values (NaN or inf); the first at index {found[1]}")
    return x


def batches(
    x: Any, batch_size: int, rng: np.random.Generator | int | None = None, shuffle: bool = True
) -> Iterator[Any]:
    """Yield the minibatches of one epoch: every row of ``x`` exactly once.

    Parameters
    ----------
    x : (n, ...) array, or a tuple of (n, ...) arrays such as ``(x, y)``
        A tuple is batched together: each batch is a tuple of the same rows of each.
    batch_size : int ≥ 1
        The last batch holds the remaining ``n % batch_size`` rows when that is not 0.
    rng : numpy Generator or int seed
        Draws the order (needed when ``shuffle``). Pass the *same* Generator every epoch
        to get a new order each epoch that is still reproducible from the seed.
    shuffle : bool
        If False, rows come in their stored order and ``rng`` is not used.

    Returns
    -------
    iterator of (b, ...) arrays, or of tuples of them, ``b ≤ batch_size``. The arguments
    are checked when ``batches`` is called, before the first batch.

    Examples
    --------
    >>> import numpy as np, vae_np as vn
    >>> x, y = np.arange(10.0).reshape(5, 2), np.array([0, 1, 2, 3, 4])
    >>> pairs = list(vn.batches((x, y), 2, rng=0))        # a shuffled order, rows kept together
    >>> [len(yb) for xb, yb in pairs], all((xb[:, 0] == 2 * yb).all() for xb, yb in pairs)
    ([2, 2, 1], True)
    """
    batch_size = positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False; got {describe(shuffle)}")
    several = isinstance(x, tuple)
    arrays = check_arrays(x, "x") if several else (_rows(x, "x"),)
    order = as_rng(rng, "rng").permutation(len(arrays[0])) if shuffle else None
    return _batches(arrays, batch_size, order, several)  # checked now, not at the first next()


def _batches(arrays: tuple[np.ndarray, ...], batch_size: int, order: np.ndarray | None,
             several: bool) -> Iterator[Any]:
    for start in range(0, len(arrays[0]), batch_size):
        rows = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
        batch = tuple(a[rows] for a in arrays)
        yield batch if several else batch[0]


def check_data(x: Any, name: str = "x", likelihood: str | None = None) -> np.ndarray:
    """Return ``x`` as a 2-D float array after checking it is fit to train on.

    Parameters
    ----------
    x : (n, d) float array, a Tensor, or a nested list of numbers
        float32 and float64 arrays pass without a copy (read-only and Fortran-ordered
        ones too); float16 and lists become float64.
    name : str
        How ``x`` is called in the error messages.
    likelihood : str, optional
        The model's likelihood. With ``"bernoulli"`` every value must lie in [0, 1];
        other likelihoods (``"gaussian"``, ``"mse"``) accept any finite value. The model
        validates the name itself.

    Returns
    -------
    (n, d) float32 or float64 array.

    Raises
    ------
    TypeError
        For integer or boolean arrays (scale them to [0, 1] floats yourself, e.g.
        ``x / 255.0``; ``vae_np`` does not guess the scale) and non-numeric data.
    ValueError
        For a wrong number of dimensions, an empty array, NaN or infinite values (the
        count and the first index), or values outside [0, 1] for a Bernoulli likelihood.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str; got {describe(name)}")
    raw = x.data if is_tensor(x) else x
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "biu":
        seen = f" (values {raw.min()}..{raw.max()})" if raw.size else ""
        raise TypeError(
            f"{name} has dtype {raw.dtype}{seen}; vae_np needs floats in [0, 1]: scale it "
            f"yourself, e.g. {name}.astype(np.float64) / 255 for 8-bit images"
        )
    x = as_array(raw, name)  # float16 and lists -> float64; strings, objects -> TypeError
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
