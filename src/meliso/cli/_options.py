"""The core settings as command-line options, generated from :class:`meliso.core.AnalogCoreConfig`.

Each field becomes ``--field-name`` with the field's own description, allowed range and
choices as its help, so help texts live once, in the config model. An option left out is left
to the config (and to the read model's defaults); the command receives the options given as
one ``core`` dict and passes it on unchanged, so the config model validates it.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

import typer
from pydantic.fields import FieldInfo

from .._validation import allowed_range
from ..core import AnalogCoreConfig
from ..core.readmodel import model_names


def _choices(annotation: Any) -> tuple[Any, ...]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        return args
    return tuple(c for a in args for c in _choices(a))


def _python_type(annotation: Any) -> type:
    """str for choices, else the one scalar type of ``T`` or ``T | None``."""
    if _choices(annotation):
        return str
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    scalar = args[0] if args else annotation
    return scalar if scalar in (int, float, str) else str


def _help(name: str, field: FieldInfo) -> str:
    parts = [field.description or name]
    choices = model_names() if name == "model" else _choices(field.annotation)
    if choices:
        parts.append(" | ".join(str(c) for c in choices if c is not None))
    rng = allowed_range(AnalogCoreConfig, name)
    if rng:
        parts.append(rng)
    if field.default is not None:
        parts.append(f"default: {field.default}")
    return "; ".join(parts)


def core_options(exclude: frozenset[str] = frozenset()) -> Callable[[Callable[..., Any]],
                                                                  Callable[..., Any]]:
    """Give a command every :class:`AnalogCoreConfig` field (but ``exclude``) as an option; the
    command takes them as ``core: dict`` (only the options given)."""
    fields = {n: f for n, f in AnalogCoreConfig.model_fields.items() if n not in exclude}

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn, eval_str=True)
        params = [p for name, p in sig.parameters.items() if name != "core"]
        extra = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[
                    _python_type(f.annotation) | None,
                    typer.Option(f"--{name.replace('_', '-')}", help=_help(name, f),
                                 show_default=False, rich_help_panel="Core settings"),
                ],
            )
            for name, f in fields.items()
        ]

        @functools.wraps(fn)
        def with_core(*args: Any, **kwargs: Any) -> Any:
            core = {n: kwargs.pop(n) for n in fields if n in kwargs}
            return fn(*args, core={k: v for k, v in core.items() if v is not None}, **kwargs)

        with_core.__signature__ = sig.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        return with_core
    return decorate
