"""Bad-input rows for the optimizers (vae_np.optim): Optimizer, SGD, Adam and their methods."""
from __future__ import annotations

import numpy as np

import vae_np as vn


def _w(*shape, dtype=np.float64):
    return vn.Tensor(np.ones(shape or (2,), dtype), requires_grad=True)


def _stepped(make=vn.Adam):
    opt = make([_w(2), _w(3)])
    for p in opt.params:
        p.grad = np.ones(p.shape)
    opt.step()
    return opt


def _load(change, make=vn.Adam):
    opt = _stepped(make)
    state = opt.state_dict()
    change(state)
    return lambda: opt.load_state_dict(state)


def _step_with(grad=None, data=None):
    w = _w(3)
    opt = vn.SGD([w])
    if data is not None:
        w.data = data
    w.grad = grad if grad is not None else np.ones(w.shape)
    return opt.step


def _readonly():
    a = np.ones(3)
    a.flags.writeable = False
    return a


class _Model(vn.Module):
    pass


ROWS = [
    # params
    ("Adam/params-empty", lambda: vn.Adam([]), ValueError, ["params", "empty"]),
    ("Adam/params-empty-module", lambda: vn.Adam(_Model()), ValueError, ["params", "empty"]),
    ("Adam/params-no-grad", lambda: vn.Adam([vn.Tensor(np.ones(2))]), ValueError, ["params[0]", "requires_grad=True"]),
    ("Adam/params-non-leaf", lambda: vn.Adam([_w(2) * 2]), ValueError, ["params[0]", "leaf"]),
    ("Adam/params-ndarray-item", lambda: vn.Adam([np.ones(2)]), TypeError, ["params[0]", "Tensor", "array of shape"]),
    ("Adam/params-a-tensor", lambda: vn.Adam(_w(2)), TypeError, ["params", "iterable"]),
    ("Adam/params-none", lambda: vn.Adam(None), TypeError, ["params", "iterable", "NoneType"]),
    ("Adam/params-string", lambda: vn.Adam("weights"), TypeError, ["params", "iterable", "str"]),
    ("Adam/params-dict", lambda: vn.Adam({"w": _w(2)}), TypeError, ["params", "iterable", "dict"]),
    ("Adam/params-module-class", lambda: vn.Adam(vn.FullCovVAE), TypeError, ["params", "instance"]),
    ("Adam/params-duplicate", lambda: (lambda w: vn.Adam([w, w]))(_w(2)), ValueError,
     ["same tensor twice", "params[0]", "params[1]"]),
    # hyper-parameters
    ("Adam/lr-negative", lambda: vn.Adam([_w()], lr=-1), ValueError, ["lr", "(0"]),
    ("Adam/lr-zero", lambda: vn.Adam([_w()], lr=0), ValueError, ["lr", "(0"]),
    ("Adam/lr-nan", lambda: vn.Adam([_w()], lr=float("nan")), ValueError, ["lr", "finite"]),
    ("Adam/lr-inf", lambda: vn.Adam([_w()], lr=float("inf")), ValueError, ["lr", "finite"]),
    ("Adam/lr-string", lambda: vn.Adam([_w()], lr="1e-3"), TypeError, ["lr", "real number", "str"]),
    ("Adam/lr-bool", lambda: vn.Adam([_w()], lr=True), TypeError, ["lr", "real number", "bool"]),
    ("Adam/lr-none", lambda: vn.Adam([_w()], lr=None), TypeError, ["lr", "real number"]),
    ("Adam/betas-one", lambda: vn.Adam([_w()], betas=(0.9, 1.0)), ValueError, ["betas[1]", "[0, 1)"]),
    ("Adam/betas-negative", lambda: vn.Adam([_w()], betas=(-0.1, 0.9)), ValueError, ["betas[0]", "[0, 1)"]),
    ("Adam/betas-nan", lambda: vn.Adam([_w()], betas=(float("nan"), 0.9)), ValueError, ["betas[0]", "finite"]),
    ("Adam/betas-scalar", lambda: vn.Adam([_w()], betas=0.9), TypeError, ["betas", "pair"]),
    ("Adam/betas-three", lambda: vn.Adam([_w()], betas=(0.9, 0.99, 0.5)), TypeError, ["betas", "pair"]),
    ("Adam/betas-string", lambda: vn.Adam([_w()], betas="ab"), TypeError, ["betas", "pair"]),
    ("Adam/betas-bool", lambda: vn.Adam([_w()], betas=(True, 0.9)), TypeError, ["betas[0]", "real number"]),
    ("Adam/eps-zero", lambda: vn.Adam([_w()], eps=0.0), ValueError, ["eps", "(0"]),
    ("Adam/eps-string", lambda: vn.Adam([_w()], eps="small"), TypeError, ["eps", "real number"]),
    ("SGD/lr-negative", lambda: vn.SGD([_w()], lr=-0.1), ValueError, ["lr", "(0"]),
    ("SGD/momentum-one", lambda: vn.SGD([_w()], momentum=1.0), ValueError, ["momentum", "[0, 1)"]),
    ("SGD/momentum-negative", lambda: vn.SGD([_w()], momentum=-0.5), ValueError, ["momentum", "[0, 1)"]),
    ("SGD/momentum-nan", lambda: vn.SGD([_w()], momentum=float("nan")), ValueError, ["momentum", "finite"]),
    ("SGD/momentum-bool", lambda: vn.SGD([_w()], momentum=True), TypeError, ["momentum", "real number"]),
    ("SGD/params-empty", lambda: vn.SGD([]), ValueError, ["params", "empty"]),
    ("Optimizer/params-non-tensor", lambda: vn.Optimizer([3.0], lr=0.1), TypeError, ["params[0]", "Tensor"]),
    ("Optimizer/lr-string", lambda: vn.Optimizer([_w()], lr="fast"), TypeError, ["lr", "real number"]),
    # step: gradients and parameters that can no longer be updated in place
    ("SGD.step/grad-shape", _step_with(grad=np.ones(4)), ValueError, ["params[0].grad", "(3,)", "(4,)"]),
    ("SGD.step/grad-list", _step_with(grad=[1.0, 1.0, 1.0]), ValueError, ["params[0].grad", "list"]),
    ("SGD.step/data-resized", _step_with(data=np.ones(5)), ValueError, ["params[0].data", "3 elements", "(5,)"]),
    ("SGD.step/data-read-only", _step_with(data=_readonly()), ValueError, ["params[0].data", "writable"]),
    ("SGD.step/data-strided", _step_with(data=np.ones(6)[::2]), ValueError, ["params[0].data", "in place"]),
    # load_state_dict
    ("Adam.load_state_dict/not-a-dict", lambda: _stepped().load_state_dict([1, 2]), TypeError, ["state", "dict", "list"]),
    ("Adam.load_state_dict/missing-key", _load(lambda s: s.pop("v")), ValueError, ["missing keys", "'v'"]),
    ("Adam.load_state_dict/unexpected-key", _load(lambda s: s.update(momentum=0.9)), ValueError,
     ["unexpected keys", "'momentum'"]),
    ("Adam.load_state_dict/m-shape", _load(lambda s: s["m"].__setitem__(0, np.zeros(7))), ValueError,
     ["state['m'][0]", "(2,)", "(7,)"]),
    ("Adam.load_state_dict/m-count", _load(lambda s: s.update(m=s["m"][:1])), ValueError,
     ["state['m']", "one entry per parameter"]),
    ("Adam.load_state_dict/v-nan", _load(lambda s: s["v"][1].__setitem__(0, np.nan)), ValueError,
     ["state['v'][1]", "non-finite"]),
    ("Adam.load_state_dict/m-inf", _load(lambda s: s["m"][0].__setitem__(1, np.inf)), ValueError,
     ["state['m'][0]", "non-finite"]),
    ("Adam.load_state_dict/v-negative", _load(lambda s: s["v"][0].__setitem__(0, -2.0)), ValueError,
     ["state['v'][0]", "≥ 0"]),
    ("Adam.load_state_dict/m-strings", _load(lambda s: s["m"].__setitem__(0, ["a", "b"])), TypeError,
     ["state['m'][0]", "real numbers"]),
    ("Adam.load_state_dict/lr-nan", _load(lambda s: s.update(lr=float("nan"))), ValueError, ["lr", "finite"]),
    ("Adam.load_state_dict/betas-out-of-range", _load(lambda s: s.update(betas=(1.5, 0.9))), ValueError,
     ["betas[0]", "[0, 1)"]),
    ("Adam.load_state_dict/step-count-float", _load(lambda s: s.update(step_count=2.5)), TypeError,
     ["step_count", "int"]),
    ("Adam.load_state_dict/steps-negative", _load(lambda s: s.update(steps=[1, -3])), ValueError,
     ["state['steps'][1]", "≥ 0"]),
    ("SGD.load_state_dict/momentum-out-of-range",
     _load(lambda s: s.update(momentum=2.0), lambda ps: vn.SGD(ps, momentum=0.5)), ValueError,
     ["momentum", "[0, 1)"]),
    ("SGD.load_state_dict/velocity-nan",
     _load(lambda s: s["velocity"][0].__setitem__(0, np.nan), lambda ps: vn.SGD(ps, momentum=0.5)), ValueError,
     ["state['velocity'][0]", "non-finite"]),
]
