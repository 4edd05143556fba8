"""Optimizers against textbook implementations; in-place updates; atomic steps, undo, state."""
from __future__ import annotations

import itertools
import os
import signal

import numpy as np
import pytest

import vae_np as vn
from vae_np import optim
from vae_np.optim import BLOCK, THREAD_MIN


def _params(rng, dtype=np.float64, big=True):
    # the last parameter spans several blocks, and all of them together reach THREAD_MIN,
    # so the blocked loop crosses block edges and the step is split over the threads
    shapes = [(3, 4), (4,)] + ([(max(2 * BLOCK, THREAD_MIN) + 17,)] if big else [])
    return [vn.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _set_grads(params, gs):
    for p, g in zip(params, gs):
        p.grad = None if g is None else g.copy()


def _textbook_adam(theta, grads, lr, b1, b2, eps):
    """Adam as the paper writes it; a None gradient skips that parameter (its own t stays)."""
    m = [np.zeros_like(t) for t in theta]
    v = [np.zeros_like(t) for t in theta]
    t = [0] * len(theta)
    theta = [x.copy() for x in theta]
    for gs in grads:
        for i, g in enumerate(gs):
            if g is None:
                continue
            t[i] += 1
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** t[i]), v[i] / (1 - b2 ** t[i])
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


def _run(opt, grads):
    for gs in grads:
        opt.zero_grad()
        _set_grads(opt.params, gs)
        opt.step()


@pytest.mark.parametrize("threads", [1, 2])
def test_adam_matches_the_textbook_rule(monkeypatch, threads):
    monkeypatch.setattr(optim, "THREADS", threads)
    rng = np.random.default_rng(0)
    params = _params(rng)
    start = [p.data.copy() for p in params]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(5)]
    opt = vn.Adam(params, lr=1e-2, betas=(0.8, 0.99), eps=1e-6)
    _run(opt, grads)
    want, m, v = _textbook_adam(start, grads, 1e-2, 0.8, 0.99, 1e-6)
    for i, (p, w) in enumerate(zip(params, want)):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(opt.state("m", i), m[i], rtol=1e-13)
        np.testing.assert_allclose(opt.state("v", i), v[i], rtol=1e-13)


def test_adam_rule_is_the_textbook_rule_and_the_kernel_computes_it():
    rng = np.random.default_rng(10)
    theta, g = rng.standard_normal(50), rng.standard_normal(50)
    m, v = rng.standard_normal(50), rng.uniform(0, 2, 50)
    got = vn.Adam.rule(theta, g, m, v, 3, 0.01, 0.9, 0.99, 1e-8)
    m2 = 0.9 * m + 0.1 * g
    v2 = 0.99 * v + 0.01 * g ** 2
    want = theta - 0.01 * (m2 / (1 - 0.9 ** 3)) / (np.sqrt(v2 / (1 - 0.99 ** 3)) + 1e-8)
    np.testing.assert_allclose(got[0], want, rtol=1e-14)
    # the optimizer, started from the same state at t = 3, gives the rule's values
    p = vn.Tensor(theta.copy(), requires_grad=True)
    opt = vn.Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    opt.load_state_dict(opt.state_dict() | {"steps": [2], "step_count": 2, "m": [m], "v": [v]})
    p.grad = g
    opt.step()
    for a, b in zip((p.data, opt.state("m", 0), opt.state("v", 0)), got):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_sgd_with_momentum_matches_the_textbook_rule():
    rng = np.random.default_rng(1)
    params = _params(rng)
    theta = [p.data.copy() for p in params]
    vel = [np.zeros_like(t) for t in theta]
    opt = vn.SGD(params, lr=0.1, momentum=0.9)
    for _ in range(3):
        gs = [rng.standard_normal(p.shape) for p in params]
        _run(opt, [gs])
        for i, g in enumerate(gs):
            vel[i] = 0.9 * vel[i] + g
            theta[i] = theta[i] - 0.1 * vel[i]
    for p, t in zip(params, theta):
        np.testing.assert_allclose(p.data, t, rtol=1e-13)


def test_updates_in_place_and_keeps_no_gradient():
    rng = np.random.default_rng(2)
    w = vn.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    data = w.data
    opt = vn.Adam([w], lr=0.5)
    x = rng.standard_normal((4, 3))
    (vn.Tensor(x) @ w).sum().backward()
    grad = w.grad
    opt.step()
    assert w.data is data                              # never rebound
    assert w.grad is grad                              # the gradient is the user's, untouched
    np.testing.assert_array_equal(grad, x.sum(0)[:, None] * np.ones((1, 2)))
    held = [a for pair in opt._buffers.values() for both in pair for a in both] + opt._prev
    assert not any(np.shares_memory(grad, a) or np.shares_memory(data, a) for a in held)
    opt.zero_grad()
    assert w.grad is None


def test_zero_grad_means_what_module_zero_grad_means():
    model = vn.FullCovVAE(6, [5], 2, likelihood="bernoulli", seed=0)
    x = (np.random.default_rng(0).uniform(size=(4, 6)) > 0.5).astype(float)
    opt = vn.Adam(model.parameters())
    for clear in (opt.zero_grad, model.zero_grad):
        model.loss(x, rng=np.random.default_rng(0)).backward()
        assert all(p.grad is not None for p in model.parameters())
        clear()
        assert all(p.grad is None for p in model.parameters())


def test_two_optimizers_over_one_model_each_update_their_own():
    def model():
        return vn.FullCovVAE(6, [5], 2, likelihood="bernoulli", seed=3)

    x = (np.random.default_rng(1).uniform(size=(8, 6)) > 0.5).astype(float)
    a, b = model(), model()
    one = vn.Adam(a.parameters(), lr=0.05)
    enc = [p for n, p in b.named_parameters() if not n.startswith("decoder")]
    dec = [p for n, p in b.named_parameters() if n.startswith("decoder")]
    two = [vn.Adam(enc, lr=0.05), vn.Adam(dec, lr=0.05)]     # together: the same as one Adam over all
    dec_before = [p.data.copy() for p in dec]
    for k in range(3):
        one.zero_grad()
        a.loss(x, rng=np.random.default_rng(k)).backward()
        one.step()
        for opt in two:
            opt.zero_grad()
        b.loss(x, rng=np.random.default_rng(k)).backward()
        for opt in two:
            opt.step()
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert not np.array_equal(dec_before[0], dec[0].data)


def test_a_parameter_without_a_gradient_is_skipped_with_its_own_step_count():
    rng = np.random.default_rng(4)
    params = _params(rng, big=False)
    start = [p.data.copy() for p in params]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    grads[1][1] = grads[2][1] = None
    opt = vn.Adam(params, lr=0.1)
    _run(opt, grads[:2])
    after_two = params[1].data.copy()
    _run(opt, grads[2:3])
    np.testing.assert_array_equal(params[1].data, after_two)      # no grad: not moved
    _run(opt, grads[3:])
    want, _, _ = _textbook_adam(start, grads, 0.1, 0.9, 0.999, 1e-8)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.data, w, rtol=1e-13)
    assert opt.steps == [4, 2] and opt.step_count == 4


def _snapshot(opt):
    return [p.data.copy() for p in opt.params], opt.state_dict()


def _assert_same(opt, snap):
    data, state = snap
    for p, d in zip(opt.params, data):
        np.testing.assert_array_equal(p.data, d)
    now = opt.state_dict()
    assert now.keys() == state.keys()
    for key in state:
        if isinstance(state[key], list) and state[key] and isinstance(state[key][0], np.ndarray):
            for a, b in zip(now[key], state[key]):
                np.testing.assert_array_equal(a, b)
        else:
            assert now[key] == state[key], key


def _interrupt_at(n: int, real):
    """A stand-in for ``real`` that raises KeyboardInterrupt on its n-th call, counted
    exactly across threads (``next`` on an itertools.count holds the GIL). For the kernel,
    the block is first updated and then overwritten with garbage, a half-written block."""
    calls, count = [], itertools.count(1)

    def wrapper(*args):
        calls.append(1)
        if next(count) == n:                       # one number per call, even across threads
            if real is optim._adam_block:
                real(*args)
                args[0][...] = 12345.0
            raise KeyboardInterrupt
        real(*args)

    wrapper.calls = calls
    return wrapper


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("make, where", [(vn.Adam, "_adam_block"), (vn.Adam, "_keep"),
                                         (lambda ps: vn.SGD(ps, lr=0.1, momentum=0.5), "_keep")])
def test_interrupt_half_way_through_a_step_changes_nothing(monkeypatch, threads, make, where):
    monkeypatch.setattr(optim, "THREADS", threads)
    rng = np.random.default_rng(5)
    params = _params(rng)
    opt = make(params)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(3)]
    _run(opt, grads[:1])
    snap = _snapshot(opt)
    n_blocks = len(optim._blocks([(i, p.size) for i, p in enumerate(params)]))
    real = getattr(optim, where)
    stand_in = _interrupt_at(n_blocks // 2, real)
    monkeypatch.setattr(optim, where, stand_in)
    opt.zero_grad()
    _set_grads(params, grads[1])
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert len(stand_in.calls) >= n_blocks // 2
    _assert_same(opt, snap)
    assert opt.undo() is False                     # nothing to undo after a step that raised
    _assert_same(opt, snap)
    # the interrupted step can simply be run again and gives what an uninterrupted run gives
    monkeypatch.setattr(optim, where, real)
    opt.step()
    _run(opt, grads[2:])
    ref_params = [vn.Tensor(p.data.copy(), requires_grad=True) for p in _params(np.random.default_rng(5))]
    ref = make(ref_params)
    _run(ref, grads)
    for p, q in zip(params, ref_params):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("threads", [1, 2])
def test_an_exception_inside_the_adam_kernel_changes_nothing(monkeypatch, threads):
    monkeypatch.setattr(optim, "THREADS", threads)
    rng = np.random.default_rng(6)
    params = _params(rng)
    opt = vn.Adam(params)
    _run(opt, [[rng.standard_normal(p.shape) for p in params]])
    snap = _snapshot(opt)
    count, real = itertools.count(1), optim._adam_block

    def kernel(*args):
        k = next(count)                            # taken before the block: exact across threads
        real(*args)
        if k == 3:
            raise MemoryError("simulated")

    monkeypatch.setattr(optim, "_adam_block", kernel)
    _set_grads(params, [rng.standard_normal(p.shape) for p in params])
    with pytest.raises(MemoryError):
        opt.step()
    _assert_same(opt, snap)


def test_a_real_sigint_during_a_step_is_held_until_the_step_is_done(monkeypatch):
    monkeypatch.setattr(optim, "THREADS", 1)
    rng = np.random.default_rng(7)
    params = _params(rng)
    twin = [vn.Tensor(p.data.copy(), requires_grad=True) for p in params]
    gs = [rng.standard_normal(p.shape) for p in params]
    real, sent = optim._adam_block, []

    def kernel(*args):
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)
        real(*args)

    monkeypatch.setattr(optim, "_adam_block", kernel)
    opt = vn.Adam(params)
    _set_grads(params, gs)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    monkeypatch.setattr(optim, "_adam_block", real)
    ref = vn.Adam(twin)
    _run(ref, [gs])
    assert opt.step_count == 1
    for p, q in zip(params, twin):                 # the whole step was made, not a part
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("make", [vn.Adam, lambda ps: vn.SGD(ps, lr=0.1, momentum=0.9), vn.SGD])
def test_undo_restores_parameters_and_state_of_before_the_last_step(make):
    rng = np.random.default_rng(8)
    params = _params(rng)
    opt = make(params)
    assert opt.undo() is False                     # nothing to undo yet
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    _run(opt, grads[:2])
    snap = _snapshot(opt)
    _run(opt, grads[2:3])
    assert opt.undo() is True
    _assert_same(opt, snap)
    assert opt.undo() is False                     # one level
    _assert_same(opt, snap)
    _run(opt, grads[2:])                           # continuing gives the uninterrupted result
    ref_params = [vn.Tensor(p.data.copy(), requires_grad=True) for p in _params(np.random.default_rng(8))]
    ref = make(ref_params)
    _run(ref, grads)
    for p, q in zip(params, ref_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_undo_leaves_parameters_the_last_step_skipped_alone():
    rng = np.random.default_rng(9)
    params = _params(rng, big=False)
    opt = vn.Adam(params)
    _run(opt, [[rng.standard_normal(p.shape) for p in params]])
    _run(opt, [[rng.standard_normal(params[0].shape), None]])
    params[1].data[...] = 7.0                      # changed by the user after the step
    opt.undo()
    np.testing.assert_array_equal(params[1].data, 7.0)
    assert opt.steps == [1, 1]


@pytest.mark.parametrize("g", [1e20, 1e30, np.inf])
def test_float32_adam_keeps_v_finite_and_the_parameter_moving(g):
    w = vn.Tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = vn.Adam([w], lr=0.1)
    w.grad = np.array([g, -g, 1.0], np.float32)
    opt.step()
    assert np.isfinite(opt.state("v", 0)).all() and np.isfinite(opt.state("m", 0)).all()
    np.testing.assert_allclose(w.data, [-0.1, 0.1, -0.1], rtol=1e-5)   # the first step is lr·sign(g)
    before = w.data.copy()
    for _ in range(3):                              # ordinary gradients afterwards still move it
        w.grad = np.ones(3, np.float32)
        opt.step()
    assert np.all(w.data != before) and np.isfinite(w.data).all()   # not frozen (old: v = inf)
    assert w.data.dtype == np.float32 and opt.state("v", 0).dtype == np.float32


def test_float32_stays_float32_and_dtypes_may_mix():
    params = _params(np.random.default_rng(3), np.float32) + [vn.Tensor(np.ones(5), requires_grad=True)]
    opt = vn.Adam(params)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    assert [p.data.dtype for p in params] == [np.float32] * 3 + [np.float64]
    assert opt.state("m", 0).dtype == np.float32 and opt.state("m", 3).dtype == np.float64


def test_fortran_ordered_parameter_is_updated_in_place_like_a_c_ordered_one():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((40, 30))
    f = vn.Tensor(np.asfortranarray(a), requires_grad=True)
    c = vn.Tensor(a.copy(), requires_grad=True)
    data = f.data
    gs = [rng.standard_normal(a.shape) for _ in range(3)]
    for opt, p in ((vn.Adam([f], lr=0.1), f), (vn.Adam([c], lr=0.1), c)):
        for g in gs:
            p.grad = g
            opt.step()
        opt.undo()
    assert f.data is data and f.data.flags.f_contiguous
    np.testing.assert_array_equal(f.data, c.data)


def test_a_module_stands_for_its_parameters():
    model = vn.FullCovVAE(6, [5], 2, seed=0)
    assert vn.SGD(model).params == model.parameters()


def test_grads_finite():
    params = _params(np.random.default_rng(12), big=False)
    opt = vn.SGD(params)
    assert opt.grads_finite()                       # no gradients at all
    params[0].grad = np.ones(params[0].shape)
    assert opt.grads_finite()
    params[1].grad = np.array([0.0, np.nan, 0.0, 0.0])
    assert not opt.grads_finite()


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(4)
    a = _params(rng)
    b = [vn.Tensor(p.data.copy(), requires_grad=True) for p in a]
    opt_a, opt_b = vn.Adam(a, lr=0.01), vn.Adam(b, lr=0.01)
    grads = [[rng.standard_normal(p.shape) for p in a] for _ in range(4)]
    _run(opt_a, grads[:2])
    _run(opt_b, grads[:2])
    opt_c = vn.Adam([vn.Tensor(p.data.copy(), requires_grad=True) for p in b], lr=0.5)
    opt_c.load_state_dict(opt_b.state_dict())
    assert opt_c.step_count == 2 and opt_c.lr == 0.01 and opt_c.steps == [2, 2, 2]
    _run(opt_a, grads[2:])
    _run(opt_c, grads[2:])
    for p, q in zip(opt_a.params, opt_c.params):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("change, err, words", [
    (lambda s: s.pop("m"), ValueError, ["missing keys ['m']"]),
    (lambda s: s.update(extra=1), ValueError, ["unexpected keys ['extra']"]),
    (lambda s: s.update(m=s["m"][:1]), ValueError, ["state['m']", "one entry per parameter (2)", "got 1"]),
    (lambda s: s.update(m=[s["m"][0], np.zeros(5)]), ValueError, ["state['m'][1]", "(4,)", "(5,)"]),
    (lambda s: s["v"][0].__setitem__((0, 0), np.nan), ValueError, ["state['v'][0]", "non-finite"]),
    (lambda s: s["m"][1].__setitem__(0, np.inf), ValueError, ["state['m'][1]", "non-finite"]),
    (lambda s: s["v"][1].__setitem__(0, -1.0), ValueError, ["state['v'][1]", "≥ 0"]),
    (lambda s: s.update(lr=float("nan")), ValueError, ["lr", "finite"]),
    (lambda s: s.update(betas=(0.9, 1.0)), ValueError, ["betas[1]"]),
    (lambda s: s.update(step_count=True), TypeError, ["step_count", "int"]),
    (lambda s: s.update(steps=[1, -1]), ValueError, ["steps'][1]"]),
    (lambda s: s.update(m="abc"), TypeError, ["state['m']", "list"]),
])
def test_load_state_dict_refuses_bad_state_and_changes_nothing(change, err, words):
    params = _params(np.random.default_rng(13), big=False)
    opt = vn.Adam(params, lr=0.01)
    _run(opt, [[np.ones(p.shape) for p in params]])
    snap = _snapshot(opt)
    state = opt.state_dict()
    change(state)
    with pytest.raises(err) as info:
        opt.load_state_dict(state)
    for w in words:
        assert w in str(info.value)
    _assert_same(opt, snap)
    assert opt.undo()                              # a refused load keeps the undo level


def test_rebinding_data_to_another_size_is_a_clear_error():
    w = vn.Tensor(np.ones(3), requires_grad=True)
    opt = vn.SGD([w], lr=1.0)
    w.data = np.ones(4)
    w.grad = np.ones(4)
    with pytest.raises(ValueError, match=r"params\[0\]\.data must be the writable float64 array of 3"):
        opt.step()
    w.data = np.full(3, 5.0)                        # the same size: updated in place, as given
    w.grad = np.ones(3)
    opt.step()
    np.testing.assert_allclose(w.data, 4.0)
