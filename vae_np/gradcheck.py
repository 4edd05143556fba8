"""The gradient checker: compare every hand-written backward with finite differences.

For a function ``f`` of tensors, :func:`gradcheck` reduces the output to a scalar with a
fixed random weighting, ``s(x) = Σ R ⊙ f(x)``, so one backward pass gives the analytic
gradient ∂s/∂x of every input at once. It then estimates the same derivatives by central
differences,

    ∂s/∂xⱼ ≈ (s(x + h eⱼ) − s(x − h eⱼ)) / 2h,

whose error is O(h²) from truncation plus about 10⁻¹⁶·|s|/h from rounding, so in float64
with h = 10⁻⁶ the two agree to roughly 10⁻⁹. A wrong backward rule misses by far more.
For large inputs the *directional* mode perturbs along a few random directions ``v``
and compares ``(s(x + hv) − s(x − hv)) / 2h`` with ``⟨∂s/∂x, v⟩``: two evaluations per
direction instead of two per element.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .tensor import Tensor, no_grad
from .validate import as_array, as_rng, describe, non_finite, positive_int, positive_real

__all__ = ["gradcheck", "GradcheckError", "GradcheckResult"]


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


@dataclass
class GradcheckResult:
    """What :func:`gradcheck` compared.

    Attributes
    ----------
    ok : bool
        True when every compared derivative is within tolerance.
    max_rel_error : float
        The largest |analytic − numeric| / max(|analytic|, |numeric|, atol/rtol).
    worst : dict
        Input (or parameter) name, where (``"index (i, j)"`` or ``"random direction k"``), analytic and numeric values of
        the worst comparison.
    n_compared : int
        How many derivatives were compared.
    """

    ok: bool
    max_rel_error: float
    worst: dict = field(default_factory=dict)
    n_compared: int = 0


def gradcheck(
    f: Callable[..., Tensor],
    *inputs: Any,
    params: Iterable[Tensor] | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    directions: int | None = None,
    seed: int | np.random.Generator = 0,
    names: Sequence[str] | None = None,
) -> GradcheckResult:
    """Check the gradients of ``f`` against central finite differences.

    Two modes: ``gradcheck(f, x, w)`` differentiates ``f(x, w)`` with respect to its
    inputs; ``gradcheck(f, params=model.parameters())`` differentiates ``f()``, which takes
    no arguments, with respect to tensors it reads (a model's parameters), perturbing their
    data in place and restoring it exactly afterwards, even if ``f`` raises.

    Parameters
    ----------
    f : callable
        Takes as many Tensors as there are ``inputs`` (none with ``params``) and returns a
        Tensor of any shape.
    *inputs : float64 arrays or Tensors
        The point at which to check. Every input is differentiated (Tensors are copied, not
        changed). Close over anything that should stay fixed (labels, options) in ``f``.
    params : iterable of float64 Tensors, optional
        Instead of ``inputs``: the tensors to differentiate with respect to, for example
        ``model.parameters()``. Their ``.grad`` is left as it was.
    eps : float
        The finite-difference step h (> 0).
    rtol, atol : float
        A derivative passes when |analytic − numeric| ≤ max(rtol · max(|analytic|,
        |numeric|), atol). Both > 0.
    directions : int ≥ 1, optional
        If given, check along this many random directions per input instead of every
        element: cheap for large inputs and whole models.
    seed : int or numpy.random.Generator
        Seed for the output weighting and the directions.
    names : sequence of str, optional
        One name per input (or parameter) for messages; by default the parameter names of
        ``f``, or each parameter's ``name`` (else ``"param i"``).

    Returns
    -------
    GradcheckResult
        With ``ok=True``; on a mismatch :class:`GradcheckError` is raised instead.

    Raises
    ------
    GradcheckError
        Naming the input, the worst element's index, the analytic and numeric values and
        the relative error.
    TypeError, ValueError
        For a bad argument (inputs or parameters that are not finite float64 arrays,
        ``directions=0``, a negative ``eps`` …), or an ``f`` that does not return a finite
        Tensor.

    Examples
    --------
    >>> import numpy as np, vae_np as vn
    >>> x = np.array([[0.3, -1.2], [2.0, 0.5]])
    >>> w = np.array([[1.0], [-0.5]])
    >>> vn.gradcheck(lambda x, w: vn.tanh(x @ w), x, w).ok
    True

    A wrong backward is caught and located (here ``dx = g`` instead of ``2x g``):

    >>> class BadSquare(vn.Function):
    ...     def forward(self, x):
    ...         return x * x
    ...     def backward(self, g):
    ...         return (g,)
    >>> vn.gradcheck(BadSquare.apply, x)
    Traceback (most recent call last):
    ...
    vae_np.gradcheck.GradcheckError: gradcheck failed for input 'x' at index (0, 1): ...

    A whole model, along four random directions per parameter:

    >>> model = vn.FullCovVAE(6, [5], 2)
    >>> xb = np.random.default_rng(0).random((3, 6))
    >>> eps = np.random.default_rng(1).standard_normal((3, 2))
    >>> vn.gradcheck(lambda: model.loss(xb, eps=eps), params=model.parameters(), directions=4).ok
    True
    """
    call, leaves, labels, kind = _arguments(f, inputs, params, names)
    eps, rtol, atol = positive_real(eps, "eps"), positive_real(rtol, "rtol"), positive_real(atol, "atol")
    if directions is not None:
        directions = positive_int(directions, "directions")
    rng = as_rng(seed, "seed")

    weights, analytic = _analytic_gradients(call, leaves, rng)
    s = functools.partial(_weighted_output, call, weights)
    comparisons = []
    for leaf, grad, label in zip(leaves, analytic, labels):
        if directions is None:
            pairs = _elementwise(s, leaf.data, grad, eps)
        else:
            pairs = _directional(s, leaf.data, grad, eps, directions, rng)
        comparisons.extend((label, where, an, nu) for where, an, nu in pairs)
    return _verdict(comparisons, rtol, atol, kind)


def _arguments(f: Any, inputs: tuple, params: Any, names: Any) -> tuple[Callable[[], Tensor], list[Tensor], list[str], str]:
    """Check f, the inputs or params, and the names; return a no-argument ``call``, the
    tensors to perturb, their labels, and what they are called ("input" or "parameter")."""
    if not callable(f):
        raise TypeError(f"gradcheck: f must be callable; got {describe(f)}")
    if params is None:
        if not inputs:
            raise ValueError("gradcheck: nothing to check; pass at least one input (or params=)")
        labels = _labels(names, [_name(f, i, len(inputs)) for i in range(len(inputs))], "input")
        leaves = [Tensor(_checked_data(_data(x, label), label, "input").copy(), requires_grad=True)
                  for x, label in zip(inputs, labels)]
        return (lambda: f(*leaves)), leaves, labels, "input"
    if inputs:
        raise ValueError(f"gradcheck: pass either inputs or params=, not both; got {len(inputs)} input(s) and params")
    if isinstance(params, Tensor) or not isinstance(params, Iterable):
        raise TypeError(f"gradcheck: params must be an iterable of Tensors such as model.parameters(); got {describe(params)}")
    leaves = list(params)
    if not leaves:
        raise ValueError("gradcheck: nothing to check; params is empty")
    for i, p in enumerate(leaves):
        if not isinstance(p, Tensor):
            raise TypeError(f"gradcheck: params[{i}] must be a Tensor; got {describe(p)}")
    labels = _labels(names, [p.name or f"param {i}" for i, p in enumerate(leaves)], "parameter")
    for p, label in zip(leaves, labels):
        _checked_data(p.data, label, "parameter")
        if not p.data.flags.writeable:
            raise ValueError(f"gradcheck: parameter '{label}' is read-only; gradcheck perturbs it in place")
    return f, leaves, labels, "parameter"


def _data(x: Any, name: str) -> np.ndarray:
    """An input's values as an array: a Tensor's data, an array as it is, a list converted."""
    if isinstance(x, Tensor):
        return x.data
    return x if isinstance(x, np.ndarray) else as_array(x, f"input '{name}'")


def _labels(names: Any, defaults: list[str], kind: str) -> list[str]:
    """The given ``names`` (one str per input or parameter), or the defaults."""
    if names is None:
        return defaults
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"gradcheck: names must be a sequence of str; got {describe(names)}")
    if len(names) != len(defaults):
        raise ValueError(f"gradcheck: names must have one entry per {kind} ({len(defaults)}); got {len(names)}")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"gradcheck: names must be str; got {describe(name)}")
    return list(names)


def _analytic_gradients(call: Callable[[], Tensor], leaves: list[Tensor], rng: np.random.Generator):
    """The random weighting R of the output and ∂(Σ R ⊙ f)/∂leaf for every leaf, by one
    backward pass. The leaves' ``.grad`` are restored afterwards."""
    saved = [t.grad for t in leaves]
    try:
        for t in leaves:
            t.grad = None
        out = call()
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: f must return a vae_np.Tensor; it returned {describe(out)}")
        if non_finite(out.data):
            raise ValueError(f"gradcheck: f returned non-finite values (shape {out.shape}) at these inputs")
        weights = rng.standard_normal(out.shape)
        if out.requires_grad:
            out.backward(weights.astype(out.dtype))
        return weights, [np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves]
    finally:
        for t, grad in zip(leaves, saved):
            t.grad = grad


def _weighted_output(call: Callable[[], Tensor], weights: np.ndarray) -> float:
    """s = Σ R ⊙ f, evaluated without recording a graph."""
    with no_grad():
        return float(np.sum(call().data * weights))


def _elementwise(s: Callable[[], float], x: np.ndarray, grad: np.ndarray, eps: float):
    """(where, analytic, numeric) for every element of ``x``, perturbed in place one at a
    time; each element is put back exactly, even if ``s`` raises."""
    pairs = []
    for j in range(x.size):
        old = x.flat[j]
        try:
            x.flat[j] = old + eps
            up = s()
            x.flat[j] = old - eps
            down = s()
        finally:
            x.flat[j] = old
        where = f"index {tuple(int(k) for k in np.unravel_index(j, x.shape))}"
        pairs.append((where, grad.flat[j], (up - down) / (2 * eps)))
    return pairs


def _directional(s: Callable[[], float], x: np.ndarray, grad: np.ndarray, eps: float,
                 directions: int, rng: np.random.Generator):
    """(where, ⟨∂s/∂x, v⟩, numeric) along ``directions`` random directions v; ``x`` is
    perturbed in place and put back exactly, even if ``s`` raises."""
    saved, pairs = x.copy(), []
    try:
        for k in range(directions):
            v = rng.standard_normal(x.shape)
            np.add(saved, eps * v, out=x)
            up = s()
            np.subtract(saved, eps * v, out=x)
            down = s()
            pairs.append((f"random direction {k}", float(np.sum(grad * v)), (up - down) / (2 * eps)))
    finally:
        x[...] = saved
    return pairs


def _verdict(comparisons: list, rtol: float, atol: float, kind: str) -> GradcheckResult:
    """The result over all (label, where, analytic, numeric), or GradcheckError at the worst."""
    worst, worst_rel, failures = {}, 0.0, 0
    for label, where, an, nu in comparisons:
        rel = float(abs(an - nu) / max(abs(an), abs(nu), atol / rtol))
        failures += rel > rtol
        if rel >= worst_rel:
            worst_rel = rel
            worst = {"input": label, "where": where, "analytic": float(an), "numeric": float(nu)}
    if failures:
        raise GradcheckError(
            f"gradcheck failed for {kind} '{worst['input']}' at {worst['where']}: analytic "
            f"{worst['analytic']:.10g}, numeric {worst['numeric']:.10g}, relative error "
            f"{worst_rel:.3g} > rtol {rtol:g} ({failures} of {len(comparisons)} derivatives failed)"
        )
    return GradcheckResult(ok=True, max_rel_error=worst_rel, worst=worst, n_compared=len(comparisons))


def _name(f: Callable, i: int, n: int) -> str:
    """The i-th input's default name: f's parameter name, or 'input i'."""
    owner = getattr(f, "__self__", None)  # SomeOp.apply: name the inputs after SomeOp.forward
    if isinstance(owner, type) and hasattr(owner, "forward"):
        f = owner.forward
        n += 1  # forward's first parameter is self
        i += 1
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= n and all(p.kind != p.VAR_POSITIONAL for p in params[:n]):
        return params[i].name
    return f"input {i - (owner is not None and isinstance(owner, type))}"


def _checked_data(arr: np.ndarray, name: str, kind: str) -> np.ndarray:
    """A finite float64 array, or a TypeError/ValueError that says what is wrong."""
    if arr.dtype != np.float64:
        hint = ("float32 is too coarse for finite differences at 1e-6; " if arr.dtype == np.float32 else "")
        raise TypeError(
            f"gradcheck needs float64 {kind}s; {kind} '{name}' has dtype {arr.dtype}. "
            f"{hint}convert it, e.g. np.asarray({name}, dtype=np.float64)"
        )
    found = non_finite(arr)
    if found:
        count, first = found
        raise ValueError(
            f"gradcheck: {kind} '{name}' has {count} non-finite value(s), first "
            f"{arr[first]} at index {first}; finite differences need finite {kind}s"
        )
    return arr
