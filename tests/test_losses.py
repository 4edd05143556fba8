"""vae_np.losses against NumPy, scipy.stats and scipy.special; the lecture's cross-entropy
example; stability at extreme logits; bad inputs; float32.

Finite-difference checks of every loss live in the op table (tests/op_table.py, run by
tests/test_ops.py).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats

import vae_np as vn
from vae_np.losses import bernoulli_nll, cross_entropy, gaussian_nll, mse, sse


@pytest.fixture
def rng():
    return np.random.default_rng(20230404)


# ---------------------------------------------------------------------------------------
# Squared errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (1, 1), (7,), (2, 3, 4)])
def test_mse_and_sse_match_numpy(shape, rng):
    x_hat, x = rng.standard_normal((2, *shape))
    assert mse(x_hat, x).shape == sse(x_hat, x).shape == ()
    np.testing.assert_allclose(mse(x_hat, x).data, np.mean((x - x_hat) ** 2), rtol=1e-13)
    np.testing.assert_allclose(sse(x_hat, x).data, np.sum((x - x_hat) ** 2), rtol=1e-13)


# ---------------------------------------------------------------------------------------
# Bernoulli likelihood
# ---------------------------------------------------------------------------------------
def test_bernoulli_nll_matches_scipy_for_binary_data(rng):
    logits = rng.uniform(-8, 8, (6, 10))
    x = rng.integers(0, 2, (6, 10)).astype(np.float64)
    want = -scipy.stats.bernoulli.logpmf(x, scipy.special.expit(logits)).sum(axis=1)
    np.testing.assert_allclose(bernoulli_nll(logits, x).data, want, rtol=1e-10)


def test_bernoulli_nll_matches_the_naive_formula_for_grey_levels(rng):
    logits, x = rng.uniform(-15, 15, (6, 10)), rng.uniform(0, 1, (6, 10))
    p = 1 / (1 + np.exp(-logits))
    want = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(bernoulli_nll(logits, x).data, want, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bernoulli_nll_is_finite_at_extreme_logits(dtype):
    """At |l| = 10⁴, softplus(l) − x l equals max(l, 0) − x l in floating point (e^(−10⁴)
    vanishes) and the gradient σ(l) − x equals [l > 0] − x."""
    logits = vn.Tensor(np.array([[1e4, -1e4, 1e4, -1e4]], dtype), requires_grad=True)
    x = np.array([[1.0, 0.0, 0.0, 1.0]], dtype)
    out = bernoulli_nll(logits, x)
    out.backward(np.ones(1, dtype))
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(logits.grad))
    np.testing.assert_array_equal(out.data, (np.maximum(logits.data, 0) - x * logits.data).sum(axis=1))
    np.testing.assert_array_equal(logits.grad, (logits.data > 0) - x)


# ---------------------------------------------------------------------------------------
# Gaussian likelihood
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma_shape", [(), (10,), (1, 10), (6, 10)])
def test_gaussian_nll_matches_scipy(sigma_shape, rng):
    x_hat, x = rng.standard_normal((2, 6, 10))
    sigma = rng.uniform(0.3, 3.0, sigma_shape)
    want = -scipy.stats.norm.logpdf(x, loc=x_hat, scale=sigma).sum(axis=1)
    np.testing.assert_allclose(gaussian_nll(x_hat, x, sigma).data, want, rtol=1e-12)


def test_gaussian_nll_with_a_number_for_sigma_and_its_gradient_shape(rng):
    x_hat, x = rng.standard_normal((2, 6, 10))
    np.testing.assert_allclose(gaussian_nll(x_hat, x, 0.5).data, -scipy.stats.norm.logpdf(x, x_hat, 0.5).sum(1), rtol=1e-12)
    sigma = vn.Tensor(rng.uniform(0.5, 2.0, 10), requires_grad=True)
    gaussian_nll(x_hat, x, sigma).sum().backward()
    assert sigma.grad.shape == (10,)


# ---------------------------------------------------------------------------------------
# Cross-entropy
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", [np.array([[0.0, 1.0, 0.0]]), np.array([1])], ids=["one-hot", "index"])
def test_cross_entropy_lectures_three_class_example(target, rng):
    """Classes 1/2/3, target class 2 = [0, 1, 0]: the loss is −log q₂."""
    logits = rng.standard_normal((1, 3))
    q = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(cross_entropy(logits, target).data, [-np.log(q[1])], rtol=1e-13)


def test_cross_entropy_index_and_one_hot_labels_agree_with_their_gradients(rng):
    logits = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    g = rng.standard_normal(5)
    results = []
    for target in (labels, np.eye(4)[labels]):
        l = vn.Tensor(logits, requires_grad=True)
        out = cross_entropy(l, target)
        out.backward(g)
        results.append((out.data, l.grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14, atol=1e-15)
    q = scipy.special.softmax(logits, axis=1)
    np.testing.assert_allclose(results[0][1], g[:, None] * (q - np.eye(4)[labels]), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scale", [1.0, 1e3], ids=["moderate", "large"])
def test_cross_entropy_matches_scipy_log_softmax(scale, rng):
    logits = scale * rng.standard_normal((5, 4))
    p = scipy.special.softmax(rng.standard_normal((5, 4)), axis=1)
    labels = rng.integers(0, 4, 5)
    log_q = scipy.special.log_softmax(logits, axis=1)
    np.testing.assert_allclose(cross_entropy(logits, p).data, -(p * log_q).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(cross_entropy(logits, labels).data, -log_q[np.arange(5), labels], rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Bad inputs and dtypes
# ---------------------------------------------------------------------------------------
A, B_ = np.zeros((4, 64)), np.zeros((4, 63))
P = np.full((4, 64), 0.5)
NAN_AT_2_3 = P.copy()
NAN_AT_2_3[2, 3] = np.nan

BAD_INPUTS = {
    "mse/shapes": (lambda: mse(A, B_), ValueError, r"x_hat has shape \(4, 64\) but x has shape \(4, 63\)"),
    "sse/shapes": (lambda: sse(A, A.T), ValueError, r"x_hat has shape \(4, 64\) but x has shape \(64, 4\)"),
    "mse/nan-in-x": (lambda: mse(A, NAN_AT_2_3), ValueError, r"mse: x holds 1 non-finite value\(s\), the first nan at index \(2, 3\)"),
    "sse/inf-in-x_hat": (lambda: sse(np.where(A == 0, np.inf, 0), A), ValueError, r"sse: x_hat holds 256 non-finite"),
    "mse/empty": (lambda: mse(np.zeros((0, 3)), np.zeros((0, 3))), ValueError, r"x_hat and x are empty"),
    "mse/complex": (lambda: mse(A.astype(complex), A), TypeError, r"x_hat must hold real numbers"),
    "bernoulli_nll/shapes": (lambda: bernoulli_nll(A, B_), ValueError, r"logits has shape \(4, 64\) but x has shape \(4, 63\)"),
    "bernoulli_nll/logits-ndim": (lambda: bernoulli_nll(np.zeros(64), np.zeros(64)), ValueError,
                                  r"logits must have shape \(B, d\); got shape \(64,\)"),
    "bernoulli_nll/x-above-1": (lambda: bernoulli_nll(A, P * 3), ValueError, r"x must lie in \[0, 1\]; got min 1.5, max 1.5"),
    "bernoulli_nll/x-negative": (lambda: bernoulli_nll(A, P - 1), ValueError, r"x must lie in \[0, 1\]; got min -0.5"),
    "bernoulli_nll/x-nan": (lambda: bernoulli_nll(A, NAN_AT_2_3), ValueError, r"x must lie in \[0, 1\]; got min nan"),
    "bernoulli_nll/logits-inf": (lambda: bernoulli_nll(np.where(P > 0, -np.inf, 0), P), ValueError,
                                 r"logits holds 256 non-finite value\(s\), the first -inf at index \(0, 0\)"),
    "gaussian_nll/shapes": (lambda: gaussian_nll(A, B_), ValueError, r"x_hat has shape \(4, 64\) but x has shape \(4, 63\)"),
    "gaussian_nll/sigma-zero": (lambda: gaussian_nll(A, A, 0.0), ValueError, r"sigma must be finite and positive; got 0.0"),
    "gaussian_nll/sigma-negative": (lambda: gaussian_nll(A, A, -P[0]), ValueError, r"sigma must be finite and positive; got -0.5 at index \(0,\)"),
    "gaussian_nll/sigma-shape": (lambda: gaussian_nll(A, A, np.ones(63)), ValueError,
                                 r"sigma must be a number or broadcastable to x's shape \(4, 64\), e.g. \(64,\); got shape \(63,\)"),
    "gaussian_nll/nan-in-x": (lambda: gaussian_nll(A, NAN_AT_2_3), ValueError, r"gaussian_nll: x holds 1 non-finite"),
    "cross_entropy/logits-ndim": (lambda: cross_entropy(np.zeros(3), np.array([1])), ValueError,
                                  r"logits must have shape \(B, C\); got shape \(3,\)"),
    "cross_entropy/index-too-large": (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
                                      r"labels must be class indices in \[0, 3\); got min 0, max 3"),
    "cross_entropy/index-negative": (lambda: cross_entropy(np.zeros((2, 3)), np.array([-1, 2])), ValueError,
                                     r"labels must be class indices in \[0, 3\); got min -1"),
    "cross_entropy/float-indices": (lambda: cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError,
                                    r"labels of shape \(B,\) must be integer class indices; got dtype float64"),
    "cross_entropy/labels-batch": (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), ValueError,
                                   r"labels must have shape \(B,\) = \(2,\) or \(B, C\) = \(2, 3\); got shape \(3,\)"),
    "cross_entropy/rows-not-summing-to-1": (lambda: cross_entropy(np.zeros((2, 3)), np.full((2, 3), 0.5)), ValueError,
                                            r"must be probability rows .* row sums from 1.5 to 1.5"),
    "cross_entropy/negative-probabilities": (lambda: cross_entropy(np.zeros((1, 3)), np.array([[1.5, -0.5, 0.0]])), ValueError,
                                             r"must be probability rows .* got min -0.5"),
    "cross_entropy/nan-logits": (lambda: cross_entropy(np.array([[0.0, np.nan]]), np.array([0])), ValueError,
                                 r"logits holds 1 non-finite value\(s\), the first nan at index \(0, 1\)"),
}


@pytest.mark.parametrize("call, error, match", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_inputs_raise_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_loss_that_overflows_on_finite_inputs_is_returned_as_it_is():
    """No NaN or inf in the inputs: an overflowing result is the true value, not an input error."""
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert np.isinf(sse(np.array([1e200]), np.array([-1e200])).data)


@pytest.mark.parametrize("loss, labels", [
    (mse, None), (sse, None), (bernoulli_nll, None), (gaussian_nll, None),
    (cross_entropy, np.array([0, 2, 1])), (cross_entropy, np.eye(3)[[0, 2, 1]]),
], ids=["mse", "sse", "bernoulli_nll", "gaussian_nll", "cross_entropy/indices", "cross_entropy/probabilities"])
def test_float32_in_float32_out(loss, labels, rng):
    """float32 predictions give float32 losses and gradients, also with float64 labels and a Python σ."""
    pred = vn.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    target = labels if labels is not None else rng.uniform(0, 1, (3, 3)).astype(np.float32)
    out = loss(pred, target) if loss is not gaussian_nll else loss(pred, target, 0.7)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert pred.grad.dtype == np.float32
    if loss is not cross_entropy:  # plain float32 arrays too
        assert loss(pred.data, target).dtype == np.float32
