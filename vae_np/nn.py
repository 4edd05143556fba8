"""Layers: parameters, modules, the affine layer and the multilayer perceptron.

A :class:`Module` owns :class:`Parameter` tensors and other modules as attributes, also
inside lists, tuples and dicts (nested as deep as you like);
:meth:`Module.named_parameters` walks them in the order they were assigned and gives each
a dotted name such as ``"encoder.layers.0.weight"`` or ``"heads.mu.bias"``. Those names
are the keys of :meth:`Module.state_dict`, of the optimizers' state and of saved
checkpoints. :meth:`Module.save` and :meth:`Module.load` write and read that state as a
``.npz`` file without pickle; the read checks every array's declared shape before any
data is read, so a damaged or hostile file cannot make it allocate more than it should.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from . import ops
from .files import atomic_write
from .tensor import Tensor
from .validate import (as_array, as_rng, boolean, choice, describe, float_dtype, non_finite, positive_int,
                       positive_ints)

__all__ = ["Parameter", "Module", "Linear", "MLP", "ACTIVATIONS", "npz_path", "read_npz", "write_npz"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"tanh": ops.tanh, "relu": ops.relu}


class Parameter(Tensor):
    """A leaf tensor that requires a gradient and belongs to a :class:`Module`.

    Change its values in place (``p.data[...] = value``), as the optimizers and
    :meth:`Module.load_state_dict` do, never by rebinding ``p.data``.

    Parameters
    ----------
    data : array-like of floats
        The initial values (float32 and float64 kept, other numbers become float64).
    name : str, optional
    """

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None):
        super().__init__(data, requires_grad=True, name=name)


class Module:
    """Base class of layers and models: finds parameters, saves and restores them.

    Assign parameters and sub-modules as attributes, directly or inside lists, tuples
    and dicts; everything else (numbers, strings, arrays, plain Tensors) is not a
    parameter. A parameter reachable along two paths is counted once, under its first
    name.

    Examples
    --------
    >>> import numpy as np, vae_np as vn
    >>> class TwoHeads(vn.Module):
    ...     def __init__(self, rng):
    ...         self.body = [vn.Linear(4, 8, rng), vn.Linear(8, 8, rng)]
    ...         self.heads = {"mu": vn.Linear(8, 2, rng), "log_sigma": vn.Linear(8, 2, rng)}
    ...         self.scale = vn.Parameter(np.ones(2))
    >>> [name for name, _ in TwoHeads(np.random.default_rng(0)).named_parameters()][::3]
    ['body.0.weight', 'body.1.bias', 'heads.log_sigma.weight']
    """

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for every parameter, depth first."""
        seen: set[int] = set()
        for key, value in vars(self).items():
            yield from _walk(value, f"{prefix}{key}", seen)

    def parameters(self) -> list[Parameter]:
        """All parameters, in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.parameters()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values into the parameters, in place, after checking all of them.

        Parameters
        ----------
        state : mapping of str to array-like
            One entry per name of :meth:`named_parameters`, each of the parameter's
            shape, real and finite (converted to the parameter's dtype).

        Raises
        ------
        TypeError
            If ``state`` is not a mapping, or a value is not an array of real numbers.
        ValueError
            If a name is missing or unexpected, a shape differs or a value is NaN or
            inf; the parameters are unchanged then.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of parameter name to array; got {describe(state)}")
        params = dict(self.named_parameters())
        missing, unexpected = sorted(set(params) - set(state)), sorted(set(state) - set(params), key=str)
        if missing or unexpected:
            raise ValueError(
                f"state_dict does not match this {type(self).__name__}: missing {missing}, unexpected {unexpected}"
            )
        arrays = {}
        for name, p in params.items():
            arr = as_array(state[name], f"state_dict['{name}']")
            if arr.shape != p.shape:
                raise ValueError(f"state_dict['{name}'] has shape {arr.shape}; this model expects {p.shape}")
            found = non_finite(arr)
            if found:
                raise ValueError(f"state_dict['{name}'] holds {found[0]} non-finite value(s), the first "
                                 f"{arr[found[1]]} at index {found[1]}")
            arrays[name] = arr
        for name, p in params.items():
            p.data[...] = arrays[name]

    def zero_grad(self) -> None:
        """Clear the gradients of every parameter (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    # ---- files -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state_dict` to a ``.npz`` file (no pickle), atomically.

        ``.npz`` is appended unless ``path`` ends with it (as :func:`numpy.savez` does),
        and the path written is returned, so ``m.save("x")`` then ``m.load("x")`` works.
        The file is written next to its target and moved into place
        (:func:`vae_np.files.atomic_write`): a failure leaves an earlier file intact.
        """
        return write_npz(npz_path(path), self.state_dict())

    def load(self, path: str | os.PathLike) -> "Module":
        """Read parameters saved by :meth:`save` into this module, in place; returns it.

        Every array's declared shape is checked against this module's parameters before
        any data is read.

        Raises
        ------
        FileNotFoundError
            Naming the path when neither ``path`` nor ``path + ".npz"`` exists.
        OSError
            Naming the path when it cannot be read (permissions).
        ValueError
            Naming the file when it is not a readable ``.npz``, or its names, shapes or
            values do not fit this module (the parameters are unchanged then).
        """
        path = npz_path(path, existing=True)
        shapes = {name: p.shape for name, p in self.named_parameters()}
        state = read_npz(path, lambda names: shapes)
        try:
            self.load_state_dict(state)
        except (TypeError, ValueError) as err:
            raise ValueError(f"checkpoint {path}: {err}") from None
        return self


def _walk(value: Any, name: str, seen: set[int]) -> Iterator[tuple[str, Parameter]]:
    """The parameters inside one attribute value: a Parameter, a Module, or a list, tuple
    or dict of them (nested), with dotted names."""
    if isinstance(value, Parameter):
        if id(value) not in seen:
            seen.add(id(value))
            yield name, value
    elif isinstance(value, Module):
        for key, item in vars(value).items():
            yield from _walk(item, f"{name}.{key}", seen)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, f"{name}.{i}", seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{name}.{key}", seen)


# ---------------------------------------------------------------------------------------
# .npz files: written atomically, read with every shape checked before any data
# ---------------------------------------------------------------------------------------
def npz_path(path: Any, existing: bool = False) -> Path:
    """The file a checkpoint named ``path`` lives in: ``path`` if it ends with ``.npz``,
    else ``path + ".npz"``. With ``existing``, ``path`` itself is used if it is a file,
    and a FileNotFoundError naming the path is raised when neither exists."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {describe(path)}")
    path = Path(path)
    target = path if path.suffix == ".npz" else path.with_name(path.name + ".npz")
    if existing:
        if path.is_file():
            return path
        if not target.is_file():
            tried = f"{path}" if target == path else f"{path} (nor {target})"
            raise FileNotFoundError(f"no checkpoint at {tried}")
    return target


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to the ``.npz`` file ``path`` (no pickle) through
    :func:`vae_np.files.atomic_write`: an earlier file survives any failure."""
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_npz(path: Path, expected: Callable[[dict[str, tuple]], dict[str, tuple[int, ...]]],
             extra: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``path``, read only after their headers are checked.

    Parameters
    ----------
    path : Path
    expected : callable
        Receives ``{name: array}`` of the members named in ``extra`` (read first, e.g.
        a stored configuration) and returns ``{name: shape}`` of the arrays the file
        must hold besides them.
    extra : sequence of str
        Members read before the others (small ones, such as ``"__config__"``); they
        must be 0-d or 1-d and at most 1 MB.

    Raises
    ------
    ValueError
        Naming the file when it is not a ``.npz`` archive, a member is not a plain
        ``.npy`` array (pickled objects are refused), a name is missing or unexpected,
        a declared shape differs from the expected one, or a member's declared size
        does not match the bytes it occupies in the file (stored, or at most 1032
        times its compressed size, deflate's limit). Headers are read with
        :mod:`numpy.lib.format` without loading data, so a tampered shape is refused
        before anything is allocated.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename[:-4]: info for info in zf.infolist() if info.filename.endswith(".npy")}
            if len(members) != len(zf.infolist()):
                raise ValueError("it holds files other than .npy arrays")
            _check_sizes(zf.infolist(), os.path.getsize(path))
            headers = {name: _npy_header(zf, info) for name, info in members.items()}
            out = {}
            for name in extra:
                if name not in headers:
                    raise ValueError(f"it has no '{name}'")
                shape, dtype, _ = headers[name]
                if len(shape) > 1 or members[name].file_size > 2**20:
                    raise ValueError(f"'{name}' is not a small 0-d or 1-d array")
                out[name] = _npy_data(zf, members[name])
            want = expected(out)
            names = set(headers) - set(extra)
            missing, unexpected = sorted(set(want) - names), sorted(names - set(want))
            if missing or unexpected:
                raise ValueError(f"its arrays do not match: missing {missing}, unexpected {unexpected}")
            for name, shape in want.items():
                got, dtype, _ = headers[name]
                if got != tuple(shape):
                    raise ValueError(f"'{name}' is declared with shape {got}; expected {tuple(shape)}")
                if dtype.kind != "f":
                    raise ValueError(f"'{name}' has dtype {dtype}; expected floats")
            for name in want:
                out[name] = _npy_data(zf, members[name])
            return out
    except FileNotFoundError:
        raise
    except (PermissionError, IsADirectoryError) as err:  # faults of the file system, not of the file
        raise OSError(f"cannot read checkpoint {path}: {err.strerror}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise ValueError(f"could not read checkpoint {path}: {err}") from None


def _check_sizes(infos: list[zipfile.ZipInfo], disk_size: int) -> None:
    """A ValueError unless the members' declared sizes fit in the ``disk_size`` bytes of the archive."""
    if sum(info.compress_size for info in infos) > disk_size:
        raise ValueError(f"its members declare more bytes than the file's {disk_size}")
    for info in infos:
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.file_size > (info.compress_size if stored else 1032 * info.compress_size + 64):
            raise ValueError(f"'{info.filename}' declares {info.file_size} bytes but occupies {info.compress_size}")


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of one ``.npy`` member, from its header alone."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"'{info.filename}' has an unknown .npy format version {version}")
        shape, _, dtype = read(f)
        offset = f.tell()
    if dtype.hasobject:
        raise ValueError(f"'{info.filename}' holds Python objects (pickle), which are refused")
    if offset + int(np.prod(shape, dtype=np.float64)) * dtype.itemsize != info.file_size:
        raise ValueError(f"'{info.filename}' declares shape {shape} ({dtype}), which does not match its "
                         f"{info.file_size - offset} bytes of data")
    return tuple(shape), dtype, offset


def _npy_data(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


# ---------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------
class Linear(Module):
    """The affine layer y = x W + b, with W: (n_in, n_out) and b: (n_out,).

    Initialised as PyTorch's ``nn.Linear``: every entry uniform in ±1/√n_in.

    Parameters
    ----------
    n_in, n_out : int ≥ 1
        Input and output widths.
    rng : numpy.random.Generator or int seed
        For the initial weights.
    dtype : float64 or float32
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | int, dtype: Any = np.float64):
        n_in, n_out = positive_int(n_in, "n_in"), positive_int(n_out, "n_out")
        rng, dtype = as_rng(rng, "rng"), float_dtype(dtype)
        bound = 1.0 / np.sqrt(n_in)
        self.weight = Parameter(rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, n_out).astype(dtype))

    def __call__(self, x: Any) -> Tensor:
        """x: (..., n_in) → (..., n_out)."""
        return ops.linear(x, self.weight, self.bias)


class MLP(Module):
    """Affine layers with an activation between them (none after the last).

    Parameters
    ----------
    sizes : sequence of int ≥ 1
        Widths from input to output, e.g. ``[64, 256, 16]`` is two layers (a single
        width is no layer: the identity).
    activation : {"tanh", "relu"}
    rng : numpy.random.Generator or int seed
        For the initial weights.
    dtype : float64 or float32
    final_activation : bool
        Apply the activation after the last layer too.
    """

    def __init__(self, sizes: Sequence[int], activation: str, rng: np.random.Generator | int,
                 dtype: Any = np.float64, final_activation: bool = False):
        sizes = positive_ints(sizes, "sizes", min_length=1)
        self.activation = choice(activation, "activation", ACTIVATIONS)
        self.final_activation = boolean(final_activation, "final_activation")
        rng, dtype = as_rng(rng, "rng"), float_dtype(dtype)
        self.layers = [Linear(a, b, rng, dtype) for a, b in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x: Any) -> Tensor:
        """x: (..., sizes[0]) → (..., sizes[-1])."""
        act = ACTIVATIONS[self.activation]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1 or self.final_activation:
                x = act(x)
        return x
