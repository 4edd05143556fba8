"""Bad-input rows for the engine's public names: Tensor and its methods, Function, unbroadcast, gradcheck.

Each row is ``(id, call, error type, words the message must contain)``; see
tests/test_bad_inputs.py, which assembles the table from every ``bad_inputs_*.py``.
"""
from __future__ import annotations

import numpy as np

import vae_np as vn


def _leaf():
    return vn.Tensor(np.ones((2, 3)), requires_grad=True)


class _NoneBackward(vn.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return (None,)


class _WrongShapeBackward(vn.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return (g[:1, :1].repeat(5, axis=0),)


def _square(x):
    return x * x


ROWS = [
    ("Tensor/data-str", lambda: vn.Tensor("abc"), TypeError, ["data", "array-like", "str"]),
    ("Tensor/data-None", lambda: vn.Tensor(None), TypeError, ["data", "array-like", "none"]),
    ("Tensor/data-ragged", lambda: vn.Tensor([[1.0], [1.0, 2.0]]), TypeError, ["data", "array-like"]),
    ("Tensor/data-complex", lambda: vn.Tensor(np.ones(2, complex)), TypeError, ["data", "real numbers", "complex"]),
    ("Tensor/requires_grad-str", lambda: vn.Tensor([1.0], requires_grad="yes"), TypeError, ["requires_grad", "bool", "str"]),
    ("Tensor/requires_grad-int-data", lambda: vn.Tensor(np.arange(3), requires_grad=True), TypeError,
     ["requires_grad", "floating-point", "int64"]),
    ("Tensor/name-int", lambda: vn.Tensor([1.0], name=3), TypeError, ["name", "str", "int 3"]),
    ("Tensor/dtype-int32", lambda: vn.Tensor([1.0], dtype=np.int32), TypeError, ["dtype", "float32 or float64"]),
    ("Tensor/dtype-str", lambda: vn.Tensor([1.0], dtype="double-ish"), TypeError, ["dtype", "float32 or float64"]),
    ("Tensor.backward/grad-shape", lambda: (2 * _leaf()).backward(np.ones(3)), ValueError, ["grad", "shape (2, 3)", "(3,)"]),
    ("Tensor.backward/grad-str", lambda: (2 * _leaf()).backward("g"), TypeError, ["grad", "array-like"]),
    ("Tensor.backward/grad-nan", lambda: (2 * _leaf()).backward(np.full((2, 3), np.nan)), ValueError, ["grad", "non-finite"]),
    ("Tensor.backward/non-scalar", lambda: (2 * _leaf()).backward(), ValueError, ["single-element", "shape (2, 3)", "grad="]),
    ("Tensor.backward/no-grad", lambda: vn.Tensor([1.0]).backward(), ValueError, ["backward", "requires_grad"]),
    ("Tensor.backward/none-gradient", lambda: _NoneBackward.apply(_leaf()).sum().backward(), ValueError,
     ["_NoneBackward.backward", "none", "input 0"]),
    ("Tensor.backward/wrong-shape-gradient", lambda: _WrongShapeBackward.apply(_leaf()).sum().backward(), ValueError,
     ["_WrongShapeBackward.backward", "shape (5, 1)", "(2, 3)"]),
    ("Tensor.item/many-elements", lambda: _leaf().item(), ValueError, ["item()", "one element", "(2, 3)"]),
    ("Tensor.reshape/bad-shape", lambda: _leaf().reshape(4, 2), ValueError, ["reshape", "(2, 3)", "(4, 2)"]),
    ("Tensor.__lt__/str", lambda: _leaf() < "a", TypeError, ["right operand of <", "array-like", "str"]),
    ("Tensor.__ge__/shape", lambda: _leaf() >= np.ones(4), ValueError, [">=", "(2, 3)", "(4,)"]),
    ("Tensor.__array__/requires-grad", lambda: np.asarray(_leaf()), TypeError, ["np.asarray", "requires grad", "t.data"]),
    ("Tensor.__array_function__/unsupported", lambda: np.fft.fft(_leaf()), TypeError,
     ["np.fft.fft", "requires grad", "t.detach()"]),
    ("Tensor.__array_function__/bad-keyword", lambda: np.sum(_leaf(), dtype=np.float32), TypeError,
     ["np.sum", "dtype=", "t.data"]),
    ("Tensor.__array_ufunc__/method", lambda: np.add.reduce(_leaf()), TypeError, ["np.add.reduce", "vae_np.sum"]),
    ("Tensor.__array_ufunc__/out", lambda: np.exp(_leaf(), out=np.empty((2, 3))), TypeError, ["np.exp", "out=", "vae_np.exp"]),
    ("Function.apply/input-str", lambda: vn.Function.apply(_leaf(), "x"), TypeError, ["an input of function", "array-like"]),
    ("Function.apply/broadcast", lambda: vn.add(np.ones(2), _leaf()), ValueError, ["add", "broadcast", "(2,)", "(2, 3)"]),
    ("Function.apply/no-forward", lambda: vn.Function.apply(_leaf()), TypeError, ["function", "forward"]),
    ("unbroadcast/impossible", lambda: vn.unbroadcast(np.ones((2, 3)), (4,)), ValueError, ["(4,)", "(2, 3)", "broadcast"]),
    ("unbroadcast/shape-str", lambda: vn.unbroadcast(np.ones(3), "3"), TypeError, ["shape", "sequence of ints"]),
    ("unbroadcast/shape-negative", lambda: vn.unbroadcast(np.ones(3), (-1,)), ValueError, ["shape", "≥ 0", "-1"]),
    ("unbroadcast/g-None", lambda: vn.unbroadcast(None, (3,)), TypeError, ["g", "array-like"]),
    ("gradcheck/directions-zero", lambda: vn.gradcheck(_square, np.ones(2), directions=0), ValueError, ["directions", "≥ 1", "0"]),
    ("gradcheck/directions-float", lambda: vn.gradcheck(_square, np.ones(2), directions=2.5), TypeError, ["directions", "int", "2.5"]),
    ("gradcheck/eps-negative", lambda: vn.gradcheck(_square, np.ones(2), eps=-1e-6), ValueError, ["eps", "number"]),
    ("gradcheck/rtol-nan", lambda: vn.gradcheck(_square, np.ones(2), rtol=float("nan")), ValueError, ["rtol", "finite"]),
    ("gradcheck/atol-str", lambda: vn.gradcheck(_square, np.ones(2), atol="0"), TypeError, ["atol", "real number", "str"]),
    ("gradcheck/seed-float", lambda: vn.gradcheck(_square, np.ones(2), seed=0.5), TypeError, ["seed", "generator", "float"]),
    ("gradcheck/names-length", lambda: vn.gradcheck(_square, np.ones(2), names=["a", "b"]), ValueError, ["names", "one entry", "2"]),
    ("gradcheck/f-not-callable", lambda: vn.gradcheck(np.ones(2), np.ones(2)), TypeError, ["f", "callable"]),
    ("gradcheck/no-inputs", lambda: vn.gradcheck(lambda: vn.Tensor(1.0)), ValueError, ["nothing to check", "input"]),
    ("gradcheck/params-not-tensors", lambda: vn.gradcheck(lambda: vn.Tensor(1.0), params=[np.ones(2)]), TypeError,
     ["params[0]", "tensor", "array"]),
    ("gradcheck/input-float32", lambda: vn.gradcheck(_square, np.ones(2, np.float32)), TypeError, ["float64", "'x'", "float32"]),
    ("gradcheck/input-nan", lambda: vn.gradcheck(_square, np.array([np.nan])), ValueError, ["'x'", "non-finite"]),
    ("gradcheck/f-returns-array", lambda: vn.gradcheck(lambda x: x.data, np.ones(2)), TypeError, ["f", "vae_np.tensor", "an array"]),
]
