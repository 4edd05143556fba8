"""The models: shapes, the lecture's L, gradients of the whole loss, IWAE, checkpoints, bad input."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn
from vae_np.vae import VAE

D, M = 12, 3


def _model(cls=vn.FullCovVAE, **kw):
    kw = {"input_dim": D, "hidden_dims": [7], "latent_dim": M, "seed": 0, **kw}
    return cls(**kw)


@pytest.fixture
def x():
    return np.random.default_rng(0).uniform(size=(5, D))


@pytest.mark.parametrize("cls", [vn.FullCovVAE, vn.DiagonalVAE])
def test_encode_builds_the_lectures_L(cls, x):
    mu, log_sigma, L = _model(cls).encode(x)
    assert mu.shape == log_sigma.shape == (5, M) and L.shape == (5, M, M)
    L = L.data
    np.testing.assert_array_equal(np.triu(L, 1), 0)                        # lower triangular
    np.testing.assert_allclose(np.diagonal(L, axis1=1, axis2=2), np.exp(log_sigma.data))  # diag = σ
    strictly_lower = np.tril(L, -1)
    assert (np.abs(strictly_lower).sum() > 0) == (cls is vn.FullCovVAE)


def test_diagonal_model_differs_only_in_its_posterior():
    full, diag = _model(), _model(vn.DiagonalVAE)
    names_full = [n for n, _ in full.named_parameters()]
    names_diag = [n for n, _ in diag.named_parameters()]
    assert [n for n in names_full if not n.startswith("l_head")] == names_diag
    assert full.num_parameters() - diag.num_parameters() == 7 * M * M + M * M


def _swap_parameters(model, names, tensors):
    """Make the model compute with ``tensors`` in place of its parameters (for gradcheck)."""
    for name, t in zip(names, tensors):
        *path, attr = name.split(".")
        owner = model
        for part in path:
            owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
        setattr(owner, attr, t)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "mse"])
@pytest.mark.parametrize("cls", [vn.FullCovVAE, vn.DiagonalVAE])
def test_gradient_of_the_whole_loss_matches_finite_differences(cls, likelihood, x):
    model = _model(cls, likelihood=likelihood, sigma=0.7)
    eps = np.random.default_rng(1).standard_normal((5, M))
    names, params = zip(*((n, p.data.copy()) for n, p in model.named_parameters()))

    def loss(*tensors):
        _swap_parameters(model, names, tensors)
        return model.loss(x, eps=eps)

    assert vn.gradcheck(loss, *params, directions=4, names=names).ok


def test_loss_is_kl_plus_reconstruction(x):
    model = _model()
    eps = np.random.default_rng(2).standard_normal((5, M))
    parts = model.neg_elbo(x, eps=eps)
    mu, log_sigma, L = model.encode(x)
    kl = vn.kl_standard_normal(mu, log_sigma, L).data
    z = mu.data + (L.data @ eps[..., None])[..., 0]
    rec = vn.bernoulli_nll(model.decoder(z), x).data
    np.testing.assert_allclose(parts.kl.data, kl)
    np.testing.assert_allclose(parts.rec.data, rec)
    np.testing.assert_allclose(parts.total.item(), np.mean(kl + rec))


def test_mse_likelihood_is_the_lectures_formula(x):
    model = _model(likelihood="mse")
    eps = np.zeros((5, M))
    x_hat = model.decode(model.encode(x)[0]).data            # ε = 0 decodes the mean
    parts = model.neg_elbo(x, eps=eps)
    np.testing.assert_allclose(parts.rec.data.mean(), ((x - x_hat) ** 2).sum() / (5 * D))


def test_iwae_with_one_sample_is_the_elbo_and_more_samples_tighten_it(x):
    model = _model()
    x_rep = np.repeat(x, 400, axis=0)                        # 400 draws per example
    parts = model.neg_elbo(x_rep, rng=np.random.default_rng(2))
    elbo = -(parts.kl.data + parts.rec.data)
    iwae_1 = model.iwae_bound(x_rep, k=1, rng=np.random.default_rng(3))
    sem = np.sqrt(elbo.var(ddof=1) / elbo.size + iwae_1.var(ddof=1) / iwae_1.size)
    assert abs(iwae_1.mean() - elbo.mean()) < 4 * sem          # same expectation
    iwae_50 = model.iwae_bound(x, k=50, rng=np.random.default_rng(3))
    assert iwae_50.mean() > elbo.mean() + 4 * sem               # a tighter bound
    chunked = model.iwae_bound(x, k=50, rng=np.random.default_rng(3), max_rows=7)
    np.testing.assert_allclose(chunked, iwae_50, rtol=1e-12)


def test_sample_and_reconstruct_shapes_and_ranges(x):
    model = _model()
    s = model.sample(4, np.random.default_rng(0))
    r = model.reconstruct(x)
    assert s.shape == (4, D) and r.shape == (5, D)
    assert s.min() >= 0 and s.max() <= 1


def test_float32_model_stays_float32(x):
    model = _model(dtype=np.float32)
    loss = model.loss(x, rng=np.random.default_rng(0))
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize("cls", [vn.FullCovVAE, vn.DiagonalVAE])
def test_save_and_load_round_trip(cls, tmp_path, x):
    model = _model(cls, likelihood="gaussian", sigma=0.3, activation="relu")
    path = model.save(tmp_path / "m.npz")
    again = VAE.load(path)
    assert type(again) is cls and again.config == model.config
    eps = np.random.default_rng(0).standard_normal((5, M))
    assert again.loss(x, eps=eps).item() == model.loss(x, eps=eps).item()
    assert cls.load(path).config == model.config


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    _model(vn.DiagonalVAE).save(tmp_path / "diag.npz")
    with pytest.raises(ValueError, match="holds a DiagonalVAE, not a FullCovVAE"):
        vn.FullCovVAE.load(tmp_path / "diag.npz")
    other = _model(latent_dim=4)
    with pytest.raises(ValueError, match="missing|shape"):
        other.load_state_dict(_model().state_dict())
    state = _model().state_dict()
    state["mu_head.bias"] = np.ones(M + 1)
    with pytest.raises(ValueError, match=r"state_dict\['mu_head.bias'\] has shape \(4,\); this model expects \(3,\)"):
        _model().load_state_dict(state)


def test_corrupted_and_missing_checkpoints(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="could not read checkpoint"):
        VAE.load(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="could not read checkpoint"):
        VAE.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        VAE.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("kwargs, err, match", [
    ({"latent_dim": 0}, ValueError, "latent_dim must be an int ≥ 1; got 0"),
    ({"hidden_dims": [0]}, ValueError, r"hidden_dims\[0\] must be an int ≥ 1; got 0"),
    ({"likelihood": "poisson"}, ValueError, "likelihood must be one of"),
    ({"activation": "gelu"}, ValueError, "activation must be one of"),
    ({"dtype": np.int64}, TypeError, "dtype must be float32 or float64"),
    ({"sigma": -1.0}, ValueError, r"sigma must be a number in \(0, inf\); got -1"),
])
def test_bad_configuration(kwargs, err, match):
    with pytest.raises(err, match=match):
        _model(**kwargs)


def test_bad_data(x):
    model = _model()
    with pytest.raises(ValueError, match=rf"x must have shape \(B, {D}\); got \(5, 11\)"):
        model.loss(x[:, :11])
    with pytest.raises(ValueError, match="NaN|non-finite"):
        model.loss(np.where(x > 0.5, np.nan, x))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.loss(x * 3)
    with pytest.raises(TypeError):
        model.loss(np.ones((5, D), dtype=np.int64))
    with pytest.raises(ValueError, match=r"eps must have shape \(5, 3\)"):
        model.loss(x, eps=np.zeros((5, 2)))
    with pytest.raises(ValueError, match=rf"z must have shape \(B, {M}\)"):
        model.decode(np.zeros((2, M + 1)))
    with pytest.raises(ValueError, match="k must be an int ≥ 1; got 0"):
        model.iwae_bound(x, k=0)
    with pytest.raises(TypeError, match="shared base class"):
        VAE(input_dim=D)


def test_non_finite_sigma_is_reported():
    model = _model()
    model.log_sigma_head.bias.data[...] = 1e4                 # σ = exp(10⁴) overflows
    with pytest.raises(ValueError, match="log_sigma"):
        model.loss(np.random.default_rng(0).uniform(size=(2, D)))


# ---------------------------------------------------------------------------------------
# Objectives: β, IWAE as a loss, one scale in nats
# ---------------------------------------------------------------------------------------
def test_beta_weights_the_kl_in_the_total_only(x):
    model = _model()
    eps = np.random.default_rng(4).standard_normal((5, M))
    plain, weighted = model.neg_elbo(x, eps=eps), model.neg_elbo(x, eps=eps, beta=0.25)
    np.testing.assert_array_equal(weighted.kl.data, plain.kl.data)
    np.testing.assert_allclose(weighted.total.item(), np.mean(0.25 * plain.kl.data + plain.rec.data), rtol=1e-14)
    assert model.loss(x, eps=eps, beta=0.25).item() == weighted.total.item()


def _iwae_by_hand(model, x, eps):
    """−mean IWAE_k from the model's pieces, with log q = log N(z; μ, LLᵀ) by scipy."""
    import scipy.stats
    from scipy.special import logsumexp
    mu, _, L = (t.data for t in model.encode(x))
    k, B, m = eps.shape
    log_w = np.empty((k, B))
    for i in range(k):
        z = mu + np.einsum("bij,bj->bi", L, eps[i])
        rec = model._reconstruction(model.decoder(z), x).data + model.reconstruction_offset
        log_q = [scipy.stats.multivariate_normal(mu[b], L[b] @ L[b].T).logpdf(z[b]) for b in range(B)]
        log_w[i] = -rec + scipy.stats.multivariate_normal(np.zeros(m), np.eye(m)).logpdf(z) - log_q
    return logsumexp(log_w, axis=0) - np.log(k)


@pytest.mark.parametrize("likelihood", ["bernoulli", "mse"])
def test_iwae_loss_and_bound_equal_the_estimate_by_hand(likelihood, x):
    model = _model(likelihood=likelihood)
    eps = np.random.default_rng(5).standard_normal((7, 5, M))
    want = _iwae_by_hand(model, x, eps)
    got_loss = model.iwae_loss(x, 7, rng=np.random.default_rng(5))
    np.testing.assert_allclose(got_loss.item(), -want.mean(), rtol=1e-10)
    np.testing.assert_allclose(model.iwae_bound(x, k=7, rng=np.random.default_rng(5)), want, rtol=1e-10)


def test_iwae_loss_is_differentiable_and_its_gradient_matches_finite_differences(x):
    model = _model()
    names, params = zip(*((n, p.data.copy()) for n, p in model.named_parameters()))

    def loss(*tensors):
        _swap_parameters(model, names, tensors)
        return model.iwae_loss(x, 4, rng=np.random.default_rng(6))  # the same ε at every call

    assert vn.gradcheck(loss, *params, directions=4, names=names).ok


def test_iwae_loss_with_one_sample_has_the_elbos_expectation(x):
    model = _model()
    x_rep = np.repeat(x, 400, axis=0)
    elbo = model.loss(x_rep, rng=np.random.default_rng(7)).item()
    parts = model.neg_elbo(x_rep, rng=np.random.default_rng(7))
    per = (parts.kl.data + parts.rec.data)
    iwae_1 = model.iwae_loss(x_rep, 1, rng=np.random.default_rng(8)).item()
    assert abs(iwae_1 - elbo) < 6 * per.std(ddof=1) / np.sqrt(per.size)


def test_reconstruction_offset_puts_mse_on_the_gaussian_scale_in_nats(x):
    """mse's rec + offset is −log N(x; x̂, s²I) with s² = d/2, the same weights' Gaussian NLL."""
    mse_model, gauss = _model(likelihood="mse"), _model(likelihood="gaussian", sigma=np.sqrt(D / 2))
    eps = np.random.default_rng(9).standard_normal((5, M))
    rec_mse, rec_gauss = mse_model.neg_elbo(x, eps=eps).rec.data, gauss.neg_elbo(x, eps=eps).rec.data
    np.testing.assert_allclose(rec_mse + mse_model.reconstruction_offset, rec_gauss, rtol=1e-12)
    assert gauss.reconstruction_offset == 0.0 == _model().reconstruction_offset


def test_checked_skips_the_data_scan_but_not_the_shape_check(x, monkeypatch):
    import vae_np.vae as vae_module
    calls = []
    real_check = vae_module.check_data
    monkeypatch.setattr(vae_module, "check_data", lambda *a: calls.append(a[1]) or real_check(*a))
    model = _model()
    model.loss(x, rng=0)
    model.loss(x, rng=0, checked=True)
    model.iwae_loss(x, 2, rng=0, checked=True)
    assert calls == ["x"]


def test_float16_and_lists_are_converted_on_the_way_in(x):
    model = _model()
    eps = np.zeros((5, M))
    want = model.loss(x.astype(np.float16).astype(np.float64), eps=eps).item()
    assert model.loss(x.astype(np.float16), eps=eps).item() == want
    assert model.loss(np.asfortranarray(x), eps=eps).item() == model.loss(x, eps=eps).item()
    assert model.loss(x.tolist(), eps=eps).item() == model.loss(x, eps=eps).item()


# ---------------------------------------------------------------------------------------
# Numerics at the edges: log σ in [−30, 30], both dtypes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("log_sigma", [-30.0, 30.0])
@pytest.mark.parametrize("likelihood", ["bernoulli", "mse", "gaussian"])
def test_extreme_log_sigma_stays_finite_in_every_objective(dtype, log_sigma, likelihood, x):
    model = _model(likelihood=likelihood, dtype=dtype)
    model.log_sigma_head.weight.data[...] = 0
    model.log_sigma_head.bias.data[...] = log_sigma
    _, ls, _ = model.encode(x)
    np.testing.assert_array_equal(ls.data, log_sigma)
    assert np.all(np.isfinite(model.iwae_bound(x, k=5, rng=0)))
    for loss in (model.loss(x, rng=0), model.neg_elbo(x, rng=0, beta=0.5).total, model.iwae_loss(x, 3, rng=0)):
        model.zero_grad()
        loss.backward()
        assert np.isfinite(loss.item()) and loss.dtype == dtype
        assert all(np.all(np.isfinite(p.grad)) for p in model.parameters())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_iwae_bound_of_a_narrow_posterior_is_exact(dtype, x):
    """At log σ = −30 the bound matches log q computed from ε in float64 (re-solving
    L u = z − μ instead, as before, gave +1e42 nats in float64 and inf in float32)."""
    model = _model(dtype=dtype)
    model.log_sigma_head.weight.data[...] = 0
    model.log_sigma_head.bias.data[...] = -30.0
    ref = _model()                                  # float64 twin with the same weights
    ref.load_state_dict(model.state_dict())
    eps = np.random.default_rng(3).standard_normal((6, 5, M))
    want = _iwae_by_hand_from_eps(ref, x, eps)
    got = model.iwae_bound(x, k=6, rng=np.random.default_rng(3))
    np.testing.assert_allclose(got, want, rtol=1e-10 if dtype == np.float64 else 1e-4)


def _iwae_by_hand_from_eps(model, x, eps):
    from scipy.special import logsumexp
    mu, log_sigma, L = (t.data for t in model.encode(x))
    rows = []
    for e in eps:
        z = mu + np.einsum("bij,bj->bi", L, e)
        log_px = -model._reconstruction(model.decoder(z), x).data
        rows.append(log_px - 0.5 * (z * z).sum(1) + 0.5 * (e * e).sum(1) + log_sigma.sum(1))
    return logsumexp(np.array(rows), axis=0) - np.log(len(eps))


# ---------------------------------------------------------------------------------------
# Checkpoints: names, configuration checks, tampering
# ---------------------------------------------------------------------------------------
def test_save_and_load_by_a_name_without_the_suffix(tmp_path, x):
    model = _model(vn.DiagonalVAE)
    assert model.save(tmp_path / "run") == tmp_path / "run.npz"
    again = VAE.load(tmp_path / "run")
    eps = np.zeros((5, M))
    assert type(again) is vn.DiagonalVAE and again.loss(x, eps=eps).item() == model.loss(x, eps=eps).item()


def _tampered(tmp_path, edit_config=None, edit_arrays=None):
    import io
    import json
    import zipfile
    path = _model().save(tmp_path / "m.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    config = json.loads(str(arrays.pop("__config__")))
    if edit_config:
        edit_config(config)
    if edit_arrays:
        edit_arrays(arrays)
    members = {f"{k}.npy": v for k, v in arrays.items()}
    members["__config__.npy"] = np.array(json.dumps(config))
    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in members.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr)
            zf.writestr(name, buf.getvalue())
    return path


@pytest.mark.parametrize("edit, words", [
    (lambda c: c.pop("sigma"), r"missing keys \['sigma'\]"),
    (lambda c: c.update(extra=1), r"unknown keys \['extra'\]"),
    (lambda c: c.update(hidden_dims=[8.5]), r"hidden_dims\[0\] must be an int"),
    (lambda c: c.update(latent_dim="3"), "latent_dim must be an int"),
    (lambda c: c.update(posterior="banana"), "posterior must be one of"),
    (lambda c: c.update(posterior=["full"]), "posterior must be one of"),
    (lambda c: c.update(hidden_dims=[10**9]), r"'encoder.layers.0.weight' is declared with shape \(12, 7\); "
                                               r"expected \(12, 1000000000\)"),
])
def test_a_tampered_configuration_is_refused_naming_the_file(tmp_path, edit, words):
    path = _tampered(tmp_path, edit_config=edit)
    with pytest.raises(ValueError, match=rf"m.npz.*{words}"):
        VAE.load(path)


def test_a_configuration_that_is_not_an_object_is_refused(tmp_path):
    arrays = dict(np.load(_model().save(tmp_path / "m.npz")))
    arrays["__config__"] = np.array("[1, 2]")
    np.savez(tmp_path / "list.npz", **arrays)
    with pytest.raises(ValueError, match="list.npz.*not a JSON object"):
        VAE.load(tmp_path / "list.npz")


def test_parameter_shapes_from_the_configuration_match_the_built_model():
    from vae_np.vae import _parameter_shapes
    for cls in (vn.FullCovVAE, vn.DiagonalVAE):
        for hidden in ([], [7], [9, 4]):
            model = _model(cls, hidden_dims=hidden)
            assert _parameter_shapes(model.config) == {n: p.shape for n, p in model.named_parameters()}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("logit", [-1e4, 1e4])
def test_decoder_logits_of_1e4_stay_finite_through_the_objectives(dtype, logit, x):
    model = _model(dtype=dtype)
    last = model.decoder.layers[-1]
    last.weight.data[...] = 0
    last.bias.data[...] = logit
    x_bin = (x > 0.5).astype(dtype)
    assert np.all(np.isfinite(model.iwae_bound(x_bin, k=4, rng=0)))
    for loss in (model.loss(x_bin, rng=0), model.iwae_loss(x_bin, 3, rng=0)):
        model.zero_grad()
        loss.backward()
        assert np.isfinite(loss.item()) and loss.item() > 0
        assert all(np.all(np.isfinite(p.grad)) for p in model.parameters())


def test_a_model_trains_on_the_iwae_loss(x):
    """Adam on iwae_loss (k = 5) lowers the held-fixed IWAE estimate: the loss is a real objective."""
    model, x = _model(), (x > 0.5).astype(float)             # binary pixels: −log p(x) can approach 0
    opt = vn.Adam(model.parameters(), lr=1e-2)
    before = model.iwae_loss(x, 5, rng=np.random.default_rng(0)).item()
    rng = np.random.default_rng(1)
    for _ in range(60):
        opt.zero_grad()
        model.iwae_loss(x, 5, rng=rng).backward()
        opt.step()
    assert model.iwae_loss(x, 5, rng=np.random.default_rng(0)).item() < before - 1.0


def test_an_unreadable_checkpoint_is_an_os_error_naming_it(tmp_path):
    import os
    path = _model().save(tmp_path / "m.npz")
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):      # root reads anything: nothing to test
            pytest.skip("running as a user who can read any file")
        with pytest.raises(OSError, match="m.npz"):
            VAE.load(path)
    finally:
        os.chmod(path, 0o644)
