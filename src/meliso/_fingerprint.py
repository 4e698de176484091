"""A fingerprint of the code that computes results, for cache keys.

A cached sweep point may only be reused if the code that produced its numbers is the code
running now: the version string alone misses every change made between releases. The
fingerprint hashes meliso's own Python sources and the versions of the numerical libraries
that shape the numbers, and nothing else: the command line, reports, figures, file handling and
messages change no number, and a VMM population does not depend on PyTorch or on the network
code, so installing the ``nn`` extra or editing a report does not invalidate a finished run.

Scopes: ``vmm`` (Monte-Carlo VMM populations and their fits) and ``nn`` (networks on
crossbars: the ``vmm`` code plus :mod:`meliso.nn`, :mod:`meliso.data` and PyTorch).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Literal

Scope = Literal["vmm", "nn", "learning"]

#: Numerical libraries whose version can change a number, per scope.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "vmm": ("numpy", "scipy", "numba", "scikit-learn"),
    "nn": ("numpy", "scipy", "numba", "scikit-learn", "torch"),
    "learning": ("numpy", "scipy", "numba"),
}
#: Sources (relative to the package, as path prefixes) that change no number.
PRESENTATION = ("cli", "_io.py", "_validation.py", "_fingerprint.py", "_memory.py", "_yaml.py",
                "_progress.py", "__main__.py", "analysis/plots.py", "experiments/report.py",
                "experiments/rundir.py", "experiments/store.py", "experiments/executor.py",
                "studies/__init__.py", "studies/vmm_errors/", "studies/bnn_tnn/report.py",
                "studies/bnn_tnn/figures.py", "studies/bnn_tnn/findings.py",
                "studies/bnn_tnn/run.py", "studies/bnn_tnn/__init__.py",
                "studies/neurosim_mlp/report.py", "studies/neurosim_mlp/figures.py",
                "studies/neurosim_mlp/findings.py", "studies/neurosim_mlp/run.py",
                "studies/neurosim_mlp/__init__.py")
#: Sources outside a scope's computation.
OUTSIDE: dict[str, tuple[str, ...]] = {
    "vmm": ("nn/", "data/", "linalg/", "studies/bnn_tnn/", "studies/analog_nn/", "learning/",
            "studies/neurosim_mlp/"),
    "nn": ("linalg/", "learning/", "studies/neurosim_mlp/"),
    "learning": ("nn/", "linalg/", "studies/bnn_tnn/", "studies/analog_nn/",
                 "studies/vmm_errors/"),
}


def counts(relative: str, scope: Scope) -> bool:
    """Whether the source file ``relative`` (to the package root) is part of ``scope``."""
    return not relative.startswith(PRESENTATION + OUTSIDE[scope])


@lru_cache(maxsize=2)
def code_fingerprint(scope: Scope = "vmm") -> str:
    """sha256 (hex, 16 characters) of the sources and library versions ``scope`` depends on."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(scope.encode())
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not counts(relative, scope):
            continue
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    for lib in LIBRARIES[scope]:
        try:
            digest.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{lib}=absent".encode())
    return digest.hexdigest()[:16]
