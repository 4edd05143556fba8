"""Every public name against bad arguments: one table, assembled from one list per area.

Each row is ``(id, call, error type, words)``: ``call()`` must raise ``error type`` from a
``raise`` in vae_np's own code (not from inside NumPy, SciPy, matplotlib or the standard
library), and its message must contain each of ``words`` (case-insensitive), so that it
names the argument and what was wrong. The lists live in ``tests/bad_inputs_*.py``, one
per area of the package, each defining ``ROWS``; the id starts with the public name the
row exercises (``"fit/epochs-float"``, ``"plots.plot_images/ncols-zero"``), and
:func:`test_every_public_name_has_a_row` fails when a public name has none.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import traceback
from pathlib import Path

import pytest

import vae_np as vn

HERE = Path(__file__).parent
PACKAGE = Path(vn.__file__).parent


def _rows():
    rows = []
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda i: i.name):
        if info.name.startswith("bad_inputs_"):
            module = importlib.import_module(info.name)
            rows.extend(module.ROWS)
    return rows


ROWS = _rows()

# Public names that take no argument a user could get wrong, or are only raised/returned.
NO_ARGUMENTS = {
    "TrainingError", "GradcheckError", "GradcheckResult", "NegELBO", "Dataset", "no_grad",
    "is_grad_enabled", "NonFiniteError",
}


def public_names() -> set[str]:
    """The top-level callables of vae_np and the public functions of its plots and exact modules."""
    names = {n for n, v in vars(vn).items() if not n.startswith("_") and callable(v)
             and not inspect.ismodule(v)}
    for sub in ("plots", "exact"):
        try:
            module = importlib.import_module(f"vae_np.{sub}")
        except ImportError:
            continue
        names |= {f"{sub}.{n}" for n in getattr(module, "__all__", [])}
    return names - NO_ARGUMENTS


def _raised_in_vae_np(err: BaseException) -> bool:
    """True if the innermost frame of the traceback is vae_np's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE.resolve())


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_gets_a_clear_error(row):
    _, call, error, words = row
    with pytest.raises(error) as info:
        call()
    err = info.value
    assert _raised_in_vae_np(err), (
        f"{type(err).__name__} raised outside vae_np: {traceback.format_exception(err)[-3:]}")
    message = str(err).lower()
    missing = [w for w in words if w.lower() not in message]
    assert not missing, f"message {str(err)!r} lacks {missing}"


def test_every_public_name_has_a_row():
    covered = {r[0].split("/")[0].split(".")[0] if not r[0].startswith(("plots.", "exact."))
               else ".".join(r[0].split("/")[0].split(".")[:2]) for r in ROWS}
    missing = sorted(public_names() - covered)
    assert not missing, f"public names without a bad-input row in tests/bad_inputs_*.py: {missing}"


def test_row_ids_are_unique():
    ids = [r[0] for r in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
