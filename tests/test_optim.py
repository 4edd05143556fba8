"""Optimizers against textbook implementations; the flat buffer; state and bad input."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn
from vae_np.optim import BLOCK


def _params(rng, dtype=np.float64):
    # one parameter larger than a block, so the blocked loop crosses block edges
    shapes = [(3, 4), (4,), (BLOCK + 17,)]
    return [vn.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _textbook_adam(theta, grads, lr, b1, b2, eps):
    m = [np.zeros_like(t) for t in theta]
    v = [np.zeros_like(t) for t in theta]
    theta = [t.copy() for t in theta]
    for step, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** step), v[i] / (1 - b2 ** step)
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def test_adam_matches_the_textbook_rule():
    rng = np.random.default_rng(0)
    params = _params(rng)
    start = [p.data.copy() for p in params]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(5)]
    opt = vn.Adam(params, lr=1e-2, betas=(0.8, 0.99), eps=1e-6)
    for gs in grads:
        opt.zero_grad()
        for p, g in zip(params, gs):
            p.grad += g                     # what the backward pass does
        opt.step()
    want = _textbook_adam(start, grads, 1e-2, 0.8, 0.99, 1e-6)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-14)


def test_sgd_with_momentum_matches_the_textbook_rule():
    rng = np.random.default_rng(1)
    params = _params(rng)
    theta = [p.data.copy() for p in params]
    vel = [np.zeros_like(t) for t in theta]
    opt = vn.SGD(params, lr=0.1, momentum=0.9)
    for _ in range(3):
        gs = [rng.standard_normal(p.shape) for p in params]
        opt.zero_grad()
        for p, g in zip(params, gs):
            p.grad += g
        opt.step()
        for i, g in enumerate(gs):
            vel[i] = 0.9 * vel[i] + g
            theta[i] = theta[i] - 0.1 * vel[i]
    for p, t in zip(params, theta):
        np.testing.assert_allclose(p.data, t, rtol=1e-13)


def test_backward_accumulates_into_the_flat_buffer():
    rng = np.random.default_rng(2)
    w = vn.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    opt = vn.SGD([w], lr=0.5)
    x = rng.standard_normal((4, 3))
    (vn.Tensor(x) @ w).sum().backward()
    np.testing.assert_allclose(opt.flat_grad.reshape(3, 2), x.sum(0)[:, None] * np.ones((1, 2)))
    before = w.data.copy()
    opt.step()
    np.testing.assert_allclose(w.data, before - 0.5 * w.grad)


def test_rebound_data_or_grad_is_picked_up():
    w = vn.Tensor(np.ones(3), requires_grad=True)
    opt = vn.SGD([w], lr=1.0)
    w.data = np.full(3, 5.0)          # user code rebinding instead of writing in place
    w.grad = np.ones(3)
    opt.step()
    np.testing.assert_allclose(w.data, 4.0)
    np.testing.assert_allclose(opt.flat, 4.0)


def test_float32_stays_float32():
    params = _params(np.random.default_rng(3), np.float32)
    opt = vn.Adam(params)
    for p in params:
        p.grad += 1
    opt.step()
    assert all(p.data.dtype == np.float32 for p in params) and opt.m.dtype == np.float32


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(4)
    a, b = _params(rng), None
    b = [vn.Tensor(p.data.copy(), requires_grad=True) for p in a]
    opt_a, opt_b = vn.Adam(a, lr=0.01), vn.Adam(b, lr=0.01)
    grads = [[rng.standard_normal(p.shape) for p in a] for _ in range(4)]
    for gs in grads[:2]:
        for params, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            for p, g in zip(params, gs):
                p.grad += g
            opt.step()
    opt_c = vn.Adam([vn.Tensor(p.data.copy(), requires_grad=True) for p in b], lr=0.5)
    opt_c.load_state_dict(opt_b.state_dict())
    assert opt_c.step_count == 2 and opt_c.lr == 0.01
    for gs in grads[2:]:
        for opt in (opt_a, opt_c):
            opt.zero_grad()
            for p, g in zip(opt.params, gs):
                p.grad += g
            opt.step()
    np.testing.assert_array_equal(opt_a.flat, opt_c.flat)


@pytest.mark.parametrize("make, err, match", [
    (lambda: vn.Adam([]), ValueError, "params is empty"),
    (lambda: vn.Adam([vn.Tensor(np.ones(2))]), TypeError, r"params\[0\] must be a leaf Tensor"),
    (lambda: vn.Adam([np.ones(2)]), TypeError, r"params\[0\] must be a leaf Tensor"),
    (lambda: vn.Adam([vn.Tensor(np.ones(2), requires_grad=True)], lr=-1), ValueError, "lr must be a positive"),
    (lambda: vn.Adam([vn.Tensor(np.ones(2), requires_grad=True)], betas=(0.9, 1.0)), ValueError, "betas"),
    (lambda: vn.SGD([vn.Tensor(np.ones(2), requires_grad=True)], momentum=1.5), ValueError, "momentum"),
    (lambda: vn.SGD([vn.Tensor(np.ones(2), requires_grad=True),
                     vn.Tensor(np.ones(2, np.float32), requires_grad=True)]), TypeError, "one dtype"),
])
def test_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_same_tensor_twice_is_refused():
    w = vn.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="same tensor twice"):
        vn.SGD([w, w])
