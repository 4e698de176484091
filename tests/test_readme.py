"""The README, as a stranger uses it: every Python block runs as written, every YAML block is a
valid experiment, every `meliso` command parses (its options exist, its values are accepted)
and the quick ones run, the error example prints what the README shows, and every file the
README names exists."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from meliso.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(lang, body, README[:m.start()].count("\n") + 1)
          for m in BLOCK.finditer(README) for lang, body in [m.groups()]]
#: Commands quick enough to run here (the rest are parsed: options and values checked).
RUN = {"--version", "devices", "vmm", "core"}


def _blocks(lang: str) -> list[tuple[str, int]]:
    return [(body, line) for kind, body, line in BLOCKS if kind == lang]


def test_the_readme_has_blocks_of_every_kind():
    kinds = {kind for kind, _, _ in BLOCKS}
    assert {"python", "bash", "yaml"} <= kinds
    assert len(_blocks("python")) >= 6 and len(_blocks("bash")) >= 5


def _needs_torch(body: str) -> bool:
    return "import torch" in body or "meliso.nn" in body


@pytest.mark.parametrize(("body", "line"), _blocks("python"),
                         ids=[f"line{line}" for _, line in _blocks("python")])
def test_every_python_block_runs_as_written(body, line, tmp_path, monkeypatch):
    if _needs_torch(body):
        try:
            import torch  # noqa: F401
        except ImportError:
            if os.environ.get("MELISO_REQUIRE_NN"):
                raise
            pytest.skip("PyTorch is not installed (the nn extra)")
    monkeypatch.chdir(tmp_path)  # whatever a block writes lands here
    exec(compile(body, f"README.md:{line}", "exec"), {"__name__": "__readme__"})


def _commands() -> list[tuple[str, int]]:
    out = []
    for body, line in _blocks("bash"):
        for k, text in enumerate(body.splitlines()):
            text = text.split("  #")[0].split(" # ")[0].strip()
            for part in text.split("&&"):
                part = part.strip()
                if part.startswith("meliso"):
                    out.append((part, line + 1 + k))
    return out


def _command(args: list[str]) -> tuple[Any, list[str]]:
    """The (Typer's own click) command that ``meliso ARGS`` runs, and its arguments."""
    group: Any = typer.main.get_command(app)
    if args[0].startswith("-"):
        return group, args
    command = group.get_command(group.context_class(group), args[0])
    assert command is not None, f"no command {args[0]!r}"
    rest = args[1:]
    while rest and hasattr(command, "get_command"):  # a command group: meliso device fit ...
        sub = command.get_command(command.context_class(command), rest[0])
        assert sub is not None, f"no command {rest[0]!r} in {args[0]!r}"
        command, rest = sub, rest[1:]
    return command, rest


SYNOPSIS = re.compile(r"\[(--[\w-]+)")


@pytest.mark.parametrize(("text", "line"), _commands(), ids=[f"line{ln}" for _, ln in
                                                             _commands()])
def test_every_meliso_command_parses_and_the_quick_ones_run(text, line, tmp_path, monkeypatch):
    args = shlex.split(text)[1:]
    command, rest = _command(args)
    if "[" in text:  # a synopsis: every option it shows exists
        names = {opt for p in command.params for opt in getattr(p, "opts", [])}
        shown = SYNOPSIS.findall(text)
        assert shown and set(shown) <= names, (line, set(shown) - names)
        return
    rest = [str(Path(os.path.expanduser(a))) if a.startswith("~") else a for a in rest]
    if args[0] != "--version":  # the group's own --version exits while parsing
        assert command.make_context(command.name, list(rest)) is not None
    if args[0] in RUN:
        monkeypatch.chdir(tmp_path)
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, (line, res.output)


def test_the_error_example_prints_what_the_readme_shows():
    (example,) = [body for body, _ in _blocks("") if body.startswith("$ meliso")]
    command, shown = example.splitlines()[:2]
    res = CliRunner().invoke(app, shlex.split(command[2:])[1:])
    assert res.exit_code == 2
    prefix = shown.split("(...)")[0].rstrip()
    assert " ".join(res.output.split()).startswith(prefix), res.output


def test_every_yaml_block_is_a_valid_experiment_that_runs(tmp_path):
    from meliso._yaml import load_yaml_text
    from meliso.experiments import load_experiment, run_experiment

    for body, line in _blocks("yaml"):
        data = load_yaml_text(body, f"README.md:{line}")
        config = load_experiment(data)
        small = load_experiment({**data, "trials": 10, "bootstrap": 0, "fit": False})
        result = run_experiment(small, tmp_path / config.name, report=False)
        assert result.computed == len(small.point_specs())


FILE_REFERENCE = re.compile(r"`((?:benchmarks|docs|tests|experiments|src)/[\w./-]+)`"
                            r"|python (benchmarks/\w+\.py)")


def test_every_file_the_readme_names_exists():
    named = {a or b for a, b in FILE_REFERENCE.findall(README)}
    assert len(named) >= 10
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, missing
    listed = README[README.index("Benchmarks: "):].split("\n\n")[0]
    shorts = re.findall(r"`(?:benchmarks/)?(\w+\.py)`", listed)
    assert len(shorts) >= 5 and all((ROOT / "benchmarks" / f).exists() for f in shorts), shorts
