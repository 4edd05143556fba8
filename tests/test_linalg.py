"""vae_np.linalg beyond the op table: invariants over random sizes (hypothesis), and the
ops composed as in the homework (the KL between two full-covariance Gaussians)."""
from __future__ import annotations

import numpy as np
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import vae_np as vn

sizes = st.tuples(st.lists(st.integers(1, 3), max_size=2).map(tuple), st.integers(1, 5), st.integers(0, 2**32 - 1))


def spd(batch, m, rng):
    M = rng.standard_normal(batch + (m, m))
    return M @ np.swapaxes(M, -1, -2) + m * np.eye(m)


@settings(deadline=None, max_examples=40)
@given(sizes)
def test_cholesky_is_lower_with_positive_diagonal_and_reproduces_A(size):
    batch, m, seed = size
    A = spd(batch, m, np.random.default_rng(seed))
    L = vn.cholesky(A).data
    assert np.array_equal(L, np.tril(L)) and (np.diagonal(L, 0, -2, -1) > 0).all()
    np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(2 * vn.logdet_tril(L).data, np.linalg.slogdet(A)[1], rtol=1e-12)


@settings(deadline=None, max_examples=40)
@given(sizes, st.integers(0, 3), st.booleans())
def test_solve_triangular_solves(size, k, lower):
    batch, m, seed = size
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(spd(batch, m, rng))
    L = L if lower else np.swapaxes(L, -1, -2)
    B = rng.standard_normal(batch + ((m,) if k == 0 else (m, k)))
    X = vn.solve_triangular(L, B, lower=lower).data
    LX = L @ X[..., None] if k == 0 else L @ X
    np.testing.assert_allclose(LX[..., 0] if k == 0 else LX, B, rtol=1e-10, atol=1e-10)


def kl_full(mu1, L1, mu2, L2):
    """KL(N(μ₁, L₁L₁ᵀ) ‖ N(μ₂, L₂L₂ᵀ)) = ½[‖L₂⁻¹L₁‖²_F + ‖L₂⁻¹(μ₂ − μ₁)‖² − m] + logdet L₂ − logdet L₁,
    with two triangular solves and no inverse."""
    M = vn.solve_triangular(L2, L1)
    u = vn.solve_triangular(L2, mu2 - mu1)
    m = mu1.shape[-1]
    return 0.5 * ((M * M).sum(axis=(-2, -1)) + (u * u).sum(axis=-1) - m) + vn.logdet_tril(L2) - vn.logdet_tril(L1)


def test_kl_between_full_covariance_gaussians_matches_dense_formula_and_gradcheck():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal((2, 4, 3))
    L1, L2 = np.linalg.cholesky(spd((4,), 3, rng)), np.linalg.cholesky(spd((4,), 3, rng))
    got = kl_full(*(vn.Tensor(a) for a in (mu1, L1, mu2, L2))).data
    for b in range(4):  # the dense textbook formula, with SciPy's log-densities' normalisers
        S1, S2 = L1[b] @ L1[b].T, L2[b] @ L2[b].T
        d = mu2[b] - mu1[b]
        want = 0.5 * (np.trace(np.linalg.solve(S2, S1)) + d @ np.linalg.solve(S2, d) - 3
                      + np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1])
        entropy = scipy.stats.multivariate_normal(mu1[b], S1).entropy()
        cross = -scipy.stats.multivariate_normal(mu2[b], S2).logpdf(mu1[b]) + 0.5 * np.trace(np.linalg.solve(S2, S1))
        np.testing.assert_allclose(got[b], want, rtol=1e-12)
        np.testing.assert_allclose(got[b], cross - entropy, rtol=1e-10)
    assert (got > 0).all()
    result = vn.gradcheck(lambda a, b, c, d: kl_full(a, vn.tril(b), c, vn.tril(d)), mu1, L1, mu2, L2)
    assert result.ok and result.max_rel_error <= 1e-6, result
