"""Run the benchmarks with the CPU's own BLAS kernel: unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.

When ``OPENBLAS_CORETYPE`` is set, OpenBLAS uses that kernel instead of the one for the
CPU (and ``OPENBLAS_L2_SIZE`` goes with it); users' machines do not set them. Import this
module before NumPy and call :func:`own_kernel`: if either variable is set, the script
starts again (``os.execve``) with both removed from *its own* environment and its child
processes' only, and :func:`note` then says what was unset. Tests and CI are not changed.
"""
from __future__ import annotations

import json
import os
import sys

FORCED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_MARK = "VAE_NP_BENCH_UNSET"


def own_kernel() -> None:
    """Re-execute the running script without the variables in FORCED, if any is set."""
    was = {k: os.environ[k] for k in FORCED if k in os.environ}
    if not was:
        return
    env = {k: v for k, v in os.environ.items() if k not in FORCED}
    env[_MARK] = json.dumps(json.loads(os.environ.get(_MARK, "{}")) | was)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]], env)


def note() -> dict[str, str]:
    """The variables :func:`own_kernel` unset, with the values they had ({} if none was set)."""
    return json.loads(os.environ.get(_MARK, "{}"))
