"""vae_np.gaussian against scipy.stats, dense linear algebra and Monte Carlo; the book's
closed-form KL gradients; hypothesis properties; bad inputs; float32.

Finite-difference checks of each op at a fixed point and forward checks against dense
references live in the op table (tests/op_table.py, run by tests/test_ops.py).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vae_np as vn
from vae_np.gaussian import entropy, kl_standard_normal, log_prob, rsample, scale_tril, solve_lower, solve_upper

from op_table import composed, gaussian_inputs, mvn_logpdf, scale_matrix

EPS64 = np.finfo(np.float64).eps


@pytest.fixture
def rng():
    return np.random.default_rng(20230330)


def gaussian_kl(mu1, cov1, mu2, cov2):
    """KL(N(μ₁, Σ₁) ‖ N(μ₂, Σ₂)), the lecture's general formula with dense linear algebra."""
    m = len(mu1)
    d = mu2 - mu1
    log_det_ratio = np.linalg.slogdet(cov2)[1] - np.linalg.slogdet(cov1)[1]
    return 0.5 * (log_det_ratio - m + np.trace(np.linalg.solve(cov2, cov1)) + d @ np.linalg.solve(cov2, d))


# ---------------------------------------------------------------------------------------
# Against scipy and dense linear algebra
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [1, 2, 5, 8])
def test_log_prob_matches_scipy(m, rng):
    L = scale_matrix(rng, 6, m)
    mu, z = rng.standard_normal((2, 6, m))
    np.testing.assert_allclose(log_prob(z, mu, L).data, mvn_logpdf(z, mu, L), rtol=1e-10, atol=0)


@pytest.mark.parametrize("m", [1, 3, 8])
def test_entropy_matches_scipy(m, rng):
    L = scale_matrix(rng, 5, m)
    want = [scipy.stats.multivariate_normal(np.zeros(m), Lb @ Lb.T).entropy() for Lb in L]
    np.testing.assert_allclose(entropy(L).data, want, rtol=1e-10, atol=0)


@pytest.mark.parametrize("m", [1, 3, 8])
def test_kl_matches_general_gaussian_kl(m, rng):
    mu, L = rng.standard_normal((4, m)), scale_matrix(rng, 4, m)
    log_sigma = np.log(np.diagonal(L, axis1=1, axis2=2))
    want = [gaussian_kl(mu[b], L[b] @ L[b].T, np.zeros(m), np.eye(m)) for b in range(4)]
    np.testing.assert_allclose(kl_standard_normal(mu, log_sigma, L).data, want, rtol=1e-10, atol=1e-13)


def test_kl_matches_monte_carlo_estimate(rng):
    """E_q[log q(z) − log p(z)] from scipy samples and densities agrees within 4 standard errors."""
    m, n = 3, 20_000
    mu, L = 0.7 * rng.standard_normal((3, m)), scale_matrix(rng, 3, m)
    kl = kl_standard_normal(mu, np.log(np.diagonal(L, axis1=1, axis2=2)), L).data
    p = scipy.stats.multivariate_normal(np.zeros(m), np.eye(m))
    for b in range(3):
        q = scipy.stats.multivariate_normal(mu[b], L[b] @ L[b].T)
        zs = q.rvs(n, random_state=rng)
        terms = q.logpdf(zs) - p.logpdf(zs)
        se = terms.std(ddof=1) / np.sqrt(n)
        assert abs(kl[b] - terms.mean()) <= 4 * se, (b, kl[b], terms.mean(), se)


def test_rsample_mean_and_covariance(rng):
    """Many draws z = μ + Lε have mean μ and covariance LLᵀ, to within 5 standard errors.

    The sample mean's standard error is √(Σᵢᵢ/n); for Gaussian z the sample covariance
    entry Ĉᵢⱼ has variance (ΣᵢᵢΣⱼⱼ + Σᵢⱼ²)/n.
    """
    m, n = 3, 50_000
    mu, L = rng.standard_normal(m), scale_matrix(rng, 1, m)[0]
    cov = L @ L.T
    z = rsample(np.broadcast_to(mu, (n, m)), np.broadcast_to(L, (n, m, m)), rng.standard_normal((n, m))).data
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(z.mean(axis=0) - mu) <= 5 * sd / np.sqrt(n))
    se_cov = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / n)
    assert np.all(np.abs(np.cov(z, rowvar=False) - cov) <= 5 * se_cov)


@pytest.mark.parametrize("m", [1, 4])
def test_triangular_solves_match_scipy_and_ignore_the_other_triangle(m, rng):
    L, r = scale_matrix(rng, 5, m), rng.standard_normal((5, m))
    junk = np.triu(rng.standard_normal((5, m, m)), 1)  # must not be read
    u, v = solve_lower(L + junk, r), solve_upper(np.swapaxes(L, 1, 2) + np.swapaxes(junk, 1, 2), r)
    for b in range(5):
        np.testing.assert_allclose(u[b], scipy.linalg.solve_triangular(L[b], r[b], lower=True), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(v[b], scipy.linalg.solve_triangular(L[b].T, r[b], lower=False), rtol=1e-12, atol=1e-12)


def test_log_prob_ignores_entries_above_the_diagonal(rng):
    L, (z, mu) = scale_matrix(rng, 3, 4), rng.standard_normal((2, 3, 4))
    Lt = vn.Tensor(L + np.triu(rng.standard_normal((3, 4, 4)), 1), requires_grad=True)
    out = log_prob(z, mu, Lt)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, log_prob(z, mu, L).data)
    assert np.all(np.triu(Lt.grad, 1) == 0)


# ---------------------------------------------------------------------------------------
# The book's gradient rules
# ---------------------------------------------------------------------------------------
def test_kl_gradients_are_the_books_closed_forms(rng):
    """∂KL/∂μ = μ, ∂KL/∂log σᵢ = σᵢ² − 1, ∂KL/∂L'ᵢⱼ = Lᵢⱼ below the diagonal, 0 elsewhere."""
    B, m = 4, 3
    mu = vn.Tensor(rng.standard_normal((B, m)), requires_grad=True)
    log_sigma = vn.Tensor(rng.uniform(-1, 1, (B, m)), requires_grad=True)
    L_prime = vn.Tensor(rng.standard_normal((B, m, m)), requires_grad=True)
    L = scale_tril(log_sigma, L_prime)
    g = rng.standard_normal(B)  # an upstream gradient per example scales each rule
    kl_standard_normal(mu, log_sigma, L).backward(g)
    sigma = np.exp(log_sigma.data)
    np.testing.assert_allclose(mu.grad, g[:, None] * mu.data, rtol=1e-13)
    np.testing.assert_allclose(log_sigma.grad, g[:, None] * (sigma**2 - 1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(L_prime.grad, g[:, None, None] * np.tril(L.data, -1), rtol=1e-13, atol=0)


# ---------------------------------------------------------------------------------------
# Properties over random batch sizes and dimensions
# ---------------------------------------------------------------------------------------
@st.composite
def encoder_outputs(draw, elements=st.floats(-3, 3), max_m=5):
    """(μ, log σ, L') with random B ≤ 4 and m ≤ max_m."""
    B, m = draw(st.integers(1, 4)), draw(st.integers(1, max_m))
    return (draw(hnp.arrays(np.float64, (B, m), elements=elements)),
            draw(hnp.arrays(np.float64, (B, m), elements=elements)),
            draw(hnp.arrays(np.float64, (B, m, m), elements=elements)))


@settings(deadline=None, max_examples=60)
@given(encoder_outputs())
def test_kl_is_non_negative(args):
    """KL ≥ 0 up to rounding: each term of the sum is exact to a few ulps of its size.

    (Example: log σ = 1e-300 gives σ = 1.0 exactly, and the computed KL is −1e-300.)
    """
    mu, log_sigma, L_prime = args
    L = scale_tril(log_sigma, L_prime).data
    kl = kl_standard_normal(mu, log_sigma, L).data
    m = mu.shape[1]
    size = (mu**2).sum(1) + (L**2).sum((1, 2)) + m + 2 * np.abs(log_sigma).sum(1)
    assert np.all(kl >= -(m + 2) ** 2 * EPS64 * size), kl


@settings(deadline=None, max_examples=60)
@given(encoder_outputs(elements=st.one_of(st.just(0.0), st.floats(0.05, 2.0), st.floats(-2.0, -0.05))))
def test_kl_is_zero_exactly_when_mu_is_zero_and_L_is_identity(args):
    mu, log_sigma, L_prime = args
    L = scale_tril(log_sigma, L_prime).data
    kl = kl_standard_normal(mu, log_sigma, L).data
    standard = ~(mu.any(1) | log_sigma.any(1) | np.tril(L_prime, -1).any((1, 2)))
    assert np.all(kl[standard] == 0) and np.all(kl[~standard] > 0), (kl, standard)


def test_kl_of_the_prior_itself_is_zero():
    B, m = 2, 4
    L = scale_tril(np.zeros((B, m)), np.zeros((B, m, m)))
    np.testing.assert_array_equal(L.data, np.broadcast_to(np.eye(m), (B, m, m)))
    np.testing.assert_array_equal(kl_standard_normal(np.zeros((B, m)), np.zeros((B, m)), L).data, np.zeros(B))


@settings(deadline=None, max_examples=40)
@given(encoder_outputs(elements=st.floats(-1, 1)))
def test_scale_tril_gives_a_cholesky_factor_of_a_positive_definite_covariance(args):
    """L is lower triangular with diagonal σ > 0, so Σ = LLᵀ is positive definite and
    (by uniqueness of the Cholesky factor) numpy's Cholesky of Σ gives L back."""
    _, log_sigma, L_prime = args
    L = scale_tril(log_sigma, L_prime).data
    assert np.all(np.triu(L, 1) == 0)
    np.testing.assert_array_equal(np.diagonal(L, axis1=1, axis2=2), np.exp(log_sigma))
    chol = np.linalg.cholesky(L @ np.swapaxes(L, 1, 2))  # raises LinAlgError unless positive definite
    np.testing.assert_allclose(chol, L, rtol=1e-8, atol=1e-12)


@settings(deadline=None, max_examples=10)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_gradcheck_passes_for_random_shapes(B, m, seed):
    rng = np.random.default_rng(seed)
    assert vn.gradcheck(composed, *gaussian_inputs("mu", "log_sigma", "L_prime", "eps", B=B, m=m)(rng)).ok
    assert vn.gradcheck(entropy, *gaussian_inputs("L", B=B, m=m)(rng)).ok


# ---------------------------------------------------------------------------------------
# Bad inputs and dtypes
# ---------------------------------------------------------------------------------------
def _one_at(value, index):
    """A (2, 3) log_sigma of zeros with ``value`` at ``index``."""
    log_sigma = np.zeros((2, 3))
    log_sigma[index] = value
    return log_sigma


I3 = np.broadcast_to(np.eye(3), (2, 3, 3))
Z = np.zeros((2, 3))


BAD_INPUTS = {
    "scale_tril/log_sigma-ndim": (lambda: scale_tril(np.zeros(3), I3), ValueError,
                                  r"log_sigma must have shape \(B, m\); got shape \(3,\)"),
    "scale_tril/L_prime-not-square": (lambda: scale_tril(Z, np.zeros((2, 3, 2))), ValueError,
                                      r"L_prime must have shape \(B, m, m\) with B = 2, m = 3; got shape \(2, 3, 2\)"),
    "scale_tril/sigma-overflows": (lambda: scale_tril(_one_at(800.0, (1, 2)), I3), ValueError,
                                   r"log_sigma\[1, 2\] = 800.0 .* = inf"),
    "scale_tril/sigma-underflows": (lambda: scale_tril(_one_at(-1000.0, (1, 2)), I3), ValueError,
                                    r"log_sigma\[1, 2\] = -1000.0 .* = 0.0"),
    "scale_tril/sigma-nan": (lambda: scale_tril(_one_at(np.nan, (0, 1)), I3), ValueError, r"log_sigma\[0, 1\] = nan"),
    "scale_tril/complex": (lambda: scale_tril(Z.astype(complex), I3), TypeError, r"log_sigma must hold real numbers"),
    "rsample/L-batch": (lambda: rsample(Z, np.zeros((3, 3, 3)), Z), ValueError,
                        r"L must have shape \(B, m, m\) with B = 2, m = 3; got shape \(3, 3, 3\)"),
    "rsample/eps-dim": (lambda: rsample(Z, I3, np.zeros((2, 4))), ValueError,
                        r"eps must have shape \(B, m\) with B = 2, m = 3; got shape \(2, 4\)"),
    "rsample/strings": (lambda: rsample([["a", "b", "c"]] * 2, I3, Z), TypeError, r"mu must hold real numbers"),
    "kl/log_sigma-dim": (lambda: kl_standard_normal(Z, np.zeros((2, 2)), I3), ValueError,
                         r"log_sigma must have shape \(B, m\) with B = 2, m = 3; got shape \(2, 2\)"),
    "kl/L-ndim": (lambda: kl_standard_normal(Z, Z, Z), ValueError,
                  r"L must have shape \(B, m, m\) with B = 2, m = 3; got shape \(2, 3\)"),
    "log_prob/z-ndim": (lambda: log_prob(np.zeros((2, 3, 1, 1)), Z, I3), ValueError,
                        r"z must have shape \(B, m\) with B = 2, m = 3; got shape \(2, 3, 1, 1\)"),
    "log_prob/z-samples-batch": (lambda: log_prob(np.zeros((4, 3, 3)), Z, I3), ValueError,
                                 r"z must have shape \(k, B, m\) with B = 2, m = 3; got shape \(4, 3, 3\)"),
    "log_prob/mu-batch": (lambda: log_prob(Z, np.zeros((1, 3)), I3), ValueError,
                          r"L must have shape \(B, m, m\) with B = 1, m = 3; got shape \(2, 3, 3\)"),
    "log_prob/negative-diagonal": (lambda: log_prob(Z, Z, I3 - 2 * np.eye(3)), ValueError,
                                   r"L must have a positive diagonal.*L\[0, 0, 0\] = -1.0"),
    "entropy/not-square": (lambda: entropy(np.ones((2, 3, 4))), ValueError,
                           r"L must have shape \(B, m, m\); got shape \(2, 3, 4\)"),
    "entropy/zero-diagonal": (lambda: entropy(I3 * [1.0, 0.0, 1.0]), ValueError,
                              r"L must have a positive diagonal.*L\[0, 1, 1\] = 0.0"),
}


@pytest.mark.parametrize("call, error, match", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_inputs_raise_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


ARGUMENTS = {
    scale_tril: ("log_sigma", "L_prime"), rsample: ("mu", "L", "eps"), kl_standard_normal: ("mu", "log_sigma", "L"),
    log_prob: ("z", "mu", "L"), entropy: ("L",),
}


@pytest.mark.parametrize("op", ARGUMENTS, ids=lambda op: op.__name__)
def test_float32_in_float32_out(op, rng):
    """Plain float32 arrays give float32 results (float32 Tensors are covered by the op table)."""
    inputs = [x.astype(np.float32) for x in gaussian_inputs(*ARGUMENTS[op])(rng)]
    assert op(*inputs).dtype == np.float32


# ---------------------------------------------------------------------------------------
# A leading sample axis: k draws per example against one μ and L
# ---------------------------------------------------------------------------------------
def _flat(a, k):
    """(B, ...) repeated for k draws and flattened: (k·B, ...)."""
    return np.broadcast_to(a, (k, *a.shape)).reshape(-1, *a.shape[1:])


@pytest.mark.parametrize("op", ["rsample", "log_prob"])
def test_a_sample_axis_gives_the_flattened_values_and_summed_gradients(op, rng):
    k, B, m = 4, 3, 2
    mu0, L0 = rng.standard_normal((B, m)), scale_matrix(rng, B, m)
    pts0 = rng.standard_normal((k, B, m))
    f = rsample if op == "rsample" else (lambda mu, L, z: log_prob(z, mu, L))
    g = rng.standard_normal((k, B, m) if op == "rsample" else (k, B))

    mu, L, pts = (vn.Tensor(a, requires_grad=True) for a in (mu0, L0, pts0))
    out = f(mu, L, pts)
    out.backward(g)
    mu_f, L_f, pts_f = (vn.Tensor(a, requires_grad=True) for a in (_flat(mu0, k), _flat(L0, k), pts0.reshape(k * B, m)))
    ref = f(mu_f, L_f, pts_f)
    ref.backward(g.reshape(ref.shape))
    np.testing.assert_allclose(out.data.reshape(ref.shape), ref.data, rtol=1e-13)
    np.testing.assert_allclose(mu.grad, mu_f.grad.reshape(k, B, m).sum(0), rtol=1e-12)
    np.testing.assert_allclose(L.grad, L_f.grad.reshape(k, B, m, m).sum(0), rtol=1e-12)
    np.testing.assert_allclose(pts.grad, pts_f.grad.reshape(k, B, m), rtol=1e-12)
    assert vn.gradcheck(f, mu0, L0, pts0).ok


# ---------------------------------------------------------------------------------------
# The KL refuses a log_sigma that does not belong to L
# ---------------------------------------------------------------------------------------
def test_kl_refuses_a_log_sigma_that_is_not_log_diag_L(rng):
    mu, L = rng.standard_normal((3, 4)), scale_matrix(rng, 3, 4)
    log_sigma = np.log(np.diagonal(L, axis1=1, axis2=2))
    kl_standard_normal(mu, log_sigma, L)                        # consistent: fine
    for wrong in (2 * log_sigma + 0.1, log_sigma + 1e-3, np.zeros((3, 4)) + 0.3):
        with pytest.raises(ValueError, match="log_sigma must be log diag"):
            kl_standard_normal(mu, wrong, L)
    with pytest.raises(ValueError, match=r"log_sigma\[1, 2\] = nan"):
        kl_standard_normal(mu, _nan_at(log_sigma, (1, 2)), L)


def _nan_at(a, index):
    out = a.copy()
    out[index] = np.nan
    return out


def test_kl_accepts_float32_rounding_of_sigma(rng):
    """σ computed in float32 and used in float64 (as the book does with a float32 model)."""
    log_sigma = rng.uniform(-30, 30, (4, 3)).astype(np.float32)
    L = scale_tril(log_sigma, rng.standard_normal((4, 3, 3)).astype(np.float32)).data
    kl32 = kl_standard_normal(rng.standard_normal((4, 3)).astype(np.float32), log_sigma, L)
    kl64 = kl_standard_normal(np.zeros((4, 3)), log_sigma.astype(float), L.astype(float))
    assert kl32.dtype == np.float32 and np.all(np.isfinite(kl32.data)) and np.all(np.isfinite(kl64.data))


def test_nan_reaching_an_op_names_the_input(rng):
    mu, L = rng.standard_normal((2, 3)), scale_matrix(rng, 2, 3)
    log_sigma = np.log(np.diagonal(L, axis1=1, axis2=2))
    with pytest.raises(vn.NonFiniteError, match=r"kl_standard_normal: mu holds 1 non-finite value\(s\), the first nan at index \(1, 0\)"):
        kl_standard_normal(_nan_at(mu, (1, 0)), log_sigma, L)
    with pytest.raises(vn.NonFiniteError, match=r"log_prob: L holds 1 non-finite value\(s\), the first nan at index \(0, 2, 1\)"):
        log_prob(mu + 1, mu, _nan_at(L, (0, 2, 1)))
    with pytest.raises(vn.NonFiniteError, match=r"rsample: eps holds"):
        rsample(mu, L, _nan_at(mu, (0, 0)))
    with pytest.raises(vn.NonFiniteError, match="log_sigma"):
        scale_tril(_nan_at(log_sigma, (0, 0)), L)


# ---------------------------------------------------------------------------------------
# log σ in [−30, 30]: finite values and gradients in both dtypes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("log_sigma_value", [-30.0, 30.0])
def test_extreme_log_sigma_gives_finite_values_and_gradients(dtype, log_sigma_value, rng):
    B, m = 3, 4
    ls0 = np.full((B, m), log_sigma_value, dtype)
    Lp0 = rng.standard_normal((B, m, m)).astype(dtype)
    mu0, eps0 = (rng.standard_normal((2, B, m))).astype(dtype)

    def run(f, *arrays):
        ts = [vn.Tensor(a, requires_grad=True) for a in arrays]
        out = f(*ts)
        out.backward(np.ones(out.shape, dtype))
        assert out.dtype == dtype and np.all(np.isfinite(out.data)), f
        grads = [t.grad for t in ts if t.grad is not None]
        assert grads and all(g.dtype == dtype and np.all(np.isfinite(g)) for g in grads), f
        return out.data

    def with_L(f):
        return lambda mu, ls, Lp, eps: f(mu, ls, scale_tril(ls, Lp), eps)

    L = run(lambda ls, Lp: scale_tril(ls, Lp), ls0, Lp0)
    np.testing.assert_array_equal(np.diagonal(L, axis1=1, axis2=2), np.exp(ls0))
    run(with_L(lambda mu, ls, L, eps: rsample(mu, L, eps)), mu0, ls0, Lp0, eps0)
    run(with_L(lambda mu, ls, L, eps: kl_standard_normal(mu, ls, L)), mu0, ls0, Lp0, eps0)
    # log_prob solves L u = z − μ: with a tiny diagonal under sizable L' entries, L is so
    # ill-conditioned (κ ~ (|L'|/σ)^(m−1)) that the rounding of z overflows u, so the
    # extremes are checked on a diagonal L (the model takes log q from ε instead)
    run(with_L(lambda mu, ls, L, eps: log_prob(rsample(mu, L, eps), mu, L)), mu0, ls0, 0 * Lp0, eps0)
    run(with_L(lambda mu, ls, L, eps: entropy(L)), mu0, ls0, Lp0, eps0)
    H = entropy(scale_tril(ls0, Lp0)).data
    np.testing.assert_allclose(H, 0.5 * m * (1 + np.log(2 * np.pi)) + m * log_sigma_value, rtol=1e-6)
