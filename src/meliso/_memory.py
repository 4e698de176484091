"""Memory budget: estimate before allocating, refuse with the estimate instead of swapping.

The budget is the memory the operating system says is available now (``MemAvailable`` in
``/proc/meminfo``; elsewhere the free physical pages), or ``MELISO_MEMORY_LIMIT`` when set
(bytes, or with a unit: ``512MiB``, ``8GB``, ``2GiB``). Estimates are the measured peak of the
allocation they guard (``benchmarks/memory.py`` checks them against tracemalloc), rounded up.
"""

from __future__ import annotations

import os
import re
import tracemalloc
from collections.abc import Callable
from typing import Any

from ._validation import ParameterError

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12,
          "tib": 2**40}
#: Used when the operating system does not say (not Linux, no sysconf).
FALLBACK_BYTES = 4 * 2**30


def parse_bytes(text: str) -> int:
    """``"512MiB"`` -> 536870912; a plain number is bytes."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    if m is None or m.group(2).lower() not in _UNITS:
        raise ParameterError(f"MELISO_MEMORY_LIMIT = {text!r}: allowed a size such as 2GiB, "
                             "512MB or a number of bytes")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def available_bytes() -> int:
    """The memory budget in bytes (see the module docstring)."""
    limit = os.environ.get("MELISO_MEMORY_LIMIT")
    if limit:
        return parse_bytes(limit)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return FALLBACK_BYTES


def format_bytes(n: float) -> str:
    """Bytes in binary units: ``1.5 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


class MemoryRefusal(ParameterError):
    """A request that does not fit the memory budget *now*: a property of the machine, not of
    the request's numbers, so a run never stores it as a failed point."""


def check_memory(need_bytes: float, what: str, advice: str) -> None:
    """Raise :class:`MemoryRefusal` (a :class:`ParameterError`) if ``need_bytes`` exceeds the
    budget.

    ``what`` names the request with its sizes (``"--trials 1000000 x --size 512x512"``),
    ``advice`` says what to lower.
    """
    budget = available_bytes()
    if need_bytes > budget:
        raise MemoryRefusal(
            f"{what} needs about {format_bytes(need_bytes)} of memory, more than the "
            f"{format_bytes(budget)} available (set MELISO_MEMORY_LIMIT to change the "
            f"budget): {advice}")


def traced_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes traced while ``fn()`` runs, after one warm-up call (compiled kernels and
    caches do not count): what the estimates here are measured against."""
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
