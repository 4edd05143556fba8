"""Every row of the op table: forward against an independent reference, backward against
central finite differences in float64, and float32 kept float32; then NumPy's functions
mapped onto the ops (ops.ARRAY_FUNCTIONS, ops.UFUNCS) and indexing."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn

from op_table import CASES, normal


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradient_matches_finite_differences(case, rng):
    inputs = case.inputs(rng)
    result = vn.gradcheck(case.f, *inputs)
    assert result.ok and result.max_rel_error <= 1e-6, result
    assert result.n_compared == sum(x.size for x in inputs)


@pytest.mark.parametrize("case", [c for c in CASES if c.reference is not None], ids=str)
def test_forward_matches_reference(case, rng):
    inputs = case.inputs(rng)
    got = case.f(*(vn.Tensor(x) for x in inputs))
    want = case.reference(*inputs)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_float32_stays_float32(case, rng):
    inputs = [vn.Tensor(x.astype(np.float32), requires_grad=True) for x in case.inputs(rng)]
    out = case.f(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for x in inputs:
        assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_every_public_primitive_has_a_row():
    """A new primitive in vae_np.ops or vae_np.linalg must come with a row in the table."""
    covered = {c.name.split("/")[0] for c in CASES}
    missing = (set(vn.ops.__all__) | set(vn.linalg.__all__)) - covered
    assert not missing, f"ops without a row in tests/op_table.py: {sorted(missing)}"


# ---- NumPy's functions on Tensors: ops.ARRAY_FUNCTIONS and ops.UFUNCS ----------------
COND = np.array([[True], [False], [True]])


def _spd(rng):
    M = rng.standard_normal((2, 3, 3))
    return M @ np.swapaxes(M, -1, -2) + 3 * np.eye(3)


# (NumPy function, draw the differentiable inputs, call with them in NumPy's argument order)
ARRAY_CASES = [
    (np.sum, normal((3, 4)), lambda f, x: f(x)),
    (np.sum, normal((3, 4)), lambda f, x: f(x, 1, keepdims=True)),
    (np.mean, normal((3, 4)), lambda f, x: f(x, axis=0)),
    (np.reshape, normal((3, 4)), lambda f, x: f(x, (4, 3))),
    (np.reshape, normal((3, 4)), lambda f, x: f(x, shape=-1)),
    (np.ravel, normal((3, 4)), lambda f, x: f(x)),
    (np.squeeze, normal((3, 1, 4)), lambda f, x: f(x, axis=1)),
    (np.squeeze, normal((1, 3, 1)), lambda f, x: f(x)),
    (np.expand_dims, normal((3, 4)), lambda f, x: f(x, (0, 2))),
    (np.moveaxis, normal((2, 3, 4)), lambda f, x: f(x, 0, -1)),
    (np.moveaxis, normal((2, 3, 4)), lambda f, x: f(x, [0, 1], [-1, -3])),
    (np.transpose, normal((2, 3, 4)), lambda f, x: f(x, (1, 0, 2))),
    (np.transpose, normal((2, 3, 4)), lambda f, x: f(x)),
    (np.swapaxes, normal((2, 3, 4)), lambda f, x: f(x, 0, 2)),
    (np.concatenate, normal((3, 4), (2, 4)), lambda f, x, y: f((x, y))),
    (np.concatenate, normal((3, 4), (2, 4)), lambda f, x, y: f([x, y], axis=None)),
    (np.stack, normal((3, 4), (3, 4)), lambda f, x, y: f([x, y], 1)),
    (np.where, normal((3, 4), (4,)), lambda f, x, y: f(COND, x, y)),
    (np.clip, normal((3, 4)), lambda f, x: f(x, -0.5, 0.5)),
    (np.clip, normal((3, 4)), lambda f, x: f(x, min=-0.3)),
    (np.diagonal, normal((3, 3, 2)), lambda f, x: f(x)),              # NumPy's default axes are 0 and 1
    (np.diagonal, normal((2, 3, 3)), lambda f, x: f(x, 1, axis1=1, axis2=2)),
    (np.trace, normal((3, 3, 2)), lambda f, x: f(x)),
    (np.tril, normal((3, 4)), lambda f, x: f(x)),
    (np.triu, normal((2, 3, 3)), lambda f, x: f(x, 1)),
    (np.broadcast_to, normal((3, 1)), lambda f, x: f(x, (2, 3, 4))),
    (np.repeat, normal((3, 2)), lambda f, x: f(x, 2)),
    (np.repeat, normal((3, 2)), lambda f, x: f(x, [1, 2, 0], axis=0)),
    (np.einsum, normal((3, 4), (2, 4)), lambda f, x, y: f("ij,kj->ik", x, y)),
    (np.einsum, normal((2, 3, 3)), lambda f, x: f("bii->bi", x, optimize=True)),
    (np.linalg.cholesky, lambda rng: (_spd(rng),), lambda f, a: f(a)),
    (np.linalg.cholesky, lambda rng: (_spd(rng),), lambda f, a: f(a, upper=True)),
]


@pytest.mark.parametrize("func, draw, call", ARRAY_CASES, ids=[c[0].__name__ for c in ARRAY_CASES])
def test_array_function_matches_numpy_and_its_gradient_checks(func, draw, call, rng):
    mapped = vn.ops.ARRAY_FUNCTIONS[func]
    inputs = draw(rng)
    got = call(mapped, *(vn.Tensor(x) for x in inputs))
    assert isinstance(got, vn.Tensor)
    np.testing.assert_allclose(got.data, call(func, *inputs), rtol=1e-12, atol=1e-12)
    result = vn.gradcheck(lambda *ts: call(mapped, *ts), *inputs)
    assert result.ok and result.max_rel_error <= 1e-6, result


def test_every_array_function_has_a_case():
    assert set(vn.ops.ARRAY_FUNCTIONS) == {c[0] for c in ARRAY_CASES}


@pytest.mark.parametrize("call, words", [
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.sum](x, out=np.zeros(())), ["np.sum", "out="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.mean](x, dtype=np.float32), ["np.mean", "dtype="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.sum](x, where=np.ones((3, 4), bool)), ["np.sum", "where="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.einsum]("ij->i", x, dtype=np.float32), ["np.einsum", "dtype="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.reshape](x, (4, 3), order="F"), ["np.reshape", "order="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.where](x.data > 0), ["np.where", "condition, x and y"]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.clip](x, 0, 1, out=np.zeros((3, 4))), ["np.clip", "out="]),
    (lambda x: vn.ops.ARRAY_FUNCTIONS[np.trace](x, dtype=np.float32), ["np.trace", "dtype="]),
])
def test_array_function_refuses_an_option_it_does_not_implement(call, words):
    with pytest.raises(TypeError) as info:
        call(vn.Tensor(np.ones((3, 4)), requires_grad=True))
    assert all(w in str(info.value) for w in words), info.value


def test_abs_and_absolute_are_the_abs_op():
    assert np.abs is np.absolute and vn.ops.UFUNCS[np.absolute] is vn.abs
    assert vn.expand is vn.broadcast_to


# ---- indexing: integers and booleans work, floats are refused (see bad_inputs_ops) ----
@pytest.mark.parametrize("index", [
    vn.Tensor([2.0, 0.0, 2.0]), [2, 0, 2], np.array([2, 0, 2]), (np.array([2, 0, 2]),),
])
def test_integer_index_arrays_and_whole_number_tensors_select_and_add_up(index):
    x = vn.Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, [30.0, 10.0, 30.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 2.0])


def test_boolean_masks_and_empty_index_lists_work():
    x = vn.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x[x.data > 2].data, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(x[:, np.array([True, False, True])].data, [[0.0, 2.0], [3.0, 5.0]])
    assert x[[]].shape == (0, 3)


def test_sqrt_gradient_at_zero_is_infinite_as_in_torch():
    x = vn.Tensor(np.array([0.0, 4.0]), requires_grad=True)
    vn.sqrt(x).sum().backward()
    assert x.grad[0] == np.inf and x.grad[1] == 0.25
