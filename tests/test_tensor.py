"""The Tensor and the backward pass: accumulation, no_grad, dtypes and bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vae_np as vn


def test_scalar_backward_and_accumulation_when_a_value_is_used_twice():
    x = vn.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * x + x).sum()            # dy/dx = 2x + 1: x reaches y along three paths
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 1)
    y.backward()                     # gradients add up until cleared
    np.testing.assert_array_equal(x.grad, 2 * (2 * x.data + 1))


def test_backward_with_upstream_gradient():
    x = vn.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    g = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]])
    (x * 3.0).backward(g)
    np.testing.assert_array_equal(x.grad, 3.0 * g)


def test_leaf_grads_do_not_share_memory():
    a = vn.Tensor(np.ones(3), requires_grad=True)
    b = vn.Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()         # Add hands the same array to both inputs
    a.grad += 1.0
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_only_inputs_that_require_grad_get_one():
    w = vn.Tensor(np.ones((3, 2)), requires_grad=True)
    x = vn.Tensor(np.ones((4, 3)))
    (x @ w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2)


def test_no_grad_records_nothing_and_restores_state():
    w = vn.Tensor(np.ones(2), requires_grad=True)
    with vn.no_grad():
        y = w * 2.0
        assert not vn.is_grad_enabled()
    assert vn.is_grad_enabled() and not y.requires_grad and y.is_leaf


def test_deep_chain_does_not_hit_recursion_limit():
    x = vn.Tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 5000])


def test_float64_default_and_float32_kept():
    assert vn.Tensor([1, 2, 3]).dtype == np.float64
    assert vn.Tensor(np.arange(3)).dtype == np.float64
    assert vn.Tensor(np.ones(2, np.float32)).dtype == np.float32
    t = vn.Tensor(np.ones(2, np.float32))
    assert (t * 2.5 + np.ones(2)).dtype == np.float32    # constants follow the tensor


def test_asarray_gives_the_data_and_numpy_ufuncs_stay_in_the_graph():
    x = vn.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    assert np.asarray(x) is x.data
    y = np.exp(x) + np.ones(2) * x   # ndarray on the left still builds the graph
    assert isinstance(y, vn.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.data) + 1)


def test_a_user_defined_op_in_a_few_lines():
    class Cube(vn.Function):
        """y = x³;  dx = 3x² g"""
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, g):
            return (3 * self.x ** 2 * g,)

    x = np.array([0.5, -1.0, 2.0])
    assert vn.gradcheck(Cube.apply, x).ok
    t = vn.Tensor(x, requires_grad=True)
    (Cube.apply(t) * t).sum().backward()          # composes with built-in ops
    np.testing.assert_allclose(t.grad, 4 * x ** 3)


@pytest.mark.parametrize("bad, match", [
    (np.array(["a", "b"]), "dtype <U1"),
    (np.array([object(), 1], dtype=object), "dtype object"),
    (np.array([1 + 2j]), "dtype complex128"),
    ([[1.0, 2.0], [3.0]], "array-like"),
])
def test_non_numeric_data_is_a_type_error(bad, match):
    with pytest.raises(TypeError, match=match):
        vn.Tensor(bad)


def test_integer_array_cannot_require_grad():
    with pytest.raises(TypeError, match="requires_grad=True needs floating-point data.*int64"):
        vn.Tensor(np.arange(3), requires_grad=True)


def test_backward_on_non_scalar_needs_upstream_gradient():
    x = vn.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"single-element tensor; this one has shape \(2, 3\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"grad must have the tensor's shape \(2, 3\); got shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_without_any_grad_is_explained():
    with pytest.raises(ValueError, match="does not require gradients"):
        (vn.Tensor(np.ones(2)) * 2.0).sum().backward()


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"x of shape \(2, 3\) does not align with y of shape \(4, 5\)"):
        vn.Tensor(np.ones((2, 3))) @ vn.Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: cannot broadcast inputs of shapes \(2, 3, 4\), \(3, 4, 5\)"):
        vn.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="at least one axis"):
        vn.matmul(np.ones(()), np.ones((2,)))


@pytest.mark.parametrize("op", [vn.add, vn.sub, vn.mul, vn.div, vn.maximum])
def test_failed_broadcast_names_the_shapes(op):
    with pytest.raises(ValueError, match=rf"^{op.__name__}: cannot broadcast inputs of shapes \(2, 3\), \(4,\)"):
        op(vn.Tensor(np.ones((2, 3))), vn.Tensor(np.ones(4)))


def test_other_shape_errors():
    with pytest.raises(ValueError, match=r"cannot reshape x of shape \(2, 3\)"):
        vn.reshape(np.ones((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="concatenate"):
        vn.concatenate([np.ones((2, 3)), np.ones((3, 2))], axis=0)
    with pytest.raises(ValueError, match="stack"):
        vn.stack([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match=r"linear: expected x \(..., n_in\)"):
        vn.linear(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
    with pytest.raises(TypeError, match="cond must be a boolean"):
        vn.where(np.ones(2), np.ones(2), np.ones(2))


@pytest.mark.parametrize("fn, expected", [
    (vn.softplus, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))),
    (vn.sigmoid, lambda x: np.exp(-np.logaddexp(0, -x))),
])
def test_stable_forms_at_plus_minus_1000(fn, expected):
    x = vn.Tensor(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(y.data, expected(x.data), rtol=1e-12)


def test_logsumexp_and_log_softmax_at_plus_minus_1000():
    x = vn.Tensor(np.array([[-1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0]]), requires_grad=True)
    y = vn.logsumexp(x, axis=1)
    np.testing.assert_allclose(y.data, [1000 + np.log1p(np.exp(-1.0)), -1000 + np.log(2 + np.exp(-1.0))])
    (y.sum() + vn.log_softmax(x)[:, 0].sum()).backward()
    assert np.all(np.isfinite(x.grad))


# ---- property tests over random shapes -------------------------------------------------
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
floats = st.floats(-3, 3, allow_nan=False, width=64)


@settings(deadline=None, max_examples=40)
@given(st.data())
def test_broadcast_arithmetic_gradients_on_random_shapes(data):
    a_shape, b_shape = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    a = data.draw(hnp.arrays(np.float64, a_shape, elements=floats))
    b = data.draw(hnp.arrays(np.float64, b_shape, elements=st.floats(0.5, 3, width=64)))
    result = vn.gradcheck(lambda a, b: a * b - a / b + (a + b) ** 2, a, b)
    assert result.ok
    np.testing.assert_allclose(vn.Tensor(a) * vn.Tensor(b), a * b)


@settings(deadline=None, max_examples=30)
@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), n=st.integers(1, 4),
       k=st.integers(1, 4), p=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_batched_matmul_on_random_shapes(batch, n, k, p, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(batch + (n, k)), rng.standard_normal((k, p))
    np.testing.assert_allclose(vn.matmul(x, y).data, x @ y)
    assert vn.gradcheck(vn.matmul, x, y).ok


@settings(deadline=None, max_examples=30)
@given(x=hnp.arrays(np.float64, shapes, elements=floats), keep=st.booleans(), data=st.data())
def test_reductions_on_random_shapes(x, keep, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    np.testing.assert_allclose(vn.sum(x, axis, keep).data, x.sum(axis, keepdims=keep))
    assert vn.gradcheck(lambda x: vn.mean(x, axis, keep) * vn.logsumexp(x, axis, keep), x).ok


def test_unbroadcast_sums_added_and_stretched_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(vn.unbroadcast(g, (3, 1)), g.sum(axis=0).sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(vn.unbroadcast(g, ()), g.sum())
    assert vn.unbroadcast(g, (2, 3, 4)) is g


def test_a_backward_with_the_wrong_shape_or_count_is_named():
    class WrongShape(vn.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return (g[:1],)

    class WrongCount(vn.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return (g, g)

    x = vn.Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"WrongShape.backward returned a gradient of shape \(1, 2\) for an input of shape \(3, 2\)"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(ValueError, match="WrongCount.backward returned 2 gradients for 1 inputs"):
        WrongCount.apply(x).sum().backward()


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-15), (np.float32, 1e-6)])
def test_tanh_is_accurate_over_its_whole_range(dtype, rtol):
    x = np.concatenate([np.random.default_rng(0).standard_normal(10000) * 5,
                        [0.0, -0.0, 1e-300, -1e-10, 1e-8, 20.0, -20.0, 400.0, np.inf, -np.inf]]).astype(dtype)
    z = vn.tanh(x).data
    np.testing.assert_allclose(z, np.tanh(x), rtol=rtol, atol=0)
    assert np.signbit(z[10001]) and z.dtype == dtype          # tanh(−0) = −0
