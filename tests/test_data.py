"""Tests for vae_np.data: the digits split, the IDX reader, minibatches and check_data."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
import sklearn.datasets
from hypothesis import given, settings, strategies as st

import vae_np as vn
from vae_np.data import batches, check_data, load_digits, load_mnist

N_DIGITS = 1797  # the size of scikit-learn's bundled digits set


# ------------------------------------------------------------------------- digits

@pytest.fixture(scope="module")
def digits():
    return load_digits()


def sorted_rows(x, y):
    """The (pixels, label) rows of a data set as a sorted list, to compare as multisets."""
    return sorted(map(tuple, np.column_stack([x, y]).tolist()))


def test_digits_shapes_and_range(digits):
    assert digits.x_train.shape == (1500, 64) and digits.x_test.shape == (297, 64)
    assert digits.y_train.shape == (1500,) and digits.y_test.shape == (297,)
    assert digits.image_shape == (8, 8) and digits.name == "digits"
    x = np.concatenate([digits.x_train, digits.x_test])
    assert x.dtype == np.float64 and x.min() == 0.0 and x.max() == 1.0
    assert digits.y_train.dtype.kind == "i" and set(np.unique(digits.y_train)) == set(range(10))


def test_digits_split_is_a_partition_of_sklearns_data(digits):
    raw = sklearn.datasets.load_digits()
    x = np.concatenate([digits.x_train, digits.x_test]) * 16
    y = np.concatenate([digits.y_train, digits.y_test])
    assert sorted_rows(x, y) == sorted_rows(raw.data, raw.target)


def test_digits_same_seed_same_split_other_seed_other_split(digits):
    again, other = load_digits(seed=0), load_digits(seed=1)
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    assert not np.array_equal(other.x_train, digits.x_train)
    # a different seed moves images between the two sides, not only within one
    assert sorted_rows(other.x_test, other.y_test) != sorted_rows(digits.x_test, digits.y_test)


def test_digits_float32_and_test_size(digits):
    small = load_digits(test_size=100, dtype=np.float32)
    assert small.x_train.dtype == np.float32 and small.x_test.dtype == np.float32
    assert small.x_train.shape == (N_DIGITS - 100, 64) and small.x_test.shape == (100, 64)


@pytest.mark.parametrize("test_size", [0, -5, N_DIGITS, N_DIGITS + 1])
def test_digits_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=test_size)


def test_digits_bad_dtype():
    with pytest.raises(TypeError, match="float32 or float64"):
        load_digits(dtype=np.int32)


# -------------------------------------------------------------------------- MNIST

NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file: big-endian magic, big-endian uint32 dimensions, then uint8 values."""
    array = np.asarray(array, dtype=np.uint8)
    return magic.to_bytes(4, "big") + np.array(array.shape, dtype=">u4").tobytes() + array.tobytes()


def tiny_mnist(rng, n_train=5, n_test=3, shape=(4, 4)):
    """Random uint8 images (with the extremes 0 and 255 present) and labels 0..9."""
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays["train_images"].flat[:2] = [0, 255]
    return arrays


def write_mnist(folder, arrays, gz=False, skip=()):
    """Write the four IDX files of ``arrays`` into ``folder``; return their paths."""
    paths = {}
    for key, name in NAMES.items():
        if key in skip:
            continue
        data = idx_bytes(arrays[key], 0x803 if key.endswith("images") else 0x801)
        path = folder / (name + ".gz" if gz else name)
        path.write_bytes(gzip.compress(data) if gz else data)
        paths[key] = path
    return paths


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_mnist_round_trip(tmp_path, gz):
    arrays = tiny_mnist(np.random.default_rng(0))
    write_mnist(tmp_path, arrays, gz=gz)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (5, 16) and data.x_test.shape == (3, 16)
    assert data.image_shape == (4, 4) and data.name == "mnist"
    assert data.x_train.dtype == np.float64
    np.testing.assert_allclose(data.x_train, arrays["train_images"].reshape(5, 16) / 255.0)
    np.testing.assert_allclose(data.x_test, arrays["test_images"].reshape(3, 16) / 255.0)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.y_train.dtype.kind == "i"


def test_mnist_float32_and_binarize(tmp_path):
    arrays = tiny_mnist(np.random.default_rng(1))
    write_mnist(tmp_path, arrays)
    data = load_mnist(str(tmp_path), dtype=np.float32, binarize=True)
    assert data.x_train.dtype == np.float32
    expected = (arrays["train_images"].reshape(5, 16) / 255.0 > 0.5).astype(np.float32)
    np.testing.assert_array_equal(data.x_train, expected)


def test_mnist_missing_files_names_them_and_the_folder(tmp_path):
    write_mnist(tmp_path, tiny_mnist(np.random.default_rng(2)), skip=("test_labels", "train_images"))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "never downloads" in message
    assert NAMES["test_labels"] in message and NAMES["train_images"] in message
    assert NAMES["train_labels"] not in message and NAMES["test_images"] not in message


def test_mnist_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_mnist(tmp_path / "nowhere")


@pytest.mark.parametrize("corrupt, key, match", [
    ("magic", "train_images", "magic"),
    ("truncated", "test_images", "header promises"),
    ("padded", "train_images", "header promises"),
    ("header-only", "train_labels", "truncated"),
    ("count", "test_labels", "3 images"),
    ("gzip", "train_images", "decompress"),
    ("image-size", "test_images", "training images"),
])
def test_mnist_corrupt_file_names_it(tmp_path, corrupt, key, match):
    arrays = tiny_mnist(np.random.default_rng(3))
    if corrupt == "count":
        arrays["test_labels"] = arrays["test_labels"][:2]
    if corrupt == "image-size":
        arrays["test_images"] = arrays["test_images"][:, :3, :]
    paths = write_mnist(tmp_path, arrays)
    path = paths[key]
    raw = path.read_bytes()
    if corrupt == "magic":
        path.write_bytes((0x801).to_bytes(4, "big") + raw[4:])
    elif corrupt == "truncated":
        path.write_bytes(raw[:-1])
    elif corrupt == "padded":
        path.write_bytes(raw + b"\x00")
    elif corrupt == "header-only":
        path.write_bytes(raw[:6])
    elif corrupt == "gzip":
        path.unlink()
        path.with_name(path.name + ".gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(tmp_path)
    assert NAMES[key] in str(info.value)


# ------------------------------------------------------------------------ batches

def test_batches_cover_every_row_once_per_epoch():
    x = np.arange(23.0)[:, None]
    rng = np.random.default_rng(0)
    epochs = [list(batches(x, 5, rng)) for _ in range(2)]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [5, 5, 5, 5, 3]
        np.testing.assert_array_equal(np.sort(np.concatenate(epoch)[:, 0]), np.arange(23.0))
    first, second = (np.concatenate(e)[:, 0] for e in epochs)
    assert not np.array_equal(first, second), "the same generator should give a new order each epoch"
    assert not np.array_equal(first, np.arange(23.0)), "shuffle=True should shuffle"


def test_batches_deterministic_per_seed_and_in_order_without_shuffle():
    x = np.random.default_rng(0).standard_normal((17, 3))
    a = np.concatenate(list(batches(x, 4, np.random.default_rng(7))))
    b = np.concatenate(list(batches(x, 4, np.random.default_rng(7))))
    c = np.concatenate(list(batches(x, 4, np.random.default_rng(8))))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.concatenate(list(batches(x, 4, None, shuffle=False))), x)


@settings(deadline=None, max_examples=30)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_batches_partition_property(n, batch_size, seed):
    out = list(batches(np.arange(n), batch_size, seed))
    assert len(out) == -(-n // batch_size)
    assert all(len(b) == batch_size for b in out[:-1]) and 1 <= len(out[-1]) <= batch_size
    np.testing.assert_array_equal(np.sort(np.concatenate(out)), np.arange(n))


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError),
                                               (True, TypeError), ("8", TypeError)])
def test_batches_bad_batch_size_is_refused_at_the_call(batch_size, error):
    with pytest.raises(error, match="batch_size"):
        batches(np.zeros((4, 2)), batch_size, 0)          # not only at the first next()


def test_batches_of_several_arrays_keep_rows_together():
    x = np.arange(30.0).reshape(10, 3)
    y = np.arange(10) * 7
    out = list(batches((x, y), 4, np.random.default_rng(1)))
    assert [len(xb) for xb, _ in out] == [4, 4, 2] and all(isinstance(b, tuple) and len(b) == 2 for b in out)
    for xb, yb in out:
        np.testing.assert_array_equal(xb[:, 0] / 3 * 7, yb)               # row i of x with label i
    np.testing.assert_array_equal(np.sort(np.concatenate([yb for _, yb in out])), y)
    singles = np.concatenate(list(batches(x, 4, np.random.default_rng(1))))   # same order as one array
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in out]), singles)


def test_batches_accept_an_int_seed_a_generator_and_a_tensor():
    x = np.arange(12.0).reshape(6, 2)
    by_seed = np.concatenate(list(batches(vn.Tensor(x), 4, 5)))
    by_rng = np.concatenate(list(batches(x, 4, np.random.default_rng(5))))
    np.testing.assert_array_equal(by_seed, by_rng)


# --------------------------------------------------------------------- check_data

def test_check_data_converts_unusual_but_legitimate_input():
    x = np.random.default_rng(0).random((4, 3))
    np.testing.assert_array_equal(check_data(x.tolist()), x)                        # a list
    half = check_data(x.astype(np.float16))                                          # float16 -> float64
    assert half.dtype == np.float64 and np.allclose(half, x, atol=1e-3)
    frozen = x.copy()
    frozen.flags.writeable = False
    assert check_data(frozen, likelihood="bernoulli") is frozen                       # read-only, no copy
    fortran = np.asfortranarray(x)
    assert check_data(fortran) is fortran                                             # Fortran order kept
    model = vn.DiagonalVAE(input_dim=3, hidden_dims=[4], latent_dim=2)
    for data in (x.tolist(), frozen, fortran, x.astype(np.float16)):
        assert np.isfinite(vn.evaluate(model, data)["loss"])


def test_check_arrays_unwraps_and_checks_each():
    x, y = np.zeros((3, 2)), np.arange(3)
    out = vn.check_arrays((vn.Tensor(x), y.tolist()))
    assert out[0] is x and np.array_equal(out[1], y)
    with pytest.raises(ValueError, match=r"pair\[1\] has 1 non-finite"):
        vn.check_arrays((x, np.array([0.0, np.nan, 1.0])), "pair")


# --------------------------------------------------------------------- check_data

def test_check_data_passes_good_data_through_without_copy():
    x = np.random.default_rng(0).random((4, 3)).astype(np.float32)
    assert check_data(x, likelihood="bernoulli") is x
    assert check_data(vn.Tensor(x)) is x
    y = 10 * x.astype(np.float64) - 5
    assert check_data(y, likelihood="gaussian") is y
    assert check_data(y, likelihood="mse") is y


@pytest.mark.parametrize("value, count", [(np.nan, 2), (np.inf, 1), (-np.inf, 3)])
def test_check_data_non_finite_reports_count_and_first_index(value, count):
    x = np.zeros((4, 5))
    x.flat[[7, 12, 18][:count]] = value
    with pytest.raises(ValueError, match=rf"data has {count} non-finite .*\(1, 2\)"):
        check_data(x, name="data")


@pytest.mark.parametrize("low, high", [(-0.5, 0.75), (0.25, 1.5)])
def test_check_data_bernoulli_range_names_min_and_max(low, high):
    x = np.array([[low, 0.5], [0.5, high]])
    with pytest.raises(ValueError, match=rf"\[0, 1\].*{low}.*{high}"):
        check_data(x, likelihood="bernoulli")
    check_data(x)  # without a Bernoulli likelihood any finite value is fine


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, bool])
def test_check_data_integer_data_must_be_scaled_by_the_user(dtype):
    with pytest.raises(TypeError, match="scale"):
        check_data(np.ones((2, 3), dtype=dtype), name="images")


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4), ()])
def test_check_data_wrong_ndim(shape):
    with pytest.raises(ValueError, match=r"x must be 2-D"):
        check_data(np.zeros(shape))


def test_check_data_other_errors():
    with pytest.raises(ValueError, match="empty"):
        check_data(np.zeros((0, 4)))
    with pytest.raises(TypeError, match="float32 or float64"):
        check_data(np.zeros((2, 2), dtype=np.complex128))
