"""Test systems: 2-D Poisson, random SPD, and Matrix Market files by name."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._memory import check_memory
from .._validation import ParameterError
from .reading import as_sparse

#: Peak bytes per unknown while building the 5-point Laplacian (Kronecker sum, COO -> CSR).
POISSON_BYTES_PER_UNKNOWN = 200
#: Peak bytes per entry while building a dense random SPD matrix (draw, QR, product, CSR).
DENSE_SPD_BYTES_PER_ENTRY = 48


def poisson2d(n: int) -> sp.csr_matrix:
    """The 5-point Laplacian on an n x n grid (Dirichlet): n^2 unknowns, SPD, 4 on the
    diagonal."""
    if n < 1:
        raise ParameterError(f"poisson2d size {n} is out of range: allowed N >= 1")
    check_memory(POISSON_BYTES_PER_UNKNOWN * n * n, f"poisson2d:{n} ({n * n} unknowns)",
                 "use a smaller N")
    t = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), dtype=np.float64)
    return sp.csr_matrix(sp.kronsum(t, t), dtype=np.float64)


def random_spd(n: int, seed: int = 0, condition: float = 100.0) -> sp.csr_matrix:
    """A dense random SPD matrix with eigenvalues spread log-uniformly over [1, condition]."""
    if n < 1 or not condition >= 1:
        raise ParameterError("random-spd needs N >= 1 and condition >= 1")
    check_memory(DENSE_SPD_BYTES_PER_ENTRY * n * n, f"random-spd:{n} (a dense {n}x{n} matrix)",
                 "use a smaller N")
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.geomspace(1.0, condition, n)
    return sp.csr_matrix((q * eig) @ q.T)


def problem(spec: str) -> sp.csr_matrix:
    """``poisson2d:N``, ``random-spd:N`` or the path of a Matrix Market file."""
    name, _, arg = spec.partition(":")
    if name in ("poisson2d", "random-spd"):
        try:
            size = int(arg)
        except ValueError:
            raise ParameterError(f"--matrix {spec!r}: expected {name}:N with an integer N") \
                from None
        return poisson2d(size) if name == "poisson2d" else random_spd(size)
    return as_sparse(spec)
