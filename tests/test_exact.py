"""vae_np.exact: closed forms against SciPy and scikit-learn, quadrature against the closed
form and IWAE, the refined posteriors. Bad input: tests/bad_inputs_exact.py, run by
tests/test_bad_inputs.py."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.decomposition import PCA

import vae_np as vn
from vae_np import exact

D, M = 7, 3


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(D, M)) + 1.0          # columns far from orthogonal
    return rng.normal(size=(5, D)), W, rng.normal(size=D), 0.7


def _linear_vae(cls, W, b, s):
    """A VAE whose decoder is exactly x ~ N(Wz + b, s²I) (Linear stores Wᵀ)."""
    model = cls(W.shape[0], [], W.shape[1], likelihood="gaussian", sigma=s, seed=0)
    model.decoder.layers[0].weight.data[...] = W.T
    model.decoder.layers[0].bias.data[...] = b
    return model


def test_posterior_is_bayes_rule_by_scipy(problem):
    x, W, b, s = problem
    mean, L = exact.linear_gaussian_posterior(x, W, b, s)
    assert mean.shape == (5, M) and L.shape == (5, M, M)
    np.testing.assert_array_equal(np.triu(L[0], 1), 0)
    assert np.all(np.diagonal(L[0]) > 0)
    log_px = stats.multivariate_normal(b, W @ W.T + s * s * np.eye(D)).logpdf(x)
    z = np.random.default_rng(1).normal(size=(4, M))
    prior = stats.multivariate_normal(np.zeros(M), np.eye(M))
    for i in range(len(x)):       # p(z|x) = p(x|z) p(z) / p(x) at a few z
        post = stats.multivariate_normal(mean[i], L[i] @ L[i].T).logpdf(z)
        lik = np.array([stats.multivariate_normal(W @ zj + b, s * s * np.eye(D)).logpdf(x[i])
                        for zj in z])
        np.testing.assert_allclose(post, lik + prior.logpdf(z) - log_px[i], rtol=1e-10)


def test_log_marginal_against_scipy(problem):
    x, W, b, s = problem
    ref = stats.multivariate_normal(b, W @ W.T + s * s * np.eye(D)).logpdf(x)
    np.testing.assert_allclose(exact.linear_gaussian_log_marginal(x, W, b, s), ref, rtol=1e-12)
    # lists, float16, Fortran order and read-only arrays are accepted
    W16 = W.astype(np.float16)
    xf = np.asfortranarray(x)
    xf.setflags(write=False)
    got = exact.linear_gaussian_log_marginal(xf, W16, list(b), s)
    ref16 = stats.multivariate_normal(b, W16.astype(float) @ W16.astype(float).T
                                      + s * s * np.eye(D)).logpdf(x)
    np.testing.assert_allclose(got, ref16, rtol=1e-10)


def test_ppca_maximum_likelihood_matches_sklearn():
    x = vn.load_digits().x_train
    n = 5
    pca = PCA(n).fit(x)
    W = pca.components_.T * np.sqrt(pca.explained_variance_ - pca.noise_variance_)
    ours = exact.linear_gaussian_log_marginal(x, W, pca.mean_, np.sqrt(pca.noise_variance_))
    assert np.isclose(ours.mean(), pca.score(x), rtol=1e-10)
    # Tipping & Bishop's closed form with the 1/N covariance is the maximum: higher, and a
    # random rotation of W changes nothing
    lam = np.linalg.eigvalsh(np.cov(x.T, bias=True))[::-1]
    s2 = lam[n:].mean()
    d = x.shape[1]
    ml = -0.5 * (d * np.log(2 * np.pi) + np.log(lam[:n]).sum() + (d - n) * np.log(s2) + d)
    assert ml >= pca.score(x) > ml - 0.05
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(n, n)))[0]
    rotated = exact.linear_gaussian_log_marginal(x, W @ Q, pca.mean_, np.sqrt(pca.noise_variance_))
    np.testing.assert_allclose(rotated, ours, rtol=1e-10)


@pytest.mark.parametrize("cls", [vn.FullCovVAE, vn.DiagonalVAE])
def test_quadrature_equals_the_closed_form_for_a_linear_decoder(cls):
    rng = np.random.default_rng(2)
    W, b, s = rng.normal(size=(D, 2)), rng.normal(size=D), 0.8
    x = rng.normal(size=(6, D)) * 2
    model = _linear_vae(cls, W, b, s)
    ref = exact.linear_gaussian_log_marginal(x, W, b, s)
    np.testing.assert_allclose(exact.log_marginal_2d(model, x), ref, rtol=0, atol=1e-6)
    z1, z2, p = exact.posterior_grid(model, x)
    h = z1[1] - z1[0]
    assert p.shape == (6, 201, 201)
    np.testing.assert_allclose(p.sum(axis=(1, 2)) * h * h, 1, rtol=1e-12)
    mean, L = exact.linear_gaussian_posterior(x, W, b, s)
    Z1, Z2 = np.meshgrid(z1, z2)                      # density[b, i, j] at (z1[j], z2[i])
    grid_mean = np.stack([(p * Z1).sum((1, 2)), (p * Z2).sum((1, 2))], 1) * h * h
    np.testing.assert_allclose(grid_mean, mean, atol=1e-6)
    cov12 = (p * (Z1 - grid_mean[:, :1, None]) * (Z2 - grid_mean[:, 1:, None])).sum((1, 2)) * h * h
    np.testing.assert_allclose(cov12, (L[0] @ L[0].T)[0, 1], atol=1e-6)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "mse"])
def test_grid_likelihood_is_the_public_loss(likelihood):
    """One grid point by hand: log p(x) over the grid from vn.bernoulli_nll / gaussian_nll."""
    x = np.random.default_rng(3).uniform(size=(2, 6))
    model = vn.DiagonalVAE(6, [4], 2, likelihood=likelihood, sigma=0.9, seed=0)
    z1, z2, p = exact.posterior_grid(model, x, n_grid=31, span=3.0)
    Z = np.stack(np.meshgrid(z1, z2), -1).reshape(-1, 2)
    out = model.decoder_output(Z)
    sigma = {"gaussian": 0.9, "mse": np.sqrt(6 / 2)}.get(likelihood)
    for i in range(2):
        xi = np.repeat(x[i:i + 1], len(Z), axis=0)
        nll = (vn.bernoulli_nll(out, xi) if sigma is None else vn.gaussian_nll(out, xi, sigma)).data
        log_joint = -nll + stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(Z)
        ref = np.exp(log_joint - log_joint.max())
        ref /= ref.sum() * (z1[1] - z1[0]) ** 2
        np.testing.assert_allclose(p[i].ravel(), ref, rtol=1e-9, atol=1e-300)


def test_quadrature_agrees_with_iwae_of_large_k():
    data = vn.load_digits()
    model = vn.FullCovVAE(64, [32], 2, seed=0)
    vn.fit(model, data.x_train[:500], epochs=5, lr=3e-3, seed=0, progress=False)
    x = data.x_test[:20]
    quad = exact.log_marginal_2d(model, x)
    rng = np.random.default_rng(0)
    runs = np.stack([model.iwae_bound(x, k=2000, rng=rng) for _ in range(4)])
    se = runs.std(axis=0, ddof=1) / 2 + 1e-4
    assert np.all(np.abs(runs.mean(0) - quad) < 5 * se + 2e-3)
    elbo = exact.elbo(model, x, *[t.data for t in model.encode(x)][::2])
    assert np.all(quad > elbo)                        # the gap KL(q ‖ p(z|x)) > 0


def test_elbo_of_the_exact_posterior_is_log_p_x(problem):
    x, W, b, s = problem
    model = _linear_vae(vn.FullCovVAE, W, b, s)
    mean, L = exact.linear_gaussian_posterior(x, W, b, s)
    np.testing.assert_allclose(exact.elbo(model, x, mean, L, n_samples=M + 1),
                               exact.linear_gaussian_log_marginal(x, W, b, s), rtol=1e-10)


def test_refined_full_posterior_is_the_exact_one(problem):
    x, W, b, s = problem
    model = _linear_vae(vn.FullCovVAE, W, b, s)
    before = [p.data.copy() for p in model.parameters()]
    mu, L = exact.refine_posterior(model, x, steps=1000, lr=0.2)
    mean, L_exact = exact.linear_gaussian_posterior(x, W, b, s)
    np.testing.assert_allclose(mu, mean, atol=1e-4)
    np.testing.assert_allclose(L, L_exact, atol=1e-4)
    gap = exact.linear_gaussian_log_marginal(x, W, b, s) - exact.elbo(model, x, mu, L)
    assert np.all((gap >= -1e-12) & (gap < 1e-6))
    for p, old in zip(model.parameters(), before):      # the model is left as it was
        np.testing.assert_array_equal(p.data, old)
        assert p.requires_grad and p.grad is None


def test_refined_diagonal_posterior_matches_the_precision_diagonal(problem):
    x, W, b, s = problem
    model = _linear_vae(vn.DiagonalVAE, W, b, s)
    mu0, _, L0 = (t.data for t in model.encode(x))
    start = exact.elbo(model, x, mu0, L0)
    mu, L = exact.refine_posterior(model, x, steps=1000, lr=0.2)
    np.testing.assert_array_equal(L, np.eye(M) * np.diagonal(L, 0, 1, 2)[:, None, :])
    mean, L_exact = exact.linear_gaussian_posterior(x, W, b, s)
    precision = (W.T @ W + s * s * np.eye(M)) / s ** 2
    np.testing.assert_allclose(mu, mean, atol=1e-4)
    np.testing.assert_allclose(np.diagonal(L, 0, 1, 2), 1 / np.sqrt(np.diag(precision)) + 0 * mu,
                               rtol=1e-4)
    gap = exact.linear_gaussian_log_marginal(x, W, b, s) - exact.elbo(model, x, mu, L)
    closed = 0.5 * (np.log(np.diag(precision)).sum() - np.linalg.slogdet(precision)[1])
    np.testing.assert_allclose(gap, closed, rtol=1e-4)
    assert np.all(exact.elbo(model, x, mu, L) > start)


@pytest.mark.parametrize("cls", [vn.FullCovVAE, vn.DiagonalVAE])
def test_refine_improves_a_nonlinear_models_elbo(cls):
    x = np.random.default_rng(4).uniform(size=(6, 10))
    model = cls(10, [8], 3, seed=0)
    mu0, _, L0 = (t.data for t in model.encode(x))
    mu, L = exact.refine_posterior(model, x, steps=100)
    if cls is vn.DiagonalVAE:
        np.testing.assert_array_equal(np.tril(L, -1), 0)
    else:
        assert np.abs(np.tril(L, -1)).max() > 0
    assert np.all(exact.elbo(model, x, mu, L, seed=9) > exact.elbo(model, x, mu0, L0, seed=9))


def test_float32_models_give_float64_answers_close_to_float64():
    x = np.random.default_rng(5).uniform(size=(3, 6))
    m64 = vn.FullCovVAE(6, [5], 2, seed=0)
    m32 = vn.FullCovVAE(6, [5], 2, seed=0, dtype=np.float32)
    a, b = exact.log_marginal_2d(m64, x), exact.log_marginal_2d(m32, x.astype(np.float32))
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-5)
    mu, L = exact.refine_posterior(m32, x, steps=5)
    assert mu.dtype == L.dtype == np.float64 and np.all(np.isfinite(exact.elbo(m32, x, mu, L)))
