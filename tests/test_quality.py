"""ruff and mypy pass on src/ (run as part of the test command so CI enforces them)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_clean():
    res = subprocess.run(["ruff", "check", "src", "tests"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean():
    pytest.importorskip("mypy")
    res = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_benchmark_script_imports(monkeypatch):
    """The benchmarks are run by hand; their imports still follow the code (a renamed
    function breaks a benchmark here, not when someone needs its numbers)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(root))  # as `python benchmarks/NAME.py` runs them
    scripts = sorted(p for p in root.glob("*.py") if not p.name.startswith("_"))
    assert len(scripts) >= 8
    for path in scripts:
        source = path.read_text()
        if ("import torch" in source or "meliso.nn" in source) and \
                importlib.util.find_spec("torch") is None:
            continue  # the nn extra is not installed here
        spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
