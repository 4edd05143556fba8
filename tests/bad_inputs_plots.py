"""Rows of the bad-input table (tests/test_bad_inputs.py) for vae_np.plots.

Each row: (id, call, error type, words the message must contain).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the test process only; the package never picks a backend

import numpy as np

import vae_np as vn
from vae_np import plots

IMG = np.full((4, 6), 0.5)          # 4 images of 2 x 3 pixels
HIST = {"train_loss": [3.0, 2.0]}
MU = np.zeros((3, 2))
L = np.broadcast_to(np.eye(2), (3, 2, 2)).copy()
COV = np.eye(2)


def decode(z):
    return np.full((len(z), 6), 0.5)


def nan_at(a, index):
    a = np.array(a, dtype=float)
    a[index] = np.nan
    return a


ROWS = [
    # plot_history
    ("plots.plot_history/none", lambda: plots.plot_history(None), ValueError, ["history", "dict"]),
    ("plots.plot_history/list", lambda: plots.plot_history([1.0, 2.0]), ValueError, ["history", "dict"]),
    ("plots.plot_history/no-known-key", lambda: plots.plot_history({"loss": [1.0]}), ValueError,
     ["history", "train_loss"]),
    ("plots.plot_history/empty", lambda: plots.plot_history({"train_loss": []}), ValueError,
     ["history", "non-empty"]),
    ("plots.plot_history/unequal", lambda: plots.plot_history({"train_loss": [1.0, 2.0], "val_loss": [1.0]}),
     ValueError, ["equal length"]),
    ("plots.plot_history/string-values", lambda: plots.plot_history({"train_loss": "1, 2"}), TypeError,
     ["history['train_loss']", "str"]),
    ("plots.plot_history/none-values", lambda: plots.plot_history({"train_loss": None}), TypeError,
     ["history['train_loss']"]),
    ("plots.plot_history/nan", lambda: plots.plot_history({"train_loss": [1.0, float("nan")]}), ValueError,
     ["history['train_loss']", "non-finite"]),
    ("plots.plot_history/one-axes", lambda: plots.plot_history(HIST, ax=matplotlib.pyplot.gca()), ValueError,
     ["ax", "two axes"]),
    ("plots.plot_history/axes-not-axes", lambda: plots.plot_history(HIST, ax=[1, 2]), TypeError,
     ["ax[0]", "axes"]),
    # plot_images
    ("plots.plot_images/ncols-float", lambda: plots.plot_images(IMG, (2, 3), ncols=2.0), TypeError,
     ["ncols", "int"]),
    ("plots.plot_images/ncols-bool", lambda: plots.plot_images(IMG, (2, 3), ncols=True), TypeError,
     ["ncols", "int"]),
    ("plots.plot_images/ncols-zero", lambda: plots.plot_images(IMG, (2, 3), ncols=0), ValueError,
     ["ncols", "≥ 1"]),
    ("plots.plot_images/ncols-string", lambda: plots.plot_images(IMG, (2, 3), ncols="4"), TypeError,
     ["ncols", "int"]),
    ("plots.plot_images/images-none", lambda: plots.plot_images(None, (2, 3)), TypeError, ["images"]),
    ("plots.plot_images/images-string", lambda: plots.plot_images("digits", (2, 3)), TypeError, ["images"]),
    ("plots.plot_images/images-class", lambda: plots.plot_images(vn.FullCovVAE, (2, 3)), TypeError,
     ["images"]),
    ("plots.plot_images/images-1d", lambda: plots.plot_images(np.zeros(6), (2, 3)), ValueError,
     ["images", "2-d"]),
    ("plots.plot_images/images-empty", lambda: plots.plot_images(np.zeros((0, 6)), (2, 3)), ValueError,
     ["images", "empty"]),
    ("plots.plot_images/images-nan", lambda: plots.plot_images(nan_at(IMG, (1, 2)), (2, 3)), ValueError,
     ["images", "nan"]),
    ("plots.plot_images/images-columns", lambda: plots.plot_images(np.zeros((4, 5)), (2, 3)), ValueError,
     ["images", "columns", "6"]),
    ("plots.plot_images/image-shape-none", lambda: plots.plot_images(IMG, None), TypeError,
     ["image_shape", "pair"]),
    ("plots.plot_images/image-shape-one", lambda: plots.plot_images(IMG, (6,)), TypeError,
     ["image_shape", "pair"]),
    ("plots.plot_images/image-shape-string", lambda: plots.plot_images(IMG, "2x3"), TypeError,
     ["image_shape", "pair"]),
    ("plots.plot_images/image-shape-float", lambda: plots.plot_images(IMG, (2.0, 3)), TypeError,
     ["image_shape", "int"]),
    ("plots.plot_images/image-shape-zero", lambda: plots.plot_images(IMG, (0, 3)), ValueError,
     ["image_shape", "≥ 1"]),
    ("plots.plot_images/title-number", lambda: plots.plot_images(IMG, (2, 3), title=3), TypeError,
     ["title", "str"]),
    # plot_reconstructions
    ("plots.plot_reconstructions/shapes-differ", lambda: plots.plot_reconstructions(IMG, IMG[:3], (2, 3)),
     ValueError, ["x and x_hat", "same shape"]),
    ("plots.plot_reconstructions/x-hat-none", lambda: plots.plot_reconstructions(IMG, None, (2, 3)),
     TypeError, ["x_hat"]),
    ("plots.plot_reconstructions/x-nan", lambda: plots.plot_reconstructions(nan_at(IMG, (0, 0)), IMG, (2, 3)),
     ValueError, ["x", "nan"]),
    ("plots.plot_reconstructions/n-float", lambda: plots.plot_reconstructions(IMG, IMG, (2, 3), n=2.5),
     TypeError, ["n", "int"]),
    ("plots.plot_reconstructions/n-zero", lambda: plots.plot_reconstructions(IMG, IMG, (2, 3), n=0),
     ValueError, ["n", "≥ 1"]),
    # covariance_ellipse
    ("plots.covariance_ellipse/mean-shape", lambda: plots.covariance_ellipse([0.0, 0.0, 0.0], COV),
     ValueError, ["mean", "shape"]),
    ("plots.covariance_ellipse/mean-none", lambda: plots.covariance_ellipse(None, COV), TypeError, ["mean"]),
    ("plots.covariance_ellipse/cov-shape", lambda: plots.covariance_ellipse([0.0, 0.0], np.eye(3)),
     ValueError, ["cov", "shape"]),
    ("plots.covariance_ellipse/cov-nan", lambda: plots.covariance_ellipse([0.0, 0.0], nan_at(COV, (0, 1))),
     ValueError, ["cov", "non-finite"]),
    ("plots.covariance_ellipse/cov-asymmetric", lambda: plots.covariance_ellipse([0, 0], [[1.0, 0.5], [0.0, 1.0]]),
     ValueError, ["cov", "symmetric"]),
    ("plots.covariance_ellipse/cov-indefinite", lambda: plots.covariance_ellipse([0, 0], [[1.0, 2.0], [2.0, 1.0]]),
     ValueError, ["cov", "positive semi-definite"]),
    ("plots.covariance_ellipse/n-std-zero", lambda: plots.covariance_ellipse([0, 0], COV, n_std=0),
     ValueError, ["n_std"]),
    ("plots.covariance_ellipse/n-std-string", lambda: plots.covariance_ellipse([0, 0], COV, n_std="2"),
     TypeError, ["n_std", "real number"]),
    # plot_latent
    ("plots.plot_latent/mu-3-columns", lambda: plots.plot_latent(np.zeros((3, 3))), ValueError,
     ["mu", "2 columns", "latent_dim=2"]),
    ("plots.plot_latent/mu-none", lambda: plots.plot_latent(None), TypeError, ["mu"]),
    ("plots.plot_latent/mu-class", lambda: plots.plot_latent(vn.FullCovVAE), TypeError, ["mu"]),
    ("plots.plot_latent/mu-nan", lambda: plots.plot_latent(nan_at(MU, (2, 1))), ValueError, ["mu", "nan"]),
    ("plots.plot_latent/L-shape", lambda: plots.plot_latent(MU, L[:2]), ValueError, ["L", "shape"]),
    ("plots.plot_latent/L-nan", lambda: plots.plot_latent(MU, nan_at(L, (0, 1, 0))), ValueError,
     ["L", "non-finite"]),
    ("plots.plot_latent/labels-length", lambda: plots.plot_latent(MU, labels=[0, 1]), ValueError,
     ["labels", "shape"]),
    ("plots.plot_latent/labels-string", lambda: plots.plot_latent(MU, labels="012"), TypeError, ["labels"]),
    ("plots.plot_latent/labels-nan", lambda: plots.plot_latent(MU, labels=[0.0, np.nan, 1.0]), ValueError,
     ["labels", "non-finite"]),
    ("plots.plot_latent/n-ellipses-float", lambda: plots.plot_latent(MU, L, n_ellipses=2.0), TypeError,
     ["n_ellipses", "int"]),
    ("plots.plot_latent/n-ellipses-negative", lambda: plots.plot_latent(MU, L, n_ellipses=-1), ValueError,
     ["n_ellipses", "≥ 0"]),
    ("plots.plot_latent/ax-not-axes", lambda: plots.plot_latent(MU, ax="left"), TypeError, ["ax", "axes"]),
    # plot_latent_grid
    ("plots.plot_latent_grid/decode-not-callable", lambda: plots.plot_latent_grid(np.zeros((4, 6)), (2, 3)),
     TypeError, ["decode", "function"]),
    ("plots.plot_latent_grid/decode-wrong-columns",
     lambda: plots.plot_latent_grid(lambda z: np.zeros((len(z), 5)), (2, 3), n=3), ValueError,
     ["decode(z)", "columns"]),
    ("plots.plot_latent_grid/decode-wrong-rows",
     lambda: plots.plot_latent_grid(lambda z: np.zeros((len(z) - 1, 6)), (2, 3), n=3), ValueError,
     ["decode(z)", "one image per latent point"]),
    ("plots.plot_latent_grid/decode-nan",
     lambda: plots.plot_latent_grid(lambda z: np.full((len(z), 6), np.nan), (2, 3), n=3), ValueError,
     ["decode(z)", "nan"]),
    ("plots.plot_latent_grid/n-one", lambda: plots.plot_latent_grid(decode, (2, 3), n=1), ValueError,
     ["n", "≥ 2"]),
    ("plots.plot_latent_grid/n-float", lambda: plots.plot_latent_grid(decode, (2, 3), n=3.0), TypeError,
     ["n", "int"]),
    ("plots.plot_latent_grid/span-zero", lambda: plots.plot_latent_grid(decode, (2, 3), n=3, span=0.0),
     ValueError, ["span"]),
    ("plots.plot_latent_grid/span-none", lambda: plots.plot_latent_grid(decode, (2, 3), n=3, span=None),
     TypeError, ["span", "real number"]),
    ("plots.plot_latent_grid/span-inf", lambda: plots.plot_latent_grid(decode, (2, 3), n=3, span=np.inf),
     ValueError, ["span", "finite"]),
]
