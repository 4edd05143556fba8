"""NumPy on Tensors never drops the graph silently (issue 10 §1).

Walks every public NumPy function that dispatches through ``__array_function__`` (in
``numpy``, ``numpy.linalg`` and ``numpy.fft``) and every ufunc, applied to a Tensor that
requires grad. Each must either
* return a Tensor in the graph with NumPy's values (``ops.ARRAY_FUNCTIONS``, ``ops.UFUNCS``),
* return what NumPy returns on the data when no gradient can flow through the result
  (``tensor.NO_GRADIENT``: shapes, indices, booleans; boolean ufuncs), checked by
  perturbing the values: the result must not change, or
* raise vae_np's TypeError naming the function,
never an ndarray that silently left the graph.
"""
from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
import pytest

import vae_np as vn
from vae_np import ops
from vae_np.tensor import NO_GRADIENT

PACKAGE = Path(vn.__file__).parent.resolve()
DISPATCHER = type(np.sum)
A = np.array([[2.1, 0.31, 0.13], [0.31, 1.57, 0.23], [0.13, 0.23, 1.19]])   # SPD, no round entries
TINY = 1e-9 * np.random.default_rng(0).standard_normal(A.shape)


def _public(kind):
    found = {}
    for module in (np, np.linalg, np.fft):
        for name in dir(module):
            obj = getattr(module, name, None)
            if not name.startswith("_") and isinstance(obj, kind):
                found.setdefault(id(obj), obj)
    return sorted(found.values(), key=lambda f: f"{f.__module__}.{f.__name__}" if kind is DISPATCHER else f.__name__)


FUNCTIONS = _public(DISPATCHER)
UFUNCS = _public(np.ufunc)


def x():
    return vn.Tensor(A.copy(), requires_grad=True)


def _from_vae_np(err):
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def _graph_error(call, name):
    """The error from ``call()`` if it is vae_np's TypeError naming ``name``, else None."""
    try:
        call()
    except TypeError as err:
        if _from_vae_np(err) and name in str(err) and "t.data" in str(err):
            return err
    except Exception:  # noqa: BLE001 - another error means this pattern did not reach dispatch
        pass
    return None


# Argument patterns for the functions that run (X marks where the Tensor goes).
X = object()
PATTERNS = [
    (X,), (X, 0), (X, -1), (X, (9,)), (X, (1, 0)), (X, 0, 1), ([X, X],), ([X, X], 1),
    (A > 1, X, X), ("ij->ji", X), ("ii->i", X), (X, (2, 3, 3)), (X, 2), (X, -0.5, 0.5), (X, X),
    (X, np.float32), (np.array([0.0, 1.0, 2.0]), X),
]


def _fill(pattern, value):
    return tuple([value if i is X else i for i in p] if isinstance(p, list) else (value if p is X else p)
                 for p in pattern)


def _working_patterns(func):
    """Patterns under which ``func`` runs on plain arrays, with NumPy's result."""
    for pattern in PATTERNS:
        try:
            with np.errstate(all="ignore"):
                expected = func(*_fill(pattern, A.copy()))     # a copy: (X, X) may mean out=X
        except Exception:  # noqa: BLE001
            continue
        yield pattern, expected


def _contains_tensor(obj):
    if isinstance(obj, vn.Tensor):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_tensor(o) for o in obj)


def _same(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def _check_in_graph(func):
    stayed = 0
    for pattern, expected in _working_patterns(func):
        if np.size(expected) == 0:  # e.g. np.repeat(x, 0): no element for a gradient to reach
            continue
        t = x()
        try:
            out = func(*_fill(pattern, t))
        except (TypeError, ValueError) as err:
            assert _from_vae_np(err), f"{func.__name__}{pattern}: {err!r} from outside vae_np"
            continue
        assert isinstance(out, vn.Tensor) and out.requires_grad, f"{func.__name__}{pattern} gave {type(out)}"
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
        out.sum().backward()
        assert t.grad is not None and np.any(t.grad != 0), f"{func.__name__}{pattern}: no gradient reached x"
        stayed += 1
    assert stayed, f"np.{func.__name__}: no argument pattern in PATTERNS exercises it; add one"


def _check_no_gradient(func):
    ran = 0
    for pattern, expected in _working_patterns(func):
        try:
            out = func(*_fill(pattern, x()))
        except TypeError as err:          # e.g. a list of Tensors: NumPy converts it with np.asarray
            assert _from_vae_np(err), f"{func.__name__}{pattern}: {err!r} from outside vae_np"
            continue
        assert not _contains_tensor(out)
        if func is np.empty_like:
            assert np.shape(out) == np.shape(expected)
        else:
            assert _same(out, expected), f"{func.__name__}{pattern}"
            nudged = func(*_fill(pattern, vn.Tensor(A + TINY, requires_grad=True)))
            assert _same(nudged, expected), f"np.{func.__name__} changes with the values: a gradient would be lost"
        ran += 1
    assert ran, f"np.{func.__name__}: no argument pattern in PATTERNS exercises it; add one"


def _check_refused(func):
    t = x()
    calls = [lambda n=n: func(*([t] * n)) for n in range(1, 5)] + [lambda: func((3,), like=t)]
    assert any(_graph_error(c, func.__name__) for c in calls), (
        f"np.{func.__name__} on a Tensor that requires grad neither stays in the graph nor raises "
        f"vae_np's TypeError naming it")


def test_the_walk_covers_numpy():
    assert len(FUNCTIONS) > 250 and len(UFUNCS) > 60
    assert set(ops.ARRAY_FUNCTIONS) <= set(FUNCTIONS) | set(UFUNCS)


@pytest.mark.parametrize("func", FUNCTIONS, ids=[f"{f.__module__}.{f.__name__}" for f in FUNCTIONS])
def test_numpy_function_on_a_tensor_that_requires_grad(func):
    if func in ops.ARRAY_FUNCTIONS:
        _check_in_graph(func)
    elif func in NO_GRADIENT:
        _check_no_gradient(func)
    else:
        _check_refused(func)


@pytest.mark.parametrize("ufunc", UFUNCS, ids=[u.__name__ for u in UFUNCS])
def test_ufunc_on_a_tensor_that_requires_grad(ufunc):
    t = x()
    call = lambda: ufunc(*([t] * ufunc.nin))  # noqa: E731
    if ufunc in ops.UFUNCS:
        out = call()
        assert isinstance(out, vn.Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, ufunc(*([A] * ufunc.nin)), rtol=1e-12)
    elif all(sig.endswith("?") for sig in ufunc.types if "O" not in sig):     # returns booleans
        try:
            expected = ufunc(*([A] * ufunc.nin))
        except TypeError:                                     # no loop for floats (np.isnat)
            with pytest.raises(TypeError):
                call()
            return
        out = call()
        assert isinstance(out, np.ndarray) and out.dtype == bool and np.array_equal(out, expected)
    else:
        assert _graph_error(call, f"np.{ufunc.__name__}")


@pytest.mark.parametrize("ufunc", sorted((u for u in ops.UFUNCS if u.nin == 2 and u is not np.matmul),
                                         key=lambda u: u.__name__))
@pytest.mark.parametrize("method", ["reduce", "accumulate", "outer", "reduceat", "at"])
def test_ufunc_methods_on_a_tensor_that_requires_grad_are_refused(ufunc, method):
    t = x()
    calls = [lambda: getattr(ufunc, method)(t), lambda: getattr(ufunc, method)(t, t),
             lambda: getattr(ufunc, method)(t, [0, 1]), lambda: getattr(ufunc, method)(t, [0, 1], 1.0)]
    assert any(_graph_error(c, f"np.{ufunc.__name__}.{method}") for c in calls)


def test_ufunc_keywords_on_a_tensor_that_requires_grad_are_refused():
    t = x()
    with pytest.raises(TypeError, match=r"np\.exp with out= .*vae_np\.exp"):
        np.exp(t, out=np.empty((3, 3)))
    with pytest.raises(TypeError, match=r"np\.add with dtype="):
        np.add(t, 1.0, dtype=np.float32)
    with pytest.raises(TypeError, match=r"np\.add with out="):
        a = np.zeros((3, 3))
        a += t                                          # in place into an ndarray: leaves the graph
    assert np.add.reduce(t.detach()).shape == (3,)       # without requires_grad: on the data


def test_without_requires_grad_numpy_runs_on_the_data_as_before():
    t = vn.Tensor(A)
    out = np.cumsum(t)
    assert isinstance(out, np.ndarray) and np.array_equal(out, np.cumsum(A))
    assert np.asarray(t) is t.data
    np.testing.assert_array_equal(np.linalg.inv(t), np.linalg.inv(A))
    assert isinstance(np.sum(t), vn.Tensor) and not np.sum(t).requires_grad  # a vae_np op, no graph


def test_asarray_on_a_tensor_that_requires_grad_is_refused_as_in_torch():
    t = x()
    for convert in (np.asarray, np.array, np.asanyarray, lambda v: np.array([v, v])):
        with pytest.raises(TypeError, match=r"t\.data \(or t\.detach\(\)\)"):
            convert(t)
    assert np.asarray(t.detach()) is t.data and np.asarray(t.data) is t.data


def test_the_error_names_the_vae_np_op_when_one_exists():
    t = x()
    with pytest.raises(TypeError, match=r"np\.dot .*vae_np\.matmul"):
        np.dot(t, t)
    with pytest.raises(TypeError, match=r"np\.linalg\.slogdet would drop"):
        np.linalg.slogdet(t)
    with pytest.raises(TypeError, match=r"np\.sum: the option dtype= is not supported on Tensors"):
        np.sum(t, dtype=np.float32)


def test_numpy_functions_that_stay_in_the_graph_give_the_right_gradient():
    t = x()
    np.sum(np.stack([t, 2 * t]) * np.mean(t, axis=0), axis=(0, 1)).sum().backward()
    # f = Σ_ij 3 t_ij m_j with m_j = mean_i t_ij:  ∂f/∂t_kl = 3 m_l + 3 Σ_i t_il / 3
    expected = 3 * A.mean(axis=0) + A.sum(axis=0)
    np.testing.assert_allclose(t.grad, np.broadcast_to(expected, A.shape))

