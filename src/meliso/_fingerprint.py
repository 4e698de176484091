"""A fingerprint of the code that computes results, for cache keys.

A cached sweep point may only be reused if the code that produced it is the code running now:
the version string alone misses every change made between releases. The fingerprint hashes
meliso's own Python sources and the versions of the numerical libraries that shape the numbers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_LIBRARIES = ("numpy", "scipy", "numba", "scikit-learn", "torch")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (hex, 16 characters) of meliso's sources and its numerical libraries' versions."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for lib in _LIBRARIES:
        try:
            digest.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{lib}=absent".encode())
    return digest.hexdigest()[:16]
