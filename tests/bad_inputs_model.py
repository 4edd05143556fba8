"""Bad-input rows for the model area: vae_np.gaussian, vae_np.losses, vae_np.nn, vae_np.vae.

Each row is ``(id, call, error type, words the message must contain)``; the table is run
by tests/test_bad_inputs.py.
"""
from __future__ import annotations

import numpy as np

import vae_np as vn

D, M = 12, 3
Z = np.zeros((2, 3))
I3 = np.broadcast_to(np.eye(3), (2, 3, 3))
X = np.full((4, D), 0.5)
A64 = np.zeros((4, 6))


def _model(cls=vn.FullCovVAE, **kw):
    return cls(**{"input_dim": D, "hidden_dims": [5], "latent_dim": M, "seed": 0, **kw})


def _with(base, index, value):
    out = np.array(base, dtype=float)
    out[index] = value
    return out


def _huge_log_sigma_model():
    model = _model()
    model.log_sigma_head.bias.data[...] = 1e4
    return model


def _module_with_list():
    class Net(vn.Module):
        def __init__(self):
            self.blocks = [vn.Linear(2, 3, 0), {"head": vn.Linear(3, 1, 1)}]
    return Net()


ROWS = [
    # ---- gaussian ----------------------------------------------------------------------
    ("scale_tril/log_sigma-ndim", lambda: vn.scale_tril(np.zeros(3), I3), ValueError, ["log_sigma", "(B, m)", "(3,)"]),
    ("scale_tril/L_prime-not-square", lambda: vn.scale_tril(Z, np.zeros((2, 3, 2))), ValueError, ["L_prime", "(B, m, m)"]),
    ("scale_tril/sigma-overflows", lambda: vn.scale_tril(_with(Z, (1, 2), 800.0), I3), vn.NonFiniteError,
     ["log_sigma[1, 2]", "800", "inf"]),
    ("scale_tril/sigma-underflows-float32", lambda: vn.scale_tril(_with(Z, (0, 0), -200.0).astype(np.float32), I3),
     vn.NonFiniteError, ["log_sigma[0, 0]", "float32"]),
    ("scale_tril/none", lambda: vn.scale_tril(None, I3), TypeError, ["log_sigma", "NoneType"]),
    ("rsample/L-batch", lambda: vn.rsample(Z, np.zeros((3, 3, 3)), Z), ValueError, ["L", "B = 2", "(3, 3, 3)"]),
    ("rsample/eps-samples-dim", lambda: vn.rsample(Z, I3, np.zeros((5, 2, 4))), ValueError, ["eps", "(k, B, m)"]),
    ("rsample/strings", lambda: vn.rsample([["a", "b", "c"]] * 2, I3, Z), TypeError, ["mu", "real numbers"]),
    ("rsample/nan-mu", lambda: vn.rsample(_with(Z, (1, 0), np.nan), I3, Z), vn.NonFiniteError, ["mu", "nan", "(1, 0)"]),
    ("kl_standard_normal/log_sigma-dim", lambda: vn.kl_standard_normal(Z, np.zeros((2, 2)), I3), ValueError,
     ["log_sigma", "(B, m)"]),
    ("kl_standard_normal/log_sigma-not-log-diag", lambda: vn.kl_standard_normal(Z, Z + 0.5, I3), ValueError,
     ["log_sigma", "log diag(L)", "log_sigma[0, 0] = 0.5"]),
    ("kl_standard_normal/L-prime-for-L", lambda: vn.kl_standard_normal(Z, Z, np.ones((2, 3, 3)) * 2), ValueError,
     ["log_sigma", "L[0, 0, 0] = 2.0"]),
    ("kl_standard_normal/nan-mu", lambda: vn.kl_standard_normal(_with(Z, (0, 2), np.nan), Z, I3), vn.NonFiniteError,
     ["kl_standard_normal", "mu", "nan"]),
    ("log_prob/z-ndim", lambda: vn.log_prob(np.zeros((2, 3, 1, 1)), Z, I3), ValueError, ["z", "(B, m)"]),
    ("log_prob/negative-diagonal", lambda: vn.log_prob(Z, Z, I3 - 2 * np.eye(3)), ValueError,
     ["L", "positive diagonal", "-1.0"]),
    ("log_prob/nan-off-diagonal", lambda: vn.log_prob(Z + 1, Z, _with(I3, (1, 2, 0), np.nan)), vn.NonFiniteError,
     ["log_prob", "L", "nan", "(1, 2, 0)"]),
    ("entropy/not-square", lambda: vn.entropy(np.ones((2, 3, 4))), ValueError, ["L", "(B, m, m)", "(2, 3, 4)"]),
    ("entropy/zero-diagonal", lambda: vn.entropy(I3 * [1.0, 0.0, 1.0]), ValueError, ["positive diagonal", "0.0"]),
    # ---- losses ------------------------------------------------------------------------
    ("mse/shapes", lambda: vn.mse(A64, A64[:, :5]), ValueError, ["x_hat", "(4, 6)", "(4, 5)"]),
    ("mse/empty", lambda: vn.mse(np.zeros((0, 3)), np.zeros((0, 3))), ValueError, ["empty"]),
    ("mse/nan-x", lambda: vn.mse(A64, _with(A64, (2, 3), np.nan)), vn.NonFiniteError, ["mse", "x", "(2, 3)"]),
    ("sse/complex", lambda: vn.sse(A64.astype(complex), A64), TypeError, ["x_hat", "real numbers"]),
    ("sse/inf-x_hat", lambda: vn.sse(_with(A64, (0, 1), np.inf), A64), vn.NonFiniteError, ["sse", "x_hat", "inf"]),
    ("bernoulli_nll/x-above-1", lambda: vn.bernoulli_nll(A64, A64 + 1.5), ValueError, ["x", "[0, 1]", "1.5"]),
    ("bernoulli_nll/logits-ndim", lambda: vn.bernoulli_nll(np.zeros(6), np.zeros(6)), ValueError, ["logits", "(B, d)"]),
    ("bernoulli_nll/nan-logits", lambda: vn.bernoulli_nll(_with(A64, (3, 5), np.nan), A64), vn.NonFiniteError,
     ["logits", "nan", "(3, 5)"]),
    ("gaussian_nll/sigma-inf", lambda: vn.gaussian_nll(A64, A64, np.inf), ValueError, ["sigma", "finite and positive", "inf"]),
    ("gaussian_nll/sigma-nan-entry", lambda: vn.gaussian_nll(A64, A64, _with(np.ones(6), 4, np.nan)), ValueError,
     ["sigma", "nan", "(4,)"]),
    ("gaussian_nll/sigma-zero", lambda: vn.gaussian_nll(A64, A64, 0.0), ValueError, ["sigma", "positive", "0.0"]),
    ("gaussian_nll/sigma-shape", lambda: vn.gaussian_nll(A64, A64, np.ones(5)), ValueError, ["sigma", "broadcastable", "(5,)"]),
    ("gaussian_nll/sigma-string", lambda: vn.gaussian_nll(A64, A64, "1"), TypeError, ["sigma"]),
    ("cross_entropy/index-too-large", lambda: vn.cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
     ["labels", "[0, 3)", "max 3"]),
    ("cross_entropy/float-indices", lambda: vn.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError,
     ["labels", "integer"]),
    ("cross_entropy/labels-none", lambda: vn.cross_entropy(np.zeros((2, 3)), None), TypeError, ["labels", "NoneType"]),
    ("cross_entropy/ragged-labels", lambda: vn.cross_entropy(np.zeros((2, 3)), [[1, 0, 0], [1]]), TypeError, ["labels"]),
    ("cross_entropy/rows-not-probabilities", lambda: vn.cross_entropy(np.zeros((2, 3)), np.full((2, 3), 0.5)), ValueError,
     ["labels", "probability rows", "1.5"]),
    # ---- layers ------------------------------------------------------------------------
    ("Parameter/strings", lambda: vn.Parameter(["a", "b"]), TypeError, ["real numbers"]),
    ("Parameter/ints-with-grad", lambda: vn.Parameter(np.arange(3)), TypeError, ["floating-point"]),
    ("Linear/n_in-zero", lambda: vn.Linear(0, 3, 0), ValueError, ["n_in", "≥ 1", "0"]),
    ("Linear/n_out-float", lambda: vn.Linear(2, 3.0, 0), TypeError, ["n_out", "int", "float"]),
    ("Linear/rng-class", lambda: vn.Linear(2, 3, np.random.Generator), TypeError, ["rng", "class Generator"]),
    ("Linear/rng-legacy", lambda: vn.Linear(2, 3, np.random.RandomState(0)), TypeError, ["rng", "RandomState"]),
    ("Linear/dtype-int", lambda: vn.Linear(2, 3, 0, np.int32), TypeError, ["dtype", "float32 or float64"]),
    ("MLP/sizes-string", lambda: vn.MLP("32", "tanh", 0), TypeError, ["sizes", "list or tuple", "'32'"]),
    ("MLP/sizes-float", lambda: vn.MLP([4, 8.5], "tanh", 0), TypeError, ["sizes[1]", "int", "8.5"]),
    ("MLP/sizes-empty", lambda: vn.MLP([], "tanh", 0), ValueError, ["sizes", "at least 1"]),
    ("MLP/activation", lambda: vn.MLP([2, 3], "gelu", 0), ValueError, ["activation", "'tanh'", "gelu"]),
    ("MLP/rng-none", lambda: vn.MLP([2, 3], "tanh", None), TypeError, ["rng", "Generator"]),
    ("MLP/final_activation-string", lambda: vn.MLP([2, 3], "tanh", 0, final_activation="no"), TypeError,
     ["final_activation", "True or False"]),
    ("Module.load_state_dict/not-a-dict", lambda: vn.Linear(2, 3, 0).load_state_dict([1, 2]), TypeError,
     ["state", "dict", "list"]),
    ("Module.load_state_dict/missing", lambda: vn.Linear(2, 3, 0).load_state_dict({"weight": np.zeros((2, 3))}),
     ValueError, ["missing", "bias"]),
    ("Module.load_state_dict/shape", lambda: vn.Linear(2, 3, 0).load_state_dict(
        {"weight": np.zeros((3, 2)), "bias": np.zeros(3)}), ValueError, ["weight", "(3, 2)", "(2, 3)"]),
    ("Module.load_state_dict/nan", lambda: vn.Linear(2, 3, 0).load_state_dict(
        {"weight": np.zeros((2, 3)), "bias": _with(np.zeros(3), 1, np.nan)}), ValueError, ["bias", "non-finite", "(1,)"]),
    ("Module.load_state_dict/not-an-array", lambda: vn.Linear(2, 3, 0).load_state_dict(
        {"weight": "zeros", "bias": np.zeros(3)}), TypeError, ["weight", "str"]),
    ("Module.load_state_dict/nested-names", lambda: _module_with_list().load_state_dict({"blocks.0.weight": 1}),
     ValueError, ["missing", "blocks.1.head.weight"]),
    ("Module.save/path-int", lambda: vn.Linear(2, 3, 0).save(3), TypeError, ["path", "int"]),
    ("Module.save/missing-folder", lambda: vn.Linear(2, 3, 0).save("/nonexistent-folder-vae-np/x"), FileNotFoundError,
     ["/nonexistent-folder-vae-np"]),
    ("Module.load/missing-file", lambda: vn.Linear(2, 3, 0).load("/nonexistent-folder-vae-np/x"), FileNotFoundError,
     ["/nonexistent-folder-vae-np/x"]),
    # ---- models ------------------------------------------------------------------------
    ("VAE/base-class", lambda: vn.VAE(input_dim=D), TypeError, ["shared base class"]),
    ("FullCovVAE/hidden_dims-string", lambda: _model(hidden_dims="32"), TypeError, ["hidden_dims", "'32'"]),
    ("FullCovVAE/hidden_dims-float", lambda: _model(hidden_dims=(8.5,)), TypeError, ["hidden_dims[0]", "8.5"]),
    ("FullCovVAE/hidden_dims-none", lambda: _model(hidden_dims=None), TypeError, ["hidden_dims", "NoneType"]),
    ("FullCovVAE/latent_dim-bool", lambda: _model(latent_dim=True), TypeError, ["latent_dim", "bool"]),
    ("FullCovVAE/input_dim-zero", lambda: _model(input_dim=0), ValueError, ["input_dim", "≥ 1"]),
    ("FullCovVAE/latent_dim-string", lambda: _model(latent_dim="2"), TypeError, ["latent_dim", "str"]),
    ("FullCovVAE/seed-float", lambda: _model(seed=1.5), TypeError, ["seed", "float"]),
    ("FullCovVAE/seed-negative", lambda: _model(seed=-1), ValueError, ["seed", "≥ 0"]),
    ("FullCovVAE/dtype-float16", lambda: _model(dtype=np.float16), TypeError, ["dtype", "float32 or float64"]),
    ("FullCovVAE/likelihood", lambda: _model(likelihood="poisson"), ValueError, ["likelihood", "bernoulli", "poisson"]),
    ("FullCovVAE/activation-none", lambda: _model(activation=None), ValueError, ["activation", "tanh"]),
    ("FullCovVAE/sigma-inf", lambda: _model(likelihood="gaussian", sigma=np.inf), ValueError, ["sigma", "finite"]),
    ("FullCovVAE/sigma-string", lambda: _model(sigma="1"), TypeError, ["sigma", "real number"]),
    ("DiagonalVAE/hidden_dims-zero", lambda: _model(vn.DiagonalVAE, hidden_dims=[4, 0]), ValueError,
     ["hidden_dims[1]", "≥ 1"]),
    ("DiagonalVAE/sigma-zero", lambda: _model(vn.DiagonalVAE, sigma=0), ValueError, ["sigma", "(0, inf)"]),
    ("FullCovVAE.encode/x-width", lambda: _model().encode(X[:, :5]), ValueError, ["x", f"(B, {D})", "(4, 5)"]),
    ("FullCovVAE.encode/x-nan", lambda: _model().encode(_with(X, (1, 1), np.nan)), ValueError, ["x", "non-finite"]),
    ("FullCovVAE.encode/x-ints", lambda: _model().encode(np.ones((2, D), dtype=np.uint8)), TypeError, ["x", "uint8"]),
    ("FullCovVAE.encode/log-sigma-overflows", lambda: _huge_log_sigma_model().encode(X), vn.NonFiniteError,
     ["log_sigma"]),
    ("FullCovVAE.decode/z-width", lambda: _model().decode(np.zeros((2, M + 1))), ValueError, ["z", f"(B, {M})"]),
    ("FullCovVAE.decode/z-nan", lambda: _model().decode(_with(np.zeros((2, M)), (1, 2), np.nan)), ValueError,
     ["z", "non-finite", "(1, 2)"]),
    ("FullCovVAE.decode/z-tensor-inf", lambda: _model().decode(vn.Tensor(_with(np.zeros((2, M)), (0, 0), np.inf))),
     ValueError, ["z", "inf"]),
    ("FullCovVAE.decoder_output/z-1d", lambda: _model().decoder_output(np.zeros(M)), ValueError, ["z", f"(B, {M})"]),
    ("FullCovVAE.neg_elbo/eps-shape", lambda: _model().neg_elbo(X, eps=np.zeros((4, 2))), ValueError, ["eps", "(4, 3)"]),
    ("FullCovVAE.neg_elbo/eps-nan", lambda: _model().neg_elbo(X, eps=_with(np.zeros((4, M)), (0, 1), np.nan)),
     ValueError, ["eps", "non-finite"]),
    ("FullCovVAE.neg_elbo/beta-negative", lambda: _model().neg_elbo(X, beta=-1), ValueError, ["beta", "[0"]),
    ("FullCovVAE.neg_elbo/beta-string", lambda: _model().neg_elbo(X, beta="1"), TypeError, ["beta"]),
    ("FullCovVAE.neg_elbo/checked-string", lambda: _model().neg_elbo(X, checked="yes"), TypeError,
     ["checked", "True or False"]),
    ("FullCovVAE.neg_elbo/checked-wrong-width", lambda: _model().neg_elbo(X[:, :3], checked=True), ValueError,
     ["x", f"(B, {D})"]),
    ("FullCovVAE.neg_elbo/rng-float", lambda: _model().neg_elbo(X, rng=0.5), TypeError, ["rng", "float"]),
    ("FullCovVAE.loss/x-above-1", lambda: _model().loss(X * 3), ValueError, ["x", "[0, 1]"]),
    ("FullCovVAE.loss/x-3d", lambda: _model().loss(X[None]), ValueError, ["x", "2-D"]),
    ("FullCovVAE.iwae_bound/k-zero", lambda: _model().iwae_bound(X, k=0), ValueError, ["k", "≥ 1", "0"]),
    ("FullCovVAE.iwae_bound/k-float", lambda: _model().iwae_bound(X, k=2.5), TypeError, ["k", "int", "2.5"]),
    ("FullCovVAE.iwae_bound/max_rows-zero", lambda: _model().iwae_bound(X, k=2, max_rows=0), ValueError, ["max_rows"]),
    ("FullCovVAE.iwae_bound/rng-class", lambda: _model().iwae_bound(X, k=2, rng=np.random.Generator), TypeError,
     ["rng", "class"]),
    ("FullCovVAE.iwae_loss/k-bool", lambda: _model().iwae_loss(X, True), TypeError, ["k", "bool"]),
    ("FullCovVAE.iwae_loss/x-nan", lambda: _model().iwae_loss(_with(X, (0, 0), np.nan), 2), ValueError,
     ["x", "non-finite"]),
    ("DiagonalVAE.iwae_loss/k-negative", lambda: _model(vn.DiagonalVAE).iwae_loss(X, -3), ValueError, ["k", "≥ 1"]),
    ("FullCovVAE.sample/n-float", lambda: _model().sample(2.5), TypeError, ["n", "int", "2.5"]),
    ("FullCovVAE.sample/n-zero", lambda: _model().sample(0), ValueError, ["n", "≥ 1"]),
    ("FullCovVAE.sample/rng-string", lambda: _model().sample(2, rng="0"), TypeError, ["rng", "str"]),
    ("FullCovVAE.reconstruct/x-list-of-strings", lambda: _model().reconstruct([["a"] * D]), TypeError, ["x"]),
    ("FullCovVAE.save/path-none", lambda: _model().save(None), TypeError, ["path", "NoneType"]),
    ("FullCovVAE.load/missing-file", lambda: vn.FullCovVAE.load("/nonexistent-folder-vae-np/m"), FileNotFoundError,
     ["/nonexistent-folder-vae-np/m"]),
    ("VAE.load/path-list", lambda: vn.VAE.load(["m.npz"]), TypeError, ["path", "list"]),
]
