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

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .tensor import Tensor, no_grad, non_finite

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
        Input name, where (``"index (i, j)"`` or ``"random direction k"``), analytic and numeric values of
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
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    directions: int | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> GradcheckResult:
    """Check the gradients of ``f`` at ``inputs`` against central finite differences.

    Parameters
    ----------
    f : callable
        Takes as many Tensors as there are ``inputs`` and returns a Tensor of any shape.
    *inputs : float64 arrays or Tensors
        The point at which to check. Every input is differentiated. Close over anything
        that should stay fixed (labels, options) in ``f``.
    eps : float
        The finite-difference step h.
    rtol, atol : float
        A derivative passes when |analytic − numeric| ≤ max(rtol · max(|analytic|,
        |numeric|), atol).
    directions : int, optional
        If given, check along this many random directions per input instead of every
        element: cheap for large inputs.
    seed : int
        Seed for the output weighting and the directions.
    names : sequence of str, optional
        Names of the inputs for messages; by default the parameter names of ``f``.

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
        For inputs that are not finite float64 arrays, or an ``f`` that does not return a
        finite Tensor.

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
    """
    labels = [_name(f, names, i, len(inputs)) for i in range(len(inputs))]
    arrays = [_checked_input(x, label) for x, label in zip(inputs, labels)]
    rng = np.random.default_rng(seed)

    leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a vae_np.Tensor; it returned {type(out).__name__}")
    if not np.all(np.isfinite(out.data)):
        raise ValueError(f"gradcheck: f returned non-finite values (shape {out.shape}) at these inputs")
    weights = rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(weights.astype(out.dtype))
    analytic = [np.zeros_like(a) if t.grad is None else t.grad for a, t in zip(arrays, leaves)]

    def s(*xs: np.ndarray) -> float:
        with no_grad():
            return float(np.sum(f(*(Tensor(x) for x in xs)).data * weights))

    compared, worst, worst_rel = 0, {}, 0.0
    failures = 0
    for i, (a, grad) in enumerate(zip(arrays, analytic)):
        if directions is None:  # every element
            numeric = np.empty_like(a)
            shifted = list(arrays)
            for j in range(a.size):
                x = a.copy()
                x.flat[j] += eps
                shifted[i] = x
                up = s(*shifted)
                x.flat[j] -= 2 * eps
                down = s(*shifted)
                numeric.flat[j] = (up - down) / (2 * eps)
            pairs = [(f"index {tuple(int(k) for k in np.unravel_index(j, a.shape))}", grad.flat[j], numeric.flat[j])
                     for j in range(a.size)]
        else:  # random directions
            pairs = []
            for k in range(directions):
                v = rng.standard_normal(a.shape)
                shifted = list(arrays)
                shifted[i] = a + eps * v
                up = s(*shifted)
                shifted[i] = a - eps * v
                down = s(*shifted)
                pairs.append((f"random direction {k}", float(np.sum(grad * v)), (up - down) / (2 * eps)))
        for where, an, nu in pairs:
            rel = float(abs(an - nu) / max(abs(an), abs(nu), atol / rtol))
            compared += 1
            failures += rel > rtol
            if rel >= worst_rel:
                worst_rel = rel
                worst = {"input": labels[i], "where": where, "analytic": float(an), "numeric": float(nu)}

    result = GradcheckResult(ok=bool(failures == 0), max_rel_error=worst_rel, worst=worst, n_compared=compared)
    if not result.ok:
        raise GradcheckError(
            f"gradcheck failed for input '{worst['input']}' at {worst['where']}: analytic "
            f"{worst['analytic']:.10g}, numeric {worst['numeric']:.10g}, relative error "
            f"{worst_rel:.3g} > rtol {rtol:g} ({failures} of {compared} derivatives failed)"
        )
    return result


def _name(f: Callable, names: Sequence[str] | None, i: int, n: int) -> str:
    """The i-th input's name: given, or f's parameter name, or 'input i'."""
    if names is not None:
        return str(names[i])
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


def _checked_input(x: Any, name: str) -> np.ndarray:
    """A finite float64 array, or a TypeError/ValueError that says what is wrong."""
    data = x.data if isinstance(x, Tensor) else x
    arr = np.asarray(data)
    if arr.dtype != np.float64:
        hint = ("float32 is too coarse for finite differences at 1e-6; " if arr.dtype == np.float32 else "")
        raise TypeError(
            f"gradcheck needs float64 inputs; input '{name}' has dtype {arr.dtype}. "
            f"{hint}pass np.asarray({name}, dtype=np.float64)"
        )
    found = non_finite(arr)
    if found:
        count, first = found
        raise ValueError(
            f"gradcheck: input '{name}' has {count} non-finite value(s), first "
            f"{arr[first]} at index {first}; finite differences need finite inputs"
        )
    return arr
