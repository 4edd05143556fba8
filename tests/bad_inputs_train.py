"""Bad-input rows for TRAIN's public names: fit, evaluate, the model protocols, batches,
check_data, check_arrays, load_digits and load_mnist (assembled by tests/test_bad_inputs.py).

The command line's errors are one printed line and an exit status, not an exception:
tests/test_cli.py checks them with its own table of flags, so ``cli`` has no row here.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import vae_np as vn

X = np.full((6, 64), 0.5)


def _model():
    return vn.DiagonalVAE(input_dim=64, hidden_dims=[4], latent_dim=2, seed=0)


def _fit(**kwargs):
    args = {"epochs": 1, "progress": False, **kwargs}
    model = args.pop("model", None) or _model()
    x = args.pop("x", X)
    return lambda: vn.fit(model, x, **args)


def _eval(**kwargs):
    x = kwargs.pop("x", X)
    return lambda: vn.evaluate(_model() if "model" not in kwargs else kwargs.pop("model"), x, **kwargs)


def _with_nan(x):
    x = np.array(x, dtype=float)
    x[1, 2] = np.nan
    return x


def _folder(files: dict[str, bytes] | None = None, as_file: bool = False) -> Path:
    """A fresh temporary folder holding ``files`` (or, with ``as_file``, a file)."""
    root = Path(tempfile.mkdtemp(prefix="vae_np_bad_"))
    if as_file:
        (root / "mnist").write_bytes(b"")
        return root / "mnist"
    for name, content in (files or {}).items():
        (root / name).write_bytes(content)
    return root


_MNIST_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"]
_BAD_MAGIC = {name: b"\x00\x00\x08\x09" + b"\x00" * 16 for name in _MNIST_NAMES}


def _class_mlp():
    return vn.MLP([64, 2], "tanh", np.random.default_rng(0))


ROWS = [
    # ---- fit: sizes, rates, seeds
    ("fit/epochs-float", _fit(epochs=2.5), TypeError, ["epochs", "int", "2.5"]),
    ("fit/epochs-bool", _fit(epochs=True), TypeError, ["epochs", "bool"]),
    ("fit/epochs-zero", _fit(epochs=0), ValueError, ["epochs", "≥ 1", "0"]),
    ("fit/epochs-str", _fit(epochs="3"), TypeError, ["epochs", "str"]),
    ("fit/batch_size-zero", _fit(batch_size=0), ValueError, ["batch_size", "≥ 1"]),
    ("fit/batch_size-float", _fit(batch_size=32.0), TypeError, ["batch_size", "int"]),
    ("fit/lr-negative", _fit(lr=-1e-3), ValueError, ["lr", "-0.001"]),
    ("fit/lr-nan", _fit(lr=float("nan")), ValueError, ["lr", "finite"]),
    ("fit/lr-str", _fit(lr="1e-3"), TypeError, ["lr", "str"]),
    ("fit/seed-float", _fit(seed=1.5), TypeError, ["seed", "int"]),
    ("fit/seed-negative", _fit(seed=-1), ValueError, ["seed", "≥ 0"]),
    ("fit/beta-negative", _fit(beta=-0.5), ValueError, ["beta", "-0.5"]),
    ("fit/beta-str", _fit(beta="2"), TypeError, ["beta", "str"]),
    ("fit/progress-str", _fit(progress="no"), TypeError, ["progress", "str"]),
    # ---- fit: the optimizer
    ("fit/optimizer-unknown", _fit(optimizer="rmsprop"), ValueError, ["optimizer", "'adam'", "rmsprop"]),
    ("fit/optimizer-class", _fit(optimizer=vn.Adam), TypeError, ["optimizer", "class Adam", "instance"]),
    ("fit/optimizer-foreign", lambda: vn.fit(_model(), X, epochs=1, optimizer=vn.Adam(_model().parameters()),
                                             progress=False),
     ValueError, ["optimizer", "none of the model's parameters"]),
    # ---- fit: the model and the objective
    ("fit/model-class", lambda: vn.fit(vn.FullCovVAE, X, epochs=1), TypeError, ["model", "class FullCovVAE"]),
    ("fit/model-none", lambda: vn.fit(None, X, epochs=1), TypeError, ["model", "parameters"]),
    ("fit/loss-not-callable", _fit(loss="iwae"), TypeError, ["loss", "function"]),
    ("fit/loss-class", _fit(loss=vn.Tensor), TypeError, ["loss", "class Tensor"]),
    ("fit/loss-with-beta", _fit(loss=lambda m, xb, rng: m.loss(xb), beta=2.0), ValueError, ["beta", "loss=fn"]),
    ("fit/loss-returns-float", _fit(loss=lambda m, xb, rng: 1.0), TypeError, ["loss", "scalar Tensor", "float"]),
    # ---- fit: the data
    ("fit/x_train-none", _fit(x=None), TypeError, ["x_train", "NoneType"]),
    ("fit/x_train-str", _fit(x="digits"), TypeError, ["x_train", "str"]),
    ("fit/x_train-nan", _fit(x=_with_nan(X)), ValueError, ["x_train", "non-finite", "(1, 2)"]),
    ("fit/x_train-empty", _fit(x=np.zeros((0, 64))), ValueError, ["x_train", "empty"]),
    ("fit/x_train-1d", _fit(x=np.zeros(64)), ValueError, ["x_train", "2-D", "(64,)"]),
    ("fit/x_train-uint8", _fit(x=np.zeros((4, 64), np.uint8)), TypeError, ["x_train", "uint8", "/ 255"]),
    ("fit/x_train-complex", _fit(x=np.zeros((4, 64), complex)), TypeError, ["x_train", "complex"]),
    ("fit/x_train-width", _fit(x=np.zeros((4, 10))), ValueError, ["x_train", "(n, 64)", "(4, 10)"]),
    ("fit/x_train-bernoulli-range", _fit(x=X * 3), ValueError, ["x_train", "[0, 1]", "1.5"]),
    ("fit/x_train-tuple-for-elbo", _fit(x=(X, np.zeros(6))), ValueError, ["x_train", "tuple of 2", "loss=fn"]),
    ("fit/x_train-tuple-unequal", _fit(x=(X, np.zeros(5)), loss=lambda m, b, r: m.loss(b[0])), ValueError,
     ["x_train", "same number of rows", "[6, 5]"]),
    ("fit/x_val-nan", _fit(x_val=_with_nan(X)), ValueError, ["x_val", "non-finite"]),
    ("fit/x_val-not-like-x_train", _fit(x=(X, np.zeros(6)), x_val=X, loss=lambda m, b, r: m.loss(b[0])),
     TypeError, ["x_val", "tuple of arrays"]),
    # ---- the model protocols, as fit and evaluate check them
    ("TrainableModel/no-parameters", lambda: vn.fit(object(), X, epochs=1, loss=lambda m, b, r: None),
     TypeError, ["model", "parameters", "lacks parameters"]),
    ("ELBOModel/no-neg_elbo", lambda: vn.fit(_class_mlp(), X, epochs=1), TypeError,
     ["ELBOModel", "lacks neg_elbo", "loss=fn"]),
    ("ELBOModel/evaluate-no-neg_elbo", lambda: vn.evaluate(_class_mlp(), X), TypeError, ["ELBOModel", "neg_elbo"]),
    # ---- evaluate
    ("evaluate/batch_size-negative", _eval(batch_size=-5), ValueError, ["batch_size", "-5"]),
    ("evaluate/batch_size-float", _eval(batch_size=8.5), TypeError, ["batch_size", "int"]),
    ("evaluate/samples-zero", _eval(samples=0), ValueError, ["samples", "≥ 1"]),
    ("evaluate/samples-bool", _eval(samples=True), TypeError, ["samples", "bool"]),
    ("evaluate/seed-str", _eval(seed="0"), TypeError, ["seed", "str"]),
    ("evaluate/x-nan", _eval(x=_with_nan(X)), ValueError, ["x", "non-finite"]),
    ("evaluate/x-list-ragged", _eval(x=[[0.5, 0.5], [0.5]]), TypeError, ["x", "array-like"]),
    ("evaluate/model-class", lambda: vn.evaluate(vn.DiagonalVAE, X), TypeError, ["model", "class DiagonalVAE"]),
    ("evaluate/loss-str", _eval(loss="elbo"), TypeError, ["loss", "str"]),
    # ---- batches
    ("batches/batch_size-zero", lambda: vn.batches(X, 0, 0), ValueError, ["batch_size", "≥ 1"]),
    ("batches/batch_size-float", lambda: vn.batches(X, 2.5, 0), TypeError, ["batch_size", "float"]),
    ("batches/batch_size-bool", lambda: vn.batches(X, True, 0), TypeError, ["batch_size", "bool"]),
    ("batches/rng-float", lambda: vn.batches(X, 2, 0.5), TypeError, ["rng", "Generator", "float"]),
    ("batches/rng-str", lambda: vn.batches(X, 2, "seed"), TypeError, ["rng", "str"]),
    ("batches/rng-class", lambda: vn.batches(X, 2, np.random.Generator), TypeError, ["rng", "class Generator"]),
    ("batches/rng-legacy", lambda: vn.batches(X, 2, np.random.RandomState(0)), TypeError, ["rng", "RandomState"]),
    ("batches/rng-none", lambda: vn.batches(X, 2), TypeError, ["rng", "NoneType"]),
    ("batches/rng-negative", lambda: vn.batches(X, 2, -3), ValueError, ["rng", "-3"]),
    ("batches/shuffle-str", lambda: vn.batches(X, 2, 0, shuffle="yes"), TypeError, ["shuffle", "str"]),
    ("batches/x-none", lambda: vn.batches(None, 2, 0), TypeError, ["x", "NoneType"]),
    ("batches/x-scalar", lambda: vn.batches(np.float64(3.0), 2, 0), ValueError, ["x", "row", "()"]),
    ("batches/x-empty", lambda: vn.batches(np.zeros((0, 3)), 2, 0), ValueError, ["x", "row", "(0, 3)"]),
    ("batches/x-strings", lambda: vn.batches(np.array(["a", "b"]), 2, 0), TypeError, ["x", "numbers", "<U1"]),
    ("batches/x-unequal", lambda: vn.batches((X, np.arange(4)), 2, 0), ValueError, ["same number of rows", "[6, 4]"]),
    ("batches/x-nan-in-second", lambda: vn.batches((X, np.array([0, 1, np.nan, 3, 4, 5])), 2, 0), ValueError,
     ["x[1]", "non-finite"]),
    # ---- check_data and check_arrays
    ("check_data/int", lambda: vn.check_data(np.arange(6).reshape(2, 3), "pixels"), TypeError, ["pixels", "int64"]),
    ("check_data/bool", lambda: vn.check_data(np.ones((2, 3), bool)), TypeError, ["x", "bool"]),
    ("check_data/none", lambda: vn.check_data(None), TypeError, ["x", "NoneType"]),
    ("check_data/strings", lambda: vn.check_data([["a", "b"]]), TypeError, ["x", "real numbers"]),
    ("check_data/object", lambda: vn.check_data(np.array([[object()]])), TypeError, ["x", "object"]),
    ("check_data/empty", lambda: vn.check_data(np.zeros((0, 3))), ValueError, ["x", "empty"]),
    ("check_data/3d", lambda: vn.check_data(np.zeros((2, 3, 4))), ValueError, ["x", "2-D", "(2, 3, 4)"]),
    ("check_data/nan", lambda: vn.check_data(_with_nan(X), "x_val"), ValueError, ["x_val", "non-finite", "(1, 2)"]),
    ("check_data/inf-float16", lambda: vn.check_data(np.full((2, 3), np.inf, np.float16)), ValueError,
     ["x", "non-finite"]),
    ("check_data/bernoulli-range", lambda: vn.check_data(-X, "x", "bernoulli"), ValueError, ["x", "[0, 1]", "-0.5"]),
    ("check_data/name-int", lambda: vn.check_data(X, 3), TypeError, ["name", "str"]),
    ("check_arrays/list", lambda: vn.check_arrays([X, X]), TypeError, ["arrays", "tuple", "list"]),
    ("check_arrays/empty-tuple", lambda: vn.check_arrays(()), TypeError, ["arrays", "non-empty tuple"]),
    ("check_arrays/unequal", lambda: vn.check_arrays((X, X[:2]), "data"), ValueError, ["data", "[6, 2]"]),
    ("check_arrays/ragged", lambda: vn.check_arrays((X, [[1], [2, 3]])), TypeError, ["arrays[1]", "numbers"]),
    # ---- load_digits
    ("load_digits/test_size-float", lambda: vn.load_digits(test_size=0.2), TypeError, ["test_size", "int", "0.2"]),
    ("load_digits/test_size-bool", lambda: vn.load_digits(test_size=True), TypeError, ["test_size", "bool"]),
    ("load_digits/test_size-zero", lambda: vn.load_digits(test_size=0), ValueError, ["test_size", "1796"]),
    ("load_digits/test_size-all", lambda: vn.load_digits(test_size=1797), ValueError, ["test_size", "1797"]),
    ("load_digits/seed-float", lambda: vn.load_digits(seed=0.5), TypeError, ["seed", "float"]),
    ("load_digits/seed-negative", lambda: vn.load_digits(seed=-2), ValueError, ["seed", "-2"]),
    ("load_digits/dtype-int", lambda: vn.load_digits(dtype=np.int32), TypeError, ["dtype", "float32 or float64"]),
    ("load_digits/dtype-str", lambda: vn.load_digits(dtype="double-ish"), TypeError, ["dtype", "double-ish"]),
    # ---- load_mnist
    ("load_mnist/path-none", lambda: vn.load_mnist(None), TypeError, ["path", "NoneType"]),
    ("load_mnist/path-int", lambda: vn.load_mnist(7), TypeError, ["path", "int"]),
    ("load_mnist/path-missing", lambda: vn.load_mnist("/nonexistent/mnist-folder"), FileNotFoundError,
     ["/nonexistent/mnist-folder", "does not exist"]),
    ("load_mnist/path-is-a-file", lambda: vn.load_mnist(_folder(as_file=True)), NotADirectoryError,
     ["mnist", "is a file"]),
    ("load_mnist/files-missing", lambda: vn.load_mnist(_folder()), FileNotFoundError,
     ["train-images-idx3-ubyte", "never downloads"]),
    ("load_mnist/bad-magic", lambda: vn.load_mnist(_folder(_BAD_MAGIC)), ValueError, ["magic", "0x00000809"]),
    ("load_mnist/dtype", lambda: vn.load_mnist(_folder(), dtype=np.uint8), TypeError, ["dtype", "uint8"]),
    ("load_mnist/binarize-str", lambda: vn.load_mnist(_folder(), binarize="yes"), TypeError, ["binarize", "str"]),
]
