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
