"""Layers: parameters, modules, the affine layer and the multilayer perceptron.

A :class:`Module` owns :class:`Parameter` tensors and other modules as attributes;
:meth:`Module.named_parameters` walks them in the order they were assigned and gives each
a dotted name such as ``"encoder.layers.0.weight"``. Those names are the keys of
:meth:`Module.state_dict`, of the optimizers' state and of saved checkpoints.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import ops
from .tensor import Tensor, as_array

__all__ = ["Parameter", "Module", "Linear", "MLP", "ACTIVATIONS"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"tanh": ops.tanh, "relu": ops.relu}


class Parameter(Tensor):
    """A leaf tensor that requires a gradient and belongs to a :class:`Module`.

    Optimizers may move a parameter's data into a shared buffer; change it in place
    (``p.data[...] = value``), never by rebinding ``p.data``.
    """

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None):
        super().__init__(data, requires_grad=True, name=name)


class Module:
    """Base class of layers and models: finds parameters, saves and restores them."""

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for every parameter, depth first."""
        for key, value in vars(self).items():
            name = f"{prefix}{key}"
            if isinstance(value, Parameter):
                yield name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(name + ".")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{name}.{i}.")

    def parameters(self) -> list[Parameter]:
        """All parameters, in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.parameters()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy values into the parameters, in place, after checking names and shapes.

        Raises
        ------
        ValueError
            If a name is missing or unexpected, or a shape differs; nothing is changed then.
        """
        params = dict(self.named_parameters())
        missing, unexpected = sorted(set(params) - set(state)), sorted(set(state) - set(params))
        if missing or unexpected:
            raise ValueError(
                f"state_dict does not match this {type(self).__name__}: missing {missing}, unexpected {unexpected}"
            )
        arrays = {}
        for name, p in params.items():
            arr = as_array(state[name], name)
            if arr.shape != p.shape:
                raise ValueError(f"state_dict['{name}'] has shape {arr.shape}; this model expects {p.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"state_dict['{name}'] holds non-finite values")
            arrays[name] = arr
        for name, p in params.items():
            p.data[...] = arrays[name]

    def zero_grad(self) -> None:
        """Clear the gradients of every parameter."""
        for p in self.parameters():
            p.grad = None


class Linear(Module):
    """The affine layer y = x W + b, with W: (n_in, n_out) and b: (n_out,).

    Initialised as PyTorch's ``nn.Linear``: every entry uniform in ±1/√n_in.
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, dtype: Any = np.float64):
        bound = 1.0 / np.sqrt(n_in)
        self.weight = Parameter(rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, n_out).astype(dtype))

    def __call__(self, x: Any) -> Tensor:
        return ops.linear(x, self.weight, self.bias)


class MLP(Module):
    """Affine layers with an activation between them (none after the last).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[64, 256, 16]`` is two layers.
    activation : {"tanh", "relu"}
    rng : numpy.random.Generator
        For the initial weights.
    final_activation : bool
        Apply the activation after the last layer too.
    """

    def __init__(self, sizes: Sequence[int], activation: str, rng: np.random.Generator,
                 dtype: Any = np.float64, final_activation: bool = False):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
        self.activation = activation
        self.final_activation = final_activation
        self.layers = [Linear(a, b, rng, dtype) for a, b in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x: Any) -> Tensor:
        act = ACTIVATIONS[self.activation]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1 or self.final_activation:
                x = act(x)
        return x
