"""Rows of the bad-input table for vae_np.exact: (id, call, error type, words in the message)."""
from __future__ import annotations

import numpy as np

import vae_np as vn
from vae_np import exact

_RNG = np.random.default_rng(0)
_W, _b, _x = _RNG.normal(size=(6, 2)), np.zeros(6), _RNG.normal(size=(3, 6))
_M2 = vn.FullCovVAE(6, [5], 2, likelihood="gaussian", seed=0)
_M3 = vn.DiagonalVAE(6, [5], 3, likelihood="gaussian", seed=0)
_L = np.broadcast_to(np.eye(2), (3, 2, 2))

ROWS = [
    ("exact.linear_gaussian_posterior/x-vs-W", lambda: exact.linear_gaussian_posterior(
        _x[:, :5], _W, _b, 1.0), ValueError, ["x", "(B, d)", "d = 6", "(3, 5)"]),
    ("exact.linear_gaussian_posterior/b-vs-W", lambda: exact.linear_gaussian_posterior(
        _x, _W, np.zeros(4), 1.0), ValueError, ["b", "(d,)", "d = 6", "(4,)"]),
    ("exact.linear_gaussian_posterior/W-1d", lambda: exact.linear_gaussian_posterior(
        _x, _W[:, 0], _b, 1.0), ValueError, ["W", "(d, m)"]),
    ("exact.linear_gaussian_posterior/noise-zero", lambda: exact.linear_gaussian_posterior(
        _x, _W, _b, 0.0), ValueError, ["noise_std", "(0, inf)", "got 0"]),
    ("exact.linear_gaussian_posterior/noise-str", lambda: exact.linear_gaussian_posterior(
        _x, _W, _b, "1"), TypeError, ["noise_std", "real number", "str"]),
    ("exact.linear_gaussian_log_marginal/noise-negative", lambda: exact.linear_gaussian_log_marginal(
        _x, _W, _b, -1.0), ValueError, ["noise_std", "(0, inf)", "got -1"]),
    ("exact.linear_gaussian_log_marginal/x-nan", lambda: exact.linear_gaussian_log_marginal(
        np.full((2, 6), np.nan), _W, _b, 1.0), ValueError, ["x", "non-finite", "nan"]),
    ("exact.linear_gaussian_log_marginal/x-1d", lambda: exact.linear_gaussian_log_marginal(
        _x[0], _W, _b, 1.0), ValueError, ["x", "(B, d)", "(6,)"]),
    ("exact.log_marginal_2d/latent-not-2d", lambda: exact.log_marginal_2d(_M3, _x),
     ValueError, ["latent", "2", "latent_dim = 3"]),
    ("exact.log_marginal_2d/n_grid-float", lambda: exact.log_marginal_2d(_M2, _x, n_grid=51.0),
     TypeError, ["n_grid", "int", "51.0"]),
    ("exact.log_marginal_2d/n_grid-bool", lambda: exact.log_marginal_2d(_M2, _x, n_grid=True),
     TypeError, ["n_grid", "int"]),
    ("exact.log_marginal_2d/n_grid-tiny", lambda: exact.log_marginal_2d(_M2, _x, n_grid=3),
     ValueError, ["n_grid", "≥ 5", "3"]),
    ("exact.log_marginal_2d/span-zero", lambda: exact.log_marginal_2d(_M2, _x, span=0),
     ValueError, ["span", "(0, inf)"]),
    ("exact.log_marginal_2d/too-coarse", lambda: exact.log_marginal_2d(_M2, _x, n_grid=5),
     ValueError, ["too coarse", "n_grid", "tol"]),
    ("exact.log_marginal_2d/too-small", lambda: exact.log_marginal_2d(
        _M2, _x, n_grid=41, span=0.5), ValueError, ["border", "span"]),
    ("exact.log_marginal_2d/x-wrong-width", lambda: exact.log_marginal_2d(_M2, _x[:, :4]),
     ValueError, ["x", "(B, 6)", "(3, 4)"]),
    ("exact.log_marginal_2d/not-a-model", lambda: exact.log_marginal_2d("vae", _x),
     TypeError, ["model", "FullCovVAE", "str"]),
    ("exact.posterior_grid/latent-not-2d", lambda: exact.posterior_grid(_M3, _x),
     ValueError, ["latent", "2", "latent_dim = 3"]),
    ("exact.posterior_grid/n_grid-str", lambda: exact.posterior_grid(_M2, _x, n_grid="9"),
     TypeError, ["n_grid", "int"]),
    ("exact.elbo/L-not-triangular", lambda: exact.elbo(
        _M2, _x, np.zeros((3, 2)), np.ones((3, 2, 2))),
     ValueError, ["L", "lower triangular"]),
    ("exact.elbo/mu-shape", lambda: exact.elbo(_M2, _x, np.zeros((3, 3)), _L),
     ValueError, ["mu", "(B, m)", "m = 2", "(3, 3)"]),
    ("exact.elbo/n_samples-too-few", lambda: exact.elbo(
        _M2, _x, np.zeros((3, 2)), _L, n_samples=2),
     ValueError, ["n_samples", "≥ 3"]),
    ("exact.refine_posterior/steps-zero", lambda: exact.refine_posterior(_M2, _x, steps=0),
     ValueError, ["steps", "≥ 1", "0"]),
    ("exact.refine_posterior/lr-nan", lambda: exact.refine_posterior(_M2, _x, lr=float("nan")),
     ValueError, ["lr", "finite", "nan"]),
    ("exact.refine_posterior/seed-str", lambda: exact.refine_posterior(_M2, _x, seed="0"),
     TypeError, ["seed", "Generator", "str"]),
    ("exact.refine_posterior/x-3d", lambda: exact.refine_posterior(_M2, _x[None]),
     ValueError, ["x", "2-D"]),
]
