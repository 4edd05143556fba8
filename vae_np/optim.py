"""Optimizers: stochastic gradient descent and Adam, updating each parameter in place.

An optimizer holds a list of parameters (``params``) and, for each, its own state: Adam's
moments m and v, SGD's velocity. ``step()`` reads every ``p.grad`` and writes the update
into ``p.data`` *in place*: it never rebinds ``p.data`` and never keeps ``p.grad``, so a
parameter stays the user's array and several optimizers can share a model, as in PyTorch.
A parameter whose ``grad`` is None after the backward pass is skipped (its state and its
step count are left as they are). ``zero_grad()`` sets ``p.grad = None``, the same as
``Module.zero_grad``.

Update rules (t counts a parameter's steps, g is its gradient, all operations elementwise):

* SGD with momentum μ:   v ← μ v + g;   θ ← θ − η v
* Adam (Kingma & Ba, 2015):   m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;
  θ ← θ − η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ) (``Adam.rule``).

**A step is all or nothing, and can be undone.** Before a block of a parameter is
updated its old values are copied aside while they are in cache, and the moments are
double-buffered: the step writes the new m, v into a second pair of arrays and switches
to them only when every parameter is done. An exception or ``KeyboardInterrupt`` inside
``step()`` therefore leaves parameters and state exactly as before it; a real Ctrl-C
(SIGINT) arriving during a step in the main thread is held until the step is complete.
``Optimizer.undo()`` restores parameters and state to what they were before the last
step (one level), which :func:`vae_np.fit` does when the next loss is not finite.
"""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as _wait_all
from typing import Any, Iterable, Iterator

import numpy as np

from .nn import Module
from .tensor import Tensor
from .validate import as_array, check_finite, describe, integer, positive_real, real

__all__ = ["Optimizer", "SGD", "Adam"]

BLOCK = 262144       # elements per block: measured fastest of 16384…262144 (fewer NumPy calls per step)
THREAD_MIN = 131072  # a step over fewer elements runs on the calling thread alone
THREADS = min(2, os.cpu_count() or 1)  # threads Adam's blocks are split over (set to 1 to disable)


# ---------------------------------------------------------------------------------------
# Running a step: blocks, the thread pool, SIGINT held back, and the copy kept for undo
# ---------------------------------------------------------------------------------------
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """One persistent worker thread (the calling thread is the other), made on first use
    and again in a forked child, where the parent's thread does not exist."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="vae_np-optim"))
    return _pool[1]


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold a SIGINT (Ctrl-C) that arrives inside the block until the block has finished,
    then deliver it to the handler that was installed before. Only the main thread can
    install signal handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[Any] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, caught[0])
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt


def _keep(prev: np.ndarray, theta: np.ndarray) -> None:
    """Copy a block of a parameter aside before it is updated (what undo restores)."""
    np.copyto(prev, theta)


def _blocks(sizes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(parameter index, start, stop) of every block of at most BLOCK elements."""
    return [(i, a, min(a + BLOCK, n)) for i, n in sizes for a in range(0, n, BLOCK)]


class Optimizer:
    """Base class: the parameters, the all-or-nothing step, undo and zero_grad.

    Parameters
    ----------
    params : iterable of Tensor, or a Module
        Leaf tensors with ``requires_grad=True`` (any mix of float32 and float64). A
        ``Module`` is accepted and stands for ``module.parameters()``.
    lr : float
        The learning rate η > 0.

    Notes
    -----
    ``params`` is the list of the parameters this optimizer updates, ``step_count`` the
    number of completed steps (an undone step does not count) and ``steps[i]`` parameter
    i's own t. The hyper-parameters are attributes (``opt.lr = 1e-4`` changes the rate).
    """

    #: names of the per-parameter state arrays, double-buffered (set by subclasses)
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor] | Module, lr: float, **hyper: Any):
        self.params = _check_params(params)
        checked = self._checked_hyper({"lr": lr, **hyper})
        self._hyper_names = tuple(checked)          # "lr", ...: attributes a user may change
        vars(self).update(checked)
        # the element order in which θ is walked: its memory order, so that ravel() is a view
        self._order = ["F" if p.data.flags.f_contiguous and not p.data.flags.c_contiguous else "C"
                       for p in self.params]
        self.step_count = 0
        self.steps = [0] * len(self.params)         # each parameter's own t
        # buffers[name][i] holds two arrays (flat, like the parameter); current[i] picks one
        self._buffers = {name: [(np.zeros(p.size, p.dtype), np.zeros(p.size, p.dtype)) for p in self.params]
                         for name in self.state_names}
        self._current = [0] * len(self.params)
        self._prev = [np.empty(p.size, p.dtype) for p in self.params]
        self._last: list[int] | None = None         # parameters updated by the last step

    # ---- what subclasses write --------------------------------------------------------
    def _update(self, jobs: list[tuple[int, int, int]], done: list[tuple[int, int, int]]) -> None:
        """Update the blocks ``jobs``, appending each to ``done`` once its old values are kept."""
        raise NotImplementedError

    @staticmethod
    def _checked_hyper(hyper: dict[str, Any], where: str = "") -> dict[str, Any]:
        """The hyper-parameters in ``hyper``, validated; ``where`` prefixes their names in errors."""
        return {"lr": positive_real(hyper["lr"], f"{where}lr")}

    # ---- the state of parameter i -----------------------------------------------------
    def state(self, name: str, i: int) -> np.ndarray:
        """The current state array ``name`` (e.g. ``"m"``) of parameter ``i``, shaped like it."""
        return self._buffers[name][i][self._current[i]].reshape(self.params[i].shape, order=self._order[i])

    def _views(self, i: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Flat views of parameter i: θ, g, the current state arrays and the ones to write."""
        p, c, order = self.params[i], self._current[i], self._order[i]
        old = [self._buffers[name][i][c] for name in self.state_names]
        new = [self._buffers[name][i][1 - c] for name in self.state_names]
        return p.data.ravel(order), p.grad.ravel(order), old, new

    # ---- the public methods -----------------------------------------------------------
    def zero_grad(self) -> None:
        """Set ``p.grad = None`` for every parameter (as ``Module.zero_grad`` does):
        the next backward pass writes fresh gradients."""
        for p in self.params:
            p.grad = None

    def grads_finite(self) -> bool:
        """True if every gradient that is present holds only finite numbers."""
        return all(p.grad is None or bool(np.isfinite(p.grad).all()) for p in self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient, in place, all or nothing.

        Raises
        ------
        ValueError
            If a gradient's shape differs from its parameter's; nothing is changed then.
        """
        updated = [i for i, p in enumerate(self.params) if p.grad is not None]
        for i in updated:
            self._check_param(i)
        done: list[tuple[int, int, int]] = []
        with _sigint_held():
            try:
                self._update(_blocks([(i, self.params[i].size) for i in updated]), done)
            except BaseException:
                self._restore(done)
                self._last = None     # the copies of the step before are partly overwritten
                raise
            for i in updated:                       # commit: switch to the new state
                self._current[i] = 1 - self._current[i]
                self.steps[i] += 1
            self.step_count += 1
            self._last = updated

    def _check_param(self, i: int) -> None:
        """A clear error if parameter i or its gradient can no longer be updated in place."""
        p, buf = self.params[i], self._prev[i]
        layout = "C_CONTIGUOUS" if self._order[i] == "C" else "F_CONTIGUOUS"
        if not (isinstance(p.data, np.ndarray) and p.data.dtype == buf.dtype and p.data.size == buf.size
                and p.data.flags[layout] and p.data.flags.writeable):
            raise ValueError(f"params[{i}].data must be the writable {buf.dtype} array of {buf.size} elements "
                             f"the optimizer was made with (change it in place, p.data[...] = value); "
                             f"got {describe(p.data)}")
        if not isinstance(p.grad, np.ndarray) or p.grad.shape != p.shape:
            raise ValueError(f"params[{i}].grad must be an array of the parameter's shape {p.shape}; "
                             f"got {describe(p.grad)}")

    def undo(self) -> bool:
        """Restore the parameters and the state to what they were before the last step.

        One level: a second ``undo()``, one before any step, or one after a step that
        raised (and so changed nothing) does nothing and returns False. Returns True when
        a step was undone.
        """
        if self._last is None:
            return False
        with _sigint_held():
            self._restore(_blocks([(i, self.params[i].size) for i in self._last]))
            for i in self._last:
                self._current[i] = 1 - self._current[i]
                self.steps[i] -= 1
            self.step_count -= 1
            self._last = None
        return True

    def _restore(self, blocks: list[tuple[int, int, int]]) -> None:
        for i, a, b in blocks:
            self.params[i].data.ravel(self._order[i])[a:b] = self._prev[i][a:b]

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters, step counts and copies of the state arrays, one per parameter.

        Keys: the hyper-parameters (``"lr"``, ...), ``"step_count"``, ``"steps"`` (a list
        of ints, each parameter's t) and one list of arrays per state name, each array
        shaped like its parameter.
        """
        out = {name: getattr(self, name) for name in self._hyper_names}
        out |= {"step_count": self.step_count, "steps": list(self.steps)}
        for name in self.state_names:
            out[name] = [self.state(name, i).copy() for i in range(len(self.params))]
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, after checking all of it.

        Raises
        ------
        TypeError
            If ``state`` is not a dict, or a value has the wrong kind.
        ValueError
            If a key is missing or unexpected, a list has the wrong length, an array the
            wrong shape, or a value is NaN, infinite or out of range; nothing is changed then.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(); got {describe(state)}")
        want = set(self._hyper_names) | {"step_count", "steps", *self.state_names}
        missing, unexpected = sorted(want - set(state)), sorted(set(state) - want)
        if missing or unexpected:
            raise ValueError(f"state does not match this {type(self).__name__}: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        n = len(self.params)
        hyper = self._checked_hyper(state, "state: ")
        step_count = integer(state["step_count"], "state['step_count']", minimum=0)
        steps = _as_list(state["steps"], "state['steps']", n)
        steps = [integer(s, f"state['steps'][{i}]", minimum=0) for i, s in enumerate(steps)]
        arrays = {}
        for name in self.state_names:
            values = _as_list(state[name], f"state['{name}']", n)
            arrays[name] = []
            for i, (value, p) in enumerate(zip(values, self.params)):
                label = f"state['{name}'][{i}]"
                arr = as_array(value, label)
                if arr.shape != p.shape:
                    raise ValueError(f"{label} must have the shape of params[{i}], {p.shape}; got shape {arr.shape}")
                arrays[name].append(check_finite(arr, label))
        self._check_loaded(arrays)
        vars(self).update(hyper)
        self.step_count, self.steps = step_count, steps
        for name, values in arrays.items():
            for i, arr in enumerate(values):
                self._buffers[name][i][self._current[i]][...] = arr.ravel(self._order[i])
        self._last = None

    def _check_loaded(self, arrays: dict[str, list[np.ndarray]]) -> None:
        """Further checks of loaded state arrays (subclasses)."""


def _as_list(value: Any, name: str, n: int) -> list:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list with one entry per parameter; got {describe(value)}")
    if len(value) != n:
        raise ValueError(f"{name} must have one entry per parameter ({n}); got {len(value)}")
    return list(value)


def _check_params(params: Any) -> list[Tensor]:
    """``params`` as a list of distinct leaf Tensors that require gradients."""
    if isinstance(params, Module):
        params = params.parameters()
    elif isinstance(params, type) and issubclass(params, Module):
        raise TypeError(f"params must be model.parameters() of a model instance; got {describe(params)}")
    if isinstance(params, (Tensor, np.ndarray, str, bytes, dict)) or not isinstance(params, Iterable):
        raise TypeError(f"params must be an iterable of Tensors, such as model.parameters(); got {describe(params)}")
    params = list(params)
    if not params:
        raise ValueError("params is empty: the optimizer has nothing to update")
    seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"params[{i}] must be a Tensor; got {describe(p)}")
        if not p.requires_grad or not p.is_leaf:
            raise ValueError(f"params[{i}] must be a leaf Tensor with requires_grad=True (a parameter); got "
                             f"{'a result of an op' if not p.is_leaf else 'a tensor with requires_grad=False'}")
        if id(p) in seen:
            raise ValueError(f"params lists the same tensor twice (params[{seen[id(p)]}] and params[{i}])")
        seen[id(p)] = i
    return params


def _betas(value: Any, name: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers (β₁, β₂) in [0, 1); got {describe(value)}")
    return tuple(real(b, f"{name}[{k}]", 0.0, 1.0, high_open=True) for k, b in enumerate(value))


# ---------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum: v ← μ v + g;  θ ← θ − η v.

    Parameters
    ----------
    params : iterable of Tensor, or a Module
    lr : float
        η > 0, 1e-2 by default.
    momentum : float
        μ in [0, 1); 0 (plain SGD, θ ← θ − η g) by default. The velocity v starts at 0,
        so the first step is θ ← θ − η g, as in PyTorch.
    """

    state_names = ("velocity",)

    def __init__(self, params: Iterable[Tensor] | Module, lr: float = 1e-2, momentum: float = 0.0):
        super().__init__(params, lr, momentum=momentum)

    @staticmethod
    def _checked_hyper(hyper: dict[str, Any], where: str = "") -> dict[str, Any]:
        return {"lr": positive_real(hyper["lr"], f"{where}lr"),
                "momentum": real(hyper["momentum"], f"{where}momentum", 0.0, 1.0, high_open=True)}

    def _update(self, jobs, done) -> None:
        lr, mu = self.lr, self.momentum
        for i, a, b in jobs:
            theta, g, (vel,), (vel_new,) = self._views(i)
            _keep(self._prev[i][a:b], theta[a:b])
            done.append((i, a, b))
            np.multiply(vel[a:b], mu, out=vel_new[a:b])     # v ← μ v + g
            vel_new[a:b] += g[a:b]
            theta[a:b] -= lr * vel_new[a:b]                  # θ ← θ − η v


# ---------------------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------------------
# The largest |g| Adam uses, √(max / 2): then g² and β₂ v + (1 − β₂) g² cannot overflow.
G_MAX = {np.dtype(t): math.sqrt(float(np.finfo(t).max) / 2) for t in (np.float16, np.float32, np.float64)}


def _adam_block(theta, g, m, v, m_new, v_new, tmp, gc, b1, b2, lr_t, eps_t, g_max) -> None:
    """Adam on one block, in place in ``theta``: what ``Adam.rule`` computes.

    Writes m_new = β₁ m + (1 − β₁) g, v_new = β₂ v + (1 − β₂) g², with g first clipped to
    ±g_max, and θ ← θ − lr_t m_new / (√v_new + eps_t), where lr_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ)
    and eps_t = ε √(1 − β₂ᵗ) fold the bias corrections into two scalars (the same value as
    the textbook's m̂ / (√v̂ + ε), rounded differently). ``tmp`` and ``gc`` are scratch
    arrays of the block's length; lr_t, eps_t, β are Python floats so that float32 stays
    float32.

    What it saves: the textbook expression allocates a temporary the size of the whole
    parameter for each of its ~10 operations; here every operation writes into one of two
    block-sized scratch buffers or into the state, so nothing is allocated per step and
    each NumPy call covers a whole block. With blocks of 262144 elements split over two threads,
    a 960k-parameter float64 step took 5.3 ms against 58 ms for the textbook rule
    (the project's 2-core AMD EPYC, quiet; benchmarks/hotspots.py measures it).
    """
    np.clip(g, -g_max, g_max, out=gc)          # |g| ≤ √(max/2), so g² cannot overflow
    np.multiply(m, b1, out=m_new)              # m ← β₁ m + (1 − β₁) g
    np.multiply(gc, 1 - b1, out=tmp)
    m_new += tmp
    np.multiply(v, b2, out=v_new)              # v ← β₂ v + (1 − β₂) g²
    np.multiply(gc, gc, out=tmp)
    tmp *= 1 - b2
    v_new += tmp
    np.sqrt(v_new, out=tmp)                    # θ ← θ − lr_t m / (√v + eps_t)
    tmp += eps_t
    np.divide(m_new, tmp, out=tmp)
    tmp *= lr_t
    theta -= tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), each parameter updated in place, block by block.

    The rule is ``Adam.rule``; ``_adam_block`` computes it for one block of a
    parameter without temporaries, and large steps split their blocks over two threads.

    **Float32 overflow.** g² overflows float32 above |g| ≈ 1.8e19; v would then be inf and
    the parameter would never move again (m / inf = 0). Adam here first clips every
    gradient entry to ±√(max/2) (≈ 1.3e19 in float32, ≈ 9.5e153 in float64) before
    updating both moments, so m and v stay finite and an entry with a gradient beyond
    that bound moves as if its gradient were exactly ±√(max/2). Below the bound (every
    gradient a training run sees) the update is the textbook one.

    Parameters
    ----------
    params : iterable of Tensor, or a Module
    lr : float
        η > 0, 1e-3 by default.
    betas : (float, float)
        β₁, β₂ in [0, 1): decay rates of the first and second moment estimates.
    eps : float
        ε > 0, added to √v̂ to avoid division by zero.
    """

    state_names = ("m", "v")

    def __init__(self, params: Iterable[Tensor] | Module, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr, betas=betas, eps=eps)
        self._scratch: dict[int, dict[np.dtype, tuple[np.ndarray, np.ndarray]]] = {}  # per thread

    @staticmethod
    def rule(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
             lr: float, b1: float, b2: float, eps: float) -> tuple[np.ndarray, ...]:
        """The textbook Adam update of one parameter at step t ≥ 1: returns new (θ, m, v).

        Any shape; ``step()`` computes the same with ``_adam_block``, in place.
        """
        # keep g² finite in float32 (see the class docstring)
        g = np.clip(g, -G_MAX[theta.dtype], G_MAX[theta.dtype])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        return theta, m, v

    @staticmethod
    def _checked_hyper(hyper: dict[str, Any], where: str = "") -> dict[str, Any]:
        return {"lr": positive_real(hyper["lr"], f"{where}lr"), "betas": _betas(hyper["betas"], f"{where}betas"),
                "eps": positive_real(hyper["eps"], f"{where}eps")}

    def _check_loaded(self, arrays):
        for i, v in enumerate(arrays["v"]):
            if (v < 0).any():
                raise ValueError(f"state['v'][{i}] must be ≥ 0 (a mean of squares); got a minimum of {v.min()}")

    def _update(self, jobs, done) -> None:
        if THREADS > 1 and sum(b - a for _, a, b in jobs) >= THREAD_MIN:
            half, total, count = 0, sum(b - a for _, a, b in jobs), 0
            while count < total / 2:                 # split the blocks into two halves by size
                count += jobs[half][2] - jobs[half][1]
                half += 1
            worker = _executor().submit(self._run, jobs[half:], done)
            try:
                self._run(jobs[:half], done)
            finally:
                _wait_all([worker])
            worker.result()
        else:
            self._run(jobs, done)

    def _run(self, jobs, done) -> None:
        """The blocks ``jobs`` on this thread, each kept aside for undo before it is updated."""
        b1, b2 = self.betas
        scratch = self._scratch.setdefault(threading.get_ident(), {})
        for i, a, b in jobs:
            theta, g, (m, v), (m_new, v_new) = self._views(i)
            t = self.steps[i] + 1
            # Python floats, not NumPy float64 scalars, so a float32 buffer is updated in float32
            correction2 = math.sqrt(1 - b2 ** t)
            lr_t = self.lr * correction2 / (1 - b1 ** t)
            eps_t = self.eps * correction2
            dtype = theta.dtype
            if dtype not in scratch:
                scratch[dtype] = (np.empty(BLOCK, dtype), np.empty(BLOCK, dtype))
            tmp, gc = (s[:b - a] for s in scratch[dtype])
            _keep(self._prev[i][a:b], theta[a:b])
            done.append((i, a, b))
            _adam_block(theta[a:b], g[a:b], m[a:b], v[a:b], m_new[a:b], v_new[a:b], tmp, gc,
                        b1, b2, lr_t, eps_t, G_MAX[dtype])
