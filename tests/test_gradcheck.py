"""The gradient checker catches wrong rules, names where, and refuses inputs it cannot use."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn


class WrongSquare(vn.Function):
    """y = x², with the deliberately wrong rule dx = g x (the 2 is missing)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (g * self.x,)


class SlightlyWrongMatMul(vn.Function):
    """Y = X W with dW off by a factor 1.001: a small error the checker must still see."""

    def forward(self, x, w):
        self.x, self.w = x, w
        return x @ w

    def backward(self, g):
        return g @ self.w.T, self.x.T @ g * 1.001


X = np.array([[0.3, -1.2, 0.7], [2.0, 0.5, -0.4]])


def test_correct_gradients_pass_with_small_error():
    result = vn.gradcheck(lambda x: vn.tanh(x) * vn.exp(x), X)
    assert result.ok and result.max_rel_error < 1e-7 and result.n_compared == X.size


def test_wrong_backward_is_caught_and_located():
    with pytest.raises(vn.GradcheckError) as info:
        vn.gradcheck(WrongSquare.apply, X)
    msg = str(info.value)
    assert "input 'x'" in msg and "analytic" in msg and "numeric" in msg and "relative error" in msg
    assert "6 of 6 derivatives failed" in msg


def test_worst_element_is_reported_with_its_values():
    class OneBadElement(vn.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            d = 2 * g
            d = d.copy()
            d[1, 2] += 0.5                      # only this element is wrong
            return (d,)

    with pytest.raises(vn.GradcheckError, match=r"index \(1, 2\).*1 of 6 derivatives failed"):
        vn.gradcheck(OneBadElement.apply, X)


def test_small_error_in_a_second_input_is_caught_in_directional_mode():
    w = np.array([[1.0, -0.5], [0.2, 0.4], [-1.0, 0.3]])
    with pytest.raises(vn.GradcheckError, match="input 'w' at random direction"):
        vn.gradcheck(SlightlyWrongMatMul.apply, X, w, directions=3)
    assert vn.gradcheck(vn.matmul, X, w, directions=3).n_compared == 6


def test_names_can_be_given():
    with pytest.raises(vn.GradcheckError, match="input 'theta'"):
        vn.gradcheck(lambda *a: WrongSquare.apply(a[0]), X, names=["theta"])


def test_inputs_the_output_ignores_have_zero_gradient():
    assert vn.gradcheck(lambda x, unused: x * 2.0, X, np.ones(3)).ok


@pytest.mark.parametrize("bad, err, match", [
    (np.array([1.0, np.nan]), ValueError, r"input 'x' has 1 non-finite value\(s\), first nan at index \(1,\)"),
    (np.array([np.inf, 1.0]), ValueError, r"first inf at index \(0,\)"),
    (np.ones(2, np.float32), TypeError, "float64 inputs; input 'x' has dtype float32"),
    (np.arange(3), TypeError, "input 'x' has dtype int64"),
    (np.array(["a"]), TypeError, "dtype <U1"),
])
def test_bad_inputs_are_refused(bad, err, match):
    with pytest.raises(err, match=match):
        vn.gradcheck(lambda x: x * 2.0, bad)


def test_f_must_return_a_finite_tensor():
    with pytest.raises(TypeError, match="must return a vae_np.Tensor"):
        vn.gradcheck(lambda x: x.data * 2, X)
    with pytest.raises(ValueError, match="non-finite"):
        with np.errstate(over="ignore"):
            vn.gradcheck(lambda x: vn.exp(x * 1e4), X)   # overflows to inf


class _Net(vn.Module):
    """y = Σ tanh(x W) · v, with the square op chosen by the test (right or wrong)."""

    def __init__(self, square):
        self.w = vn.Parameter(np.random.default_rng(0).standard_normal((3, 4)), name="w")
        self.v = vn.Parameter(np.random.default_rng(1).standard_normal(4), name="v")
        self.square = square

    def __call__(self, x):
        return self.square(vn.tanh(x @ self.w)) * self.v


def test_params_mode_passes_a_right_model_and_leaves_it_as_it_was():
    net = _Net(vn.square)
    before = [p.data.copy() for p in net.parameters()]
    net.w.grad = np.full((3, 4), 7.0)
    result = vn.gradcheck(lambda: net(X), params=net.parameters())
    assert result.ok and result.n_compared == 12 + 4
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))
    assert np.array_equal(net.w.grad, np.full((3, 4), 7.0)) and net.v.grad is None
    assert vn.gradcheck(lambda: net(X), params=net.parameters(), directions=3).n_compared == 6


def test_params_mode_catches_a_wrong_backward_and_names_the_parameter():
    net = _Net(WrongSquare.apply)
    with pytest.raises(vn.GradcheckError, match="for parameter 'w' at index"):
        vn.gradcheck(lambda: net(X), params=net.parameters())
    with pytest.raises(vn.GradcheckError, match="for parameter 'first' at random direction"):
        vn.gradcheck(lambda: net(X), params=[net.w], names=["first"], directions=2)


@pytest.mark.parametrize("directions", [None, 2])
def test_params_are_restored_exactly_when_f_raises(directions):
    net = _Net(vn.square)
    before = net.w.data.copy()
    calls = []

    def f():
        calls.append(1)
        if len(calls) == 3:                  # the second finite-difference evaluation
            raise RuntimeError("boom")
        return net(X)

    with pytest.raises(RuntimeError, match="boom"):
        vn.gradcheck(f, params=[net.w], directions=directions)
    assert np.array_equal(net.w.data, before)


def test_a_whole_model_in_params_mode():
    model = vn.FullCovVAE(6, [5], 2)
    xb = np.random.default_rng(0).random((3, 6))
    eps = np.random.default_rng(1).standard_normal((3, 2))
    assert vn.gradcheck(lambda: model.loss(xb, eps=eps), params=model.parameters(), directions=2).ok


@pytest.mark.parametrize("kwargs, err, match", [
    ({"directions": 0}, ValueError, "directions must be an int ≥ 1; got 0"),
    ({"directions": 2.0}, TypeError, "directions must be an int"),
    ({"directions": True}, TypeError, "directions must be an int"),
    ({"eps": 0.0}, ValueError, r"eps must be a number in \(0"),
    ({"eps": -1e-6}, ValueError, "eps must be a number"),
    ({"rtol": float("nan")}, ValueError, "rtol must be a finite number"),
    ({"atol": "1e-8"}, TypeError, "atol must be a real number"),
    ({"seed": 1.5}, TypeError, "seed must be a numpy.random.Generator or an int seed"),
    ({"names": ["a", "b"]}, ValueError, r"names must have one entry per input \(1\); got 2"),
    ({"names": "x"}, TypeError, "names must be a sequence of str"),
    ({"names": [3]}, TypeError, "names must be str; got int 3"),
])
def test_every_option_is_validated(kwargs, err, match):
    with pytest.raises(err, match=match):
        vn.gradcheck(lambda x: x * 2.0, X, **kwargs)


def test_f_inputs_and_params_are_validated():
    net = _Net(vn.square)
    with pytest.raises(TypeError, match="f must be callable; got an array"):
        vn.gradcheck(X, X)
    with pytest.raises(ValueError, match="nothing to check"):
        vn.gradcheck(lambda: net(X))
    with pytest.raises(ValueError, match="params is empty"):
        vn.gradcheck(lambda: net(X), params=[])
    with pytest.raises(ValueError, match="either inputs or params"):
        vn.gradcheck(lambda x: x, X, params=net.parameters())
    with pytest.raises(TypeError, match="params must be an iterable of Tensors"):
        vn.gradcheck(lambda: net(X), params=net.w)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Tensor; got an array"):
        vn.gradcheck(lambda: net(X), params=[net.w, X])
    with pytest.raises(TypeError, match="float64 parameters; parameter 'p' has dtype float32"):
        vn.gradcheck(lambda: net(X), params=[vn.Tensor(np.ones(2, np.float32), requires_grad=True, name="p")])
