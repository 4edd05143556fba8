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
        with np.errstate(invalid="ignore"):
            vn.gradcheck(lambda x: vn.log(x - 10.0), X)
