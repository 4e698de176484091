"""Turn parameter validation failures into messages that name the field and its allowed range.

Every parameter model in meliso is a frozen pydantic model. Pydantic's own messages are precise
but terse; :func:`validate_model` re-raises them as :class:`ParameterError` (a ``ValueError``)
whose text says, for each offending field, the value given and what is allowed, e.g.::

    sigma_c2c = 2.0 is out of range: allowed 0 <= sigma_c2c <= 1 (cycle-to-cycle variation ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import annotated_types as at
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ParameterError(ValueError):
    """A parameter is unknown, of the wrong type or outside its allowed range."""


class ConvergenceError(ArithmeticError):
    """A numerical solve did not converge for these inputs (an iteration that stalled, a
    singular or overflowing system): says which solve and how far it got. Raised for inputs
    that drive a model outside its range, never for a NaN result."""


class MissingExtraError(ImportError):
    """An optional dependency (an extra such as ``nn``) is not installed; says what to install."""


class MelisoWarning(UserWarning):
    """Something a user should know that does not stop the run (shown as one line)."""


def _bound(value: Any) -> str:
    """A range bound as people write it: 1e+12, not 1000000000000.0."""
    if isinstance(value, float) and value != 0 and not 1e-3 <= abs(value) < 1e5:
        return f"{value:g}"
    return str(value)


def allowed_range(model: type[BaseModel], field: str) -> str:
    """Human-readable allowed range of ``field`` from its pydantic constraints ("" if none)."""
    info = model.model_fields.get(field)
    if info is None:
        return ""
    lower = upper = ""
    for meta in info.metadata:
        if isinstance(meta, at.Ge):
            lower = f"{_bound(meta.ge)} <= "
        elif isinstance(meta, at.Gt):
            lower = f"{_bound(meta.gt)} < "
        elif isinstance(meta, at.Le):
            upper = f" <= {_bound(meta.le)}"
        elif isinstance(meta, at.Lt):
            upper = f" < {_bound(meta.lt)}"
    if not (lower or upper):
        return ""
    return f"{lower}{field}{upper}"


def _describe(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ())) or "<model>"
    field = str(err["loc"][0]) if err.get("loc") else ""
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "extra_forbidden":
        known = ", ".join(sorted(model.model_fields))
        return f"unknown field '{loc}'; valid fields are: {known}"
    if not err.get("loc"):  # a whole-model check: its message says everything
        return str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    info = model.model_fields.get(field)
    doc = f" ({info.description})" if info is not None and info.description else ""
    rng = allowed_range(model, field)
    if rng and kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{loc} = {value!r} is out of range: allowed {rng}{doc}"
    msg = str(err.get("msg", "invalid value"))
    extra = f"; allowed {rng}" if rng else ""
    return f"{loc} = {value!r}: {msg}{extra}{doc}"


def validate_model(model: type[M], values: Mapping[str, Any]) -> M:
    """Build ``model`` from ``values``; raise :class:`ParameterError` naming every bad field."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        lines = [_describe(model, e) for e in exc.errors()]
        raise ParameterError(f"invalid {model.__name__}: " + "; ".join(lines)) from None


def check_range(name: str, value: float, *, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False) -> None:
    """Raise :class:`ParameterError` if ``value`` is outside [lo, hi] (or (lo, hi] if lo_open)."""
    ok = True
    if lo is not None:
        ok = value > lo if lo_open else value >= lo
    if hi is not None:
        ok = ok and value <= hi
    if not ok:
        left = "" if lo is None else f"{lo} {'<' if lo_open else '<='} "
        right = "" if hi is None else f" <= {hi}"
        raise ParameterError(f"{name} = {value!r} is out of range: allowed {left}{name}{right}")
