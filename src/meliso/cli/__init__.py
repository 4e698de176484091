"""The ``meliso`` command line: one module per command group; each command parses its options,
makes one library call and prints the result, as a table in one style or as JSON (``--json``).

- :mod:`.devices`: ``meliso devices``;
- :mod:`.vmm`: ``meliso vmm`` (Monte-Carlo VMM error populations);
- :mod:`.binary`: ``meliso core`` (binary/ternary populations on binary 1T1R cores);
- :mod:`.linalg`: ``meliso solve``, ``meliso matvec``;
- :mod:`.runs`: ``meliso run``, ``meliso report``, ``meliso reproduce``;
- :mod:`.nn`: ``meliso train``;
- :mod:`.learning`: ``meliso learn`` (on-chip learning by write pulses).

Shared: :mod:`._common` (errors, tables, progress, option types), :mod:`._options` (the core
settings' options, generated from :class:`meliso.core.AnalogCoreConfig`).
"""

from . import binary, devices, learning, linalg, nn, runs, vmm  # noqa: F401  (register)
from ._app import app, main

__all__ = ["app", "main"]
