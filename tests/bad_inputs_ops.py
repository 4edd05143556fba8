"""Bad arguments for every op of vae_np.ops and vae_np.linalg: rows for tests/test_bad_inputs.py.

Each row is ``(id, call, error type, words)``; the id starts with the public name. The
words are what the message must contain: the op, the argument and what was wrong.
"""
from __future__ import annotations

import numpy as np

import vae_np as vn


def T(*shape, value=1.0, requires_grad=False):
    """A Tensor of ``shape`` filled with ``value``."""
    return vn.Tensor(np.full(shape, value), requires_grad=requires_grad)


def backward(f):
    """A call that runs f's result backward (for errors that only the backward can see)."""
    return lambda: f().sum().backward()


TRIANGLE = np.array([[2.0, 0.0], [1.0, 3.0]])

ROWS = [
    # arithmetic
    ("add/string", lambda: vn.add(T(2), "a"), TypeError, ["add", "array-like"]),
    ("add/shapes", lambda: vn.add(T(3), T(4)), ValueError, ["add", "broadcast", "(3,)", "(4,)"]),
    ("sub/none", lambda: vn.sub(T(2), None), TypeError, ["sub", "array-like", "None"]),
    ("sub/shapes", lambda: vn.sub(T(2, 3), T(2)), ValueError, ["sub", "broadcast", "(2, 3)"]),
    ("mul/shapes", lambda: vn.mul(T(3), T(2, 2)), ValueError, ["mul", "broadcast"]),
    ("mul/complex", lambda: vn.mul(T(2), np.array([1j, 2j])), TypeError, ["mul", "real numbers", "complex"]),
    ("div/zero-divisor", lambda: vn.div(T(2), vn.Tensor([1.0, 0.0])), ValueError, ["div", "divisor", "non-zero", "(1,)"]),
    ("neg/string", lambda: vn.neg("x"), TypeError, ["neg", "array-like", "str"]),
    ("power/negative-base-fractional-exponent", lambda: vn.power(vn.Tensor([4.0, -2.0]), 0.5), ValueError,
     ["power", "fractional", "≥ 0", "-2.0"]),
    ("power/zero-to-negative-exponent", lambda: vn.power(T(2, value=0.0), -1.0), ValueError, ["power", "negative", "non-zero"]),
    ("power/exponent-gradient-needs-positive-base",
     backward(lambda: vn.power(vn.Tensor([-2.0]), vn.Tensor([2.0], requires_grad=True))), ValueError,
     ["power", "exponent", "> 0"]),
    # matrix products
    ("matmul/scalar", lambda: vn.matmul(T(), T(2)), ValueError, ["matmul", "at least one axis"]),
    ("matmul/misaligned", lambda: vn.matmul(T(2, 3), T(4, 2)), ValueError, ["matmul", "(2, 3)", "(4, 2)", "length 3"]),
    ("linear/shapes", lambda: vn.linear(T(5, 3), T(4, 2), T(2)), ValueError, ["linear", "n_in", "(4, 2)"]),
    # reductions and shapes
    ("sum/axis-out-of-range", lambda: vn.sum(T(2, 3), axis=2), ValueError, ["sum", "axis", "[-2, 2)", "got 2"]),
    ("sum/axis-float", lambda: vn.sum(T(2, 3), axis=1.0), TypeError, ["sum", "axis", "int", "float"]),
    ("sum/axis-repeated", lambda: vn.sum(T(2, 3), axis=(0, -2)), ValueError, ["sum", "axis", "repeat"]),
    ("sum/keepdims-string", lambda: vn.sum(T(2, 3), keepdims="yes"), TypeError, ["sum", "keepdims", "true or false"]),
    ("mean/empty-axis", lambda: vn.mean(np.ones((0, 3)), axis=0), ValueError, ["mean", "empty", "(0, 3)"]),
    ("mean/axis-out-of-range", lambda: vn.mean(T(4), axis=-2), ValueError, ["mean", "axis", "[-1, 1)"]),
    ("reshape/size", lambda: vn.reshape(T(6), (4, 2)), ValueError, ["reshape", "6 elements", "(4, 2)"]),
    ("reshape/float-entry", lambda: vn.reshape(T(6), (2.0, 3)), TypeError, ["reshape", "shape", "int", "float"]),
    ("reshape/two-unknowns", lambda: vn.reshape(T(6), (-1, -1)), ValueError, ["reshape", "(-1, -1)"]),
    ("transpose/not-a-permutation", lambda: vn.transpose(T(2, 3), (0, 0)), ValueError, ["transpose", "permutation", "(0, 0)"]),
    ("transpose/axis-out-of-range", lambda: vn.transpose(T(2, 3), (0, 2)), ValueError, ["transpose", "axes", "got 2"]),
    ("transpose/axes-int", lambda: vn.transpose(T(2, 3), 1), TypeError, ["transpose", "axes", "sequence"]),
    ("swapaxes/axis2-out-of-range", lambda: vn.swapaxes(T(2, 3), 0, 5), ValueError, ["swapaxes", "axis2", "got 5"]),
    ("getitem/float-tensor-index", lambda: vn.getitem(T(3), vn.Tensor([0.7, 2.9])), TypeError,
     ["getitem", "integers", "0.7"]),
    ("getitem/float-array-index", lambda: T(3)[np.array([0.5])], TypeError, ["getitem", "integers", "float64"]),
    ("getitem/float-scalar-index", lambda: T(3)[1.5], TypeError, ["getitem", "index", "float 1.5"]),
    ("getitem/string-index", lambda: T(3)["a"], TypeError, ["getitem", "index", "str"]),
    ("getitem/out-of-range", lambda: T(3)[5], ValueError, ["getitem", "5", "shape (3,)"]),
    ("getitem/too-many-indices", lambda: T(3)[0, 0], ValueError, ["getitem", "shape (3,)"]),
    ("getitem/mask-shape", lambda: T(3)[np.array([True, False])], ValueError, ["getitem", "shape (3,)"]),
    ("getitem/slice-float-stop", lambda: T(3)[0:1.5], TypeError, ["getitem", "slice", "stop", "int"]),
    ("getitem/slice-zero-step", lambda: T(3)[::0], ValueError, ["getitem", "step", "0"]),
    ("concatenate/empty", lambda: vn.concatenate([]), ValueError, ["concatenate", "at least one"]),
    ("concatenate/not-a-list", lambda: vn.concatenate(T(2, 3)), TypeError, ["concatenate", "list or tuple", "tensor"]),
    ("concatenate/shapes", lambda: vn.concatenate([T(2, 3), T(2, 4)]), ValueError,
     ["concatenate", "except along axis 0", "(2, 3)", "(2, 4)"]),
    ("concatenate/axis-out-of-range", lambda: vn.concatenate([T(2), T(3)], axis=1), ValueError, ["concatenate", "axis", "got 1"]),
    ("concatenate/scalars", lambda: vn.concatenate([1.0, 2.0]), ValueError, ["concatenate", "at least 1"]),
    ("stack/empty", lambda: vn.stack(()), ValueError, ["stack", "at least one"]),
    ("stack/shapes", lambda: vn.stack([T(2), T(3)]), ValueError, ["stack", "same shape", "(2,)", "(3,)"]),
    ("stack/axis-out-of-range", lambda: vn.stack([T(2), T(2)], axis=2), ValueError, ["stack", "axis", "[-2, 2)"]),
    # elementwise
    ("exp/string", lambda: vn.exp("a"), TypeError, ["exp", "array-like", "str"]),
    ("log/negative", lambda: vn.log(vn.Tensor([1.0, -1.0])), ValueError, ["log", "> 0", "-1.0", "(1,)"]),
    ("log/zero", lambda: vn.log(T(2, value=0.0)), ValueError, ["log", "> 0", "2 entries"]),
    ("sqrt/negative", lambda: vn.sqrt(vn.Tensor([-4.0])), ValueError, ["sqrt", "≥ 0", "-4.0"]),
    ("square/none", lambda: vn.square(None), TypeError, ["square", "array-like", "None"]),
    ("tanh/ragged", lambda: vn.tanh([[1.0], [1.0, 2.0]]), TypeError, ["tanh", "array-like"]),
    ("relu/complex", lambda: vn.relu(np.array([1j])), TypeError, ["relu", "real numbers"]),
    ("sigmoid/string-array", lambda: vn.sigmoid(np.array(["a"])), TypeError, ["sigmoid", "real numbers"]),
    ("softplus/object", lambda: vn.softplus(object()), TypeError, ["softplus", "real numbers"]),
    # log-sum-exp, log-softmax, maximum, where
    ("logsumexp/axis-out-of-range", lambda: vn.logsumexp(T(2, 3), axis=3), ValueError, ["logsumexp", "axis", "got 3"]),
    ("logsumexp/empty-axis", lambda: vn.logsumexp(np.ones((2, 0))), ValueError, ["logsumexp", "empty", "(2, 0)"]),
    ("logsumexp/keepdims-int", lambda: vn.logsumexp(T(2, 3), keepdims=1), TypeError, ["logsumexp", "keepdims", "int 1"]),
    ("log_softmax/axis-tuple", lambda: vn.log_softmax(T(2, 3), axis=(0, 1)), TypeError, ["log_softmax", "axis", "int"]),
    ("log_softmax/axis-out-of-range", lambda: vn.log_softmax(T(2, 3), axis=-3), ValueError, ["log_softmax", "axis", "got -3"]),
    ("maximum/shapes", lambda: vn.maximum(T(2), T(3)), ValueError, ["maximum", "broadcast", "(2,)", "(3,)"]),
    ("where/non-boolean-cond", lambda: vn.where(np.array([1, 0]), T(2), T(2)), TypeError, ["where", "cond", "boolean", "int"]),
    ("where/tensor-cond", lambda: vn.where(T(2), T(2), T(2)), TypeError, ["where", "cond", "boolean", "tensor"]),
    ("where/shapes", lambda: vn.where(np.array([True, False, True]), T(2), T(2)), ValueError,
     ["where", "cond, x and y", "(3,)", "(2,)"]),
    # abs, clip
    ("abs/string", lambda: vn.abs("a"), TypeError, ["abs", "array-like"]),
    ("clip/no-bounds", lambda: vn.clip(T(3)), ValueError, ["clip", "low", "high", "neither"]),
    ("clip/low-above-high", lambda: vn.clip(T(3), 1.0, 0.0), ValueError, ["clip: low", "≤ high"]),
    ("clip/nan-bound", lambda: vn.clip(T(3), high=np.nan), ValueError, ["clip: high", "nan"]),
    ("clip/tensor-bound", lambda: vn.clip(T(3), T(3)), TypeError, ["clip: low", "tensor", "constant"]),
    ("clip/bound-shape", lambda: vn.clip(T(3), np.zeros(2)), ValueError, ["clip: low", "(2,)", "(3,)"]),
    # diagonals and triangles
    ("diagonal/one-axis", lambda: vn.diagonal(T(3)), ValueError, ["diagonal", "at least 2 axes", "(3,)"]),
    ("diagonal/same-axes", lambda: vn.diagonal(T(3, 3), 0, 0, -2), ValueError, ["diagonal", "axis1", "axis2", "different"]),
    ("diagonal/axis-out-of-range", lambda: vn.diagonal(T(3, 3), 0, 2, 1), ValueError, ["diagonal", "axis1", "got 2"]),
    ("diagonal/offset-too-large", lambda: vn.diagonal(T(3, 3), 3), ValueError, ["diagonal", "offset", "(-3, 3)", "empty"]),
    ("diagonal/offset-float", lambda: vn.diagonal(T(3, 3), 1.0), TypeError, ["diagonal", "offset", "int"]),
    ("diag_embed/scalar", lambda: vn.diag_embed(T()), ValueError, ["diag_embed", "d", "at least 1 axis"]),
    ("diag_embed/offset-float", lambda: vn.diag_embed(T(3), 0.5), TypeError, ["diag_embed", "offset", "int"]),
    ("trace/one-axis", lambda: vn.trace(T(3)), ValueError, ["trace", "at least 2 axes"]),
    ("trace/offset-too-large", lambda: vn.trace(T(2, 3), -2), ValueError, ["trace", "offset", "empty"]),
    ("tril/one-axis", lambda: vn.tril(T(3)), ValueError, ["tril", "at least 2 axes", "(3,)"]),
    ("tril/k-float", lambda: vn.tril(T(3, 3), 0.5), TypeError, ["tril", "k", "int"]),
    ("triu/one-axis", lambda: vn.triu(T(3)), ValueError, ["triu", "at least 2 axes"]),
    ("triu/k-string", lambda: vn.triu(T(3, 3), "1"), TypeError, ["triu", "k", "str"]),
    # broadcast_to, repeat
    ("broadcast_to/incompatible", lambda: vn.broadcast_to(T(3), (4,)), ValueError, ["broadcast_to", "(3,)", "(4,)"]),
    ("broadcast_to/fewer-axes", lambda: vn.broadcast_to(T(2, 3), (3,)), ValueError, ["broadcast_to", "(2, 3)", "(3,)"]),
    ("broadcast_to/negative-entry", lambda: vn.broadcast_to(T(3), (-1, 3)), ValueError, ["broadcast_to", "shape", "≥ 0"]),
    ("broadcast_to/float-entry", lambda: vn.broadcast_to(T(3), (2.0, 3)), TypeError, ["broadcast_to", "shape", "int"]),
    ("expand/incompatible", lambda: vn.expand(T(2, 1), (3, 3)), ValueError, ["broadcast_to", "(2, 1)", "(3, 3)"]),
    ("repeat/negative", lambda: vn.repeat(T(3), -1), ValueError, ["repeat", "repeats", "≥ 0"]),
    ("repeat/float", lambda: vn.repeat(T(3), 2.5), TypeError, ["repeat", "repeats", "int", "2.5"]),
    ("repeat/counts-length", lambda: vn.repeat(T(3), [1, 2], axis=0), ValueError, ["repeat", "one count per element", "(3)"]),
    ("repeat/float-counts", lambda: vn.repeat(T(3), [1.5, 2.0, 1.0], axis=0), TypeError, ["repeat", "repeats", "ints"]),
    ("repeat/negative-count", lambda: vn.repeat(T(3), [1, -1, 1], axis=0), ValueError, ["repeat", "repeats", "≥ 0"]),
    ("repeat/axis-out-of-range", lambda: vn.repeat(T(3), 2, axis=1), ValueError, ["repeat", "axis", "got 1"]),
    # einsum
    ("einsum/subscripts-not-a-string", lambda: vn.einsum(["ij"], T(2, 2)), TypeError, ["einsum", "subscripts", "str"]),
    ("einsum/operand-count", lambda: vn.einsum("ij,jk", T(2, 3)), ValueError, ["einsum", "2 operand", "got 1"]),
    ("einsum/bad-character", lambda: vn.einsum("i1->i", T(2, 2)), ValueError, ["einsum", "letters", "'i1->i'"]),
    ("einsum/two-arrows", lambda: vn.einsum("i->i->i", T(2)), ValueError, ["einsum", "'->'"]),
    ("einsum/axes-count", lambda: vn.einsum("ijk", T(2, 3)), ValueError, ["einsum", "operand 0", "2 axes", "'ijk'"]),
    ("einsum/length-mismatch", lambda: vn.einsum("ij,jk", T(2, 3), T(4, 2)), ValueError,
     ["einsum", "'j'", "length 3", "4", "operand 1"]),
    ("einsum/unknown-output-letter", lambda: vn.einsum("ij->k", T(2, 3)), ValueError, ["einsum", "output", "'ij->k'"]),
    ("einsum/repeated-output-letter", lambda: vn.einsum("ii->ii", T(2, 2)), ValueError, ["einsum", "output", "once"]),
    ("einsum/ellipsis-missing-in-output", lambda: vn.einsum("...ij->ij", T(2, 3, 4)), ValueError, ["einsum", "output", "'...'"]),
    ("einsum/repeated-letter-unequal-axes", lambda: vn.einsum("ii", T(2, 3)), ValueError,
     ["einsum", "'i'", "repeated", "equal", "(2, 3)"]),
    # linear algebra
    ("solve_triangular/L-not-square", lambda: vn.solve_triangular(T(3, 2), T(3)), ValueError,
     ["solve_triangular", "L", "square", "(3, 2)"]),
    ("solve_triangular/B-rows", lambda: vn.solve_triangular(TRIANGLE, T(3)), ValueError,
     ["solve_triangular", "B", "(..., 2)", "(3,)"]),
    ("solve_triangular/singular", lambda: vn.solve_triangular(np.diag([1.0, 0.0]), T(2)), ValueError,
     ["solve_triangular", "diagonal of L", "non-zero"]),
    ("solve_triangular/lower-int", lambda: vn.solve_triangular(TRIANGLE, T(2), lower=1), TypeError,
     ["solve_triangular", "lower", "true or false"]),
    ("solve_triangular/nan-in-B", lambda: vn.solve_triangular(TRIANGLE, vn.Tensor([1.0, np.nan])), ValueError,
     ["solve_triangular", "B", "non-finite"]),
    ("solve_triangular/batch-mismatch", lambda: vn.solve_triangular(np.stack([TRIANGLE] * 2), T(3, 2)), ValueError,
     ["solve_triangular", "batch", "(2, 2, 2)", "(3, 2)"]),
    ("cholesky/not-positive-definite", lambda: vn.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])), ValueError,
     ["cholesky", "positive definite"]),
    ("cholesky/not-square", lambda: vn.cholesky(T(2, 3)), ValueError, ["cholesky", "A", "square", "(2, 3)"]),
    ("cholesky/nan", lambda: vn.cholesky(np.array([[1.0, np.nan], [np.nan, 1.0]])), ValueError, ["cholesky", "A", "non-finite"]),
    ("cholesky/upper-string", lambda: vn.cholesky(np.eye(2), upper="no"), TypeError, ["cholesky", "upper", "true or false"]),
    ("logdet_tril/zero-diagonal", lambda: vn.logdet_tril(np.diag([1.0, 0.0])), ValueError,
     ["logdet_tril", "diagonal of L", "non-zero"]),
    ("logdet_tril/not-square", lambda: vn.logdet_tril(T(3)), ValueError, ["logdet_tril", "L", "square", "(3,)"]),
]
