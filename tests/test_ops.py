"""Every row of the op table: forward against an independent reference, backward against
central finite differences in float64, and float32 kept float32."""
from __future__ import annotations

import numpy as np
import pytest

import vae_np as vn

from op_table import CASES


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradient_matches_finite_differences(case, rng):
    inputs = case.inputs(rng)
    result = vn.gradcheck(case.f, *inputs)
    assert result.ok and result.max_rel_error <= 1e-6, result
    assert result.n_compared == sum(x.size for x in inputs)


@pytest.mark.parametrize("case", [c for c in CASES if c.reference is not None], ids=str)
def test_forward_matches_reference(case, rng):
    inputs = case.inputs(rng)
    got = case.f(*(vn.Tensor(x) for x in inputs))
    want = case.reference(*inputs)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_float32_stays_float32(case, rng):
    inputs = [vn.Tensor(x.astype(np.float32), requires_grad=True) for x in case.inputs(rng)]
    out = case.f(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for x in inputs:
        assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_every_public_primitive_has_a_row():
    """A new primitive in vae_np.ops or vae_np.linalg must come with a row in the table."""
    covered = {c.name.split("/")[0] for c in CASES}
    missing = (set(vn.ops.__all__) | set(vn.linalg.__all__)) - covered
    assert not missing, f"ops without a row in tests/op_table.py: {sorted(missing)}"
