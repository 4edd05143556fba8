"""Argument checks and shared constants: the one home of validation in ``vae_np``.

Every public function of the package checks its arguments with the functions below, at
the boundary of its call path, and the rest of the code trusts what they return. Each
check raises a :class:`TypeError` (wrong kind of value) or :class:`ValueError` (right kind,
wrong value) whose message names the argument, says what was expected and what was
received. This module is the bottom layer: it imports nothing from the package, so any
module may use it.

==========================  ==============================================================
``FLOAT_DTYPES``            float32 and float64, the dtypes ``vae_np`` computes in
``LOG_2PI``                 log 2π as a Python float (so float32 stays float32)
:class:`NonFiniteError`     a computed value became NaN or inf (a diverging run)
:func:`as_array`            array-like numbers → a float32/float64 array
:func:`non_finite`          count and first index of the NaN/inf entries of an array
:func:`check_finite`        the array, or a ValueError naming the first NaN/inf
:func:`check_shape`         an array's shape against named axes such as ``"B m m"``
:func:`integer`             an int (not a bool, float or string), optionally ≥ a minimum
:func:`positive_int`        an int ≥ 1: sizes, counts, steps
:func:`real`                a finite real number (not a bool or string) inside bounds
:func:`positive_real`       a finite real number > 0: rates, scales, tolerances
:func:`as_rng`              a ``numpy.random.Generator`` from a Generator or an int seed
:func:`float_dtype`         float32 or float64 as a NumPy dtype
:func:`choice`              one of a fixed set of strings
:func:`boolean`             True or False (not 0, 1, None or a string)
:func:`check_axis`          an axis (or :func:`check_axes`: several) inside an array's ndim
:func:`check_domain`        a NonFiniteError where an op's input is outside its domain
:func:`finite_result`       an op's result, or a NonFiniteError naming the input with NaN/inf
:func:`positive_ints`       a list of sizes, each an int ≥ 1
:func:`first_index`         the index of the first True entry of a boolean array
==========================  ==============================================================
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

__all__ = [
    "FLOAT_DTYPES", "LOG_2PI", "NonFiniteError", "as_array", "non_finite", "check_finite",
    "check_shape", "integer", "positive_int", "real", "positive_real", "as_rng", "float_dtype",
    "choice", "describe", "is_tensor", "check_axis", "check_axes", "boolean", "check_domain",
    "finite_result", "positive_ints", "first_index",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
LOG_2PI = math.log(2 * math.pi)


class NonFiniteError(ValueError):
    """A value computed from finite inputs became NaN or infinite.

    Raised where an overflow is the symptom of a diverging optimisation (for example
    ``exp(log σ)`` overflowing in :func:`vae_np.scale_tril`), so that
    :func:`vae_np.fit` can tell divergence apart from a programming error.
    """


def describe(value: Any) -> str:
    """A short description of a received value for error messages: its type, and the value
    itself when it is short (``float 2.5``, ``str '32'``, ``ndarray of shape (3, 4)``)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if is_tensor(value):
        return f"a Tensor of shape {value.data.shape}"
    if isinstance(value, type):
        return f"the class {value.__name__} (an instance was expected)"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


# ---------------------------------------------------------------------------------------
# Arrays
# ---------------------------------------------------------------------------------------
def is_tensor(x: Any) -> bool:
    """True for a ``vae_np.Tensor`` (recognised by its ``data`` array and ``requires_grad``
    flag, since this module imports nothing from the package)."""
    return hasattr(x, "requires_grad") and isinstance(getattr(x, "data", None), np.ndarray)


def as_array(x: Any, name: str = "x", dtype: Any = None) -> np.ndarray:
    """``x`` as a float32 or float64 NumPy array, or a clear TypeError naming ``name``.

    Tensors give their data; float32 and float64 arrays are kept as they are (no copy, so
    read-only and Fortran-ordered arrays pass through); Python numbers, lists, float16,
    integer and boolean arrays become float64 (or ``dtype``). Complex, string, object and
    ragged data raise :class:`TypeError`.
    """
    if isinstance(x, np.ndarray):
        if dtype is None and x.dtype in FLOAT_DTYPES:
            return x
    elif is_tensor(x):
        x = x.data
        if dtype is None and x.dtype in FLOAT_DTYPES:
            return x
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be array-like numbers; got {describe(x)}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like numbers; got {describe(x)} ({err})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float32 or float64); got an array of dtype "
            f"{arr.dtype} ({type(x).__name__})"
        )
    if dtype is not None:
        target = float_dtype(dtype)
    elif arr.dtype in FLOAT_DTYPES:
        return arr
    else:
        target = np.dtype(np.float64)
    return arr.astype(target, copy=False)


def first_index(mask: np.ndarray) -> tuple[int, ...]:
    """The index of the first True entry of a boolean array (which must hold one)."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def non_finite(x: np.ndarray) -> tuple[int, tuple[int, ...]] | None:
    """``(count, index of the first)`` of the NaN and inf entries of ``x``, or None if all are finite.

    The one scan behind every "non-finite" message in the package.
    """
    bad = ~np.isfinite(x)
    if not bad.any():
        return None
    return int(bad.sum()), first_index(bad)


def check_finite(x: np.ndarray, name: str, error: type[ValueError] = ValueError, hint: str = "") -> np.ndarray:
    """``x`` if every entry is finite; otherwise ``error`` naming ``name``, the count of
    NaN/inf entries and the first one with its index, then ``hint`` (what it means) if given."""
    found = non_finite(x)
    if found:
        count, first = found
        raise error(f"{name} holds {count} non-finite value(s) (NaN or inf); the first is "
                    f"{x[first]} at index {first}" + (f"; {hint}" if hint else ""))
    return x


def check_shape(x: Any, name: str, dims: str, sizes: dict[str, int]) -> Any:
    """``x`` (a Tensor kept as it is, anything else as a float array) after checking its
    shape against ``dims``.

    ``dims`` names the axes, e.g. ``"B m m"``; ``sizes`` holds the sizes already known
    (from earlier arguments) and receives the new ones, so a later argument must agree.
    Raises TypeError for non-numeric data and ValueError naming ``name``, the expected
    shape and the received one. Reads only the shape: no scan of the data.
    """
    arr = as_array(x, name)
    letters = dims.split()
    pattern = f"({letters[0]},)" if len(letters) == 1 else f"({', '.join(letters)})"
    seen = dict(sizes)
    ok = arr.ndim == len(letters)
    for letter, n in zip(letters, arr.shape):
        ok = ok and seen.setdefault(letter, n) == n
    if not ok:
        known = ", ".join(f"{k} = {sizes[k]}" for k in dict.fromkeys(letters) if k in sizes)
        raise ValueError(f"{name} must have shape {pattern}{' with ' + known if known else ''}; got shape {arr.shape}")
    sizes.update(seen)
    return x if is_tensor(x) else arr


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------
def integer(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int: an ``int`` or NumPy integer, not a bool, float or string.

    Raises TypeError for the wrong kind of value and ValueError outside [minimum, maximum].
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int; got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int ≥ {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an int ≤ {maximum}; got {value}")
    return value


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int ≥ 1 (a size, a count, a number of steps)."""
    return integer(value, name, minimum=1)


def real(value: Any, name: str, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite Python float inside the given bounds.

    Accepts ints, floats and NumPy scalars (and one-element arrays); refuses bools,
    strings, None, NaN and inf. ``low_open``/``high_open`` exclude the bound itself.
    """
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        value = value.item()
    if not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "" if high is None else f"{high:g}{')' if high_open else ']'}"
        where = f"in {lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"{name} must be a number {where}; got {value:g}")
    return value


def positive_real(value: Any, name: str) -> float:
    """``value`` as a finite float > 0 (a learning rate, a scale, a tolerance)."""
    return real(value, name, low=0.0, low_open=True)


# ---------------------------------------------------------------------------------------
# Random generators, dtypes, choices
# ---------------------------------------------------------------------------------------
def as_rng(rng: Any, name: str = "rng", default: np.random.Generator | None = None) -> np.random.Generator:
    """A ``numpy.random.Generator``: ``rng`` itself, a new one seeded by an int ``rng``, or
    ``default`` when ``rng`` is None (a TypeError if there is no default).

    A legacy ``RandomState``, a float or a string is refused with a TypeError.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None and default is not None:
        return default
    if not isinstance(rng, (bool, np.bool_)) and isinstance(rng, (numbers.Integral, np.integer)):
        if rng < 0:
            raise ValueError(f"{name} must be a numpy.random.Generator or a seed ≥ 0; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy.random.Generator or an int seed; got {describe(rng)}")


def float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``dtype`` as a NumPy dtype, or TypeError unless it is float32 or float64."""
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64; got {describe(dtype)}") from None
    if dtype is None or target not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64; got {describe(dtype)}")
    return target


def choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of the strings ``choices``, else a ValueError listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {describe(value)}")
    return value


# ---------------------------------------------------------------------------------------
# Axes, flags and domains
# ---------------------------------------------------------------------------------------
def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """``axis`` as an int in [0, ndim), from an int in [−ndim, ndim) as NumPy counts axes.

    Raises TypeError for anything but an int and ValueError, naming the number of axes,
    for one out of range.
    """
    value = integer(axis, name)
    if not -ndim <= value < ndim:
        raise ValueError(f"{name} must be an int in [{-ndim}, {ndim}) for an input with {ndim} "
                         f"ax{'i' if ndim == 1 else 'e'}s; got {value}")
    return value % ndim


def check_axes(axis: Any, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of distinct axes in
    [0, ndim); None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        found = [check_axis(a, ndim, name) for a in axis]
        if len(set(found)) != len(found):
            raise ValueError(f"{name} must not repeat an axis; got {tuple(axis)}")
        return tuple(sorted(found))
    return (check_axis(axis, ndim, name),)


def boolean(value: Any, name: str) -> bool:
    """``value`` as a Python bool: ``True``/``False`` (or NumPy's), not 0, 1, None or a string."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {describe(value)}")
    return bool(value)


def check_domain(ok: np.ndarray, x: np.ndarray, name: str, expected: str) -> None:
    """A NonFiniteError (a ValueError: the result would be NaN or infinite) unless every
    entry of the boolean array ``ok`` is true: ``name`` must be ``expected`` (e.g. "> 0").
    The message gives the count of entries that are not and the first of them with its
    index in ``x`` (``ok`` has ``x``'s shape or broadcasts to it)."""
    if ok.all():
        return
    bad = np.argwhere(~np.broadcast_to(ok, np.broadcast_shapes(ok.shape, x.shape)))
    first = tuple(int(i) for i in bad[0])  # argwhere once: its length is the count too
    value = np.broadcast_to(x, np.broadcast_shapes(ok.shape, x.shape))[first]
    raise NonFiniteError(f"{name} must be {expected}; {len(bad)} entr{'y is' if len(bad) == 1 else 'ies are'} "
                         f"not, the first is {value} at index {first}")
# ---------------------------------------------------------------------------------------
# Results and lists of sizes
# ---------------------------------------------------------------------------------------


def finite_result(out: Any, op: str, **inputs: Any) -> Any:
    """``out`` (a Tensor or an array) if it is finite; otherwise name the input that is not.

    The check a loss or Gaussian op runs on its own (small) output instead of scanning
    its inputs on every call: only a non-finite result triggers the scan of ``inputs``
    (given by name), and the first that holds NaN or inf is named in a
    :class:`NonFiniteError` (a ValueError) with the count and the first index. If every
    input is finite (the value itself overflowed), ``out`` is returned as it is.
    """
    if non_finite(out.data if is_tensor(out) else np.asarray(out)) is None:
        return out
    for name, value in inputs.items():
        arr = as_array(value, name)
        found = non_finite(arr)
        if found:
            count, idx = found
            raise NonFiniteError(f"{op}: {name} holds {count} non-finite value(s), the first {arr[idx]} at index {idx}")
    return out


def positive_ints(values: Any, name: str, min_length: int = 0) -> list[int]:
    """``values`` as a list of ints ≥ 1 (layer widths): a list, tuple or 1-D integer array
    of at least ``min_length`` sizes. A string, a single number, None, floats (``8.5``),
    bools and sizes < 1 are refused with the offending entry named (``hidden_dims[0]``)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of ints ≥ 1; got {describe(values)}")
    sizes = [positive_int(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if len(sizes) < min_length:
        raise ValueError(f"{name} must hold at least {min_length} sizes; got {len(sizes)}")
    return sizes
