"""Reading YAML that a user wrote: plain data only, bounded, and every ambiguity refused.

PyYAML's ``safe_load`` builds only plain data (no Python objects), but it still accepts what
makes a file mean something other than it says or costs unbounded time:

- aliases (``*name``): a 1 KB file of nested aliases expands to billions of nodes (the
  "billion laughs"); meliso's files have no use for them, so any alias is refused;
- duplicate keys: the last one silently wins; refused, naming the key and both lines;
- size: files over :data:`MAX_YAML_BYTES` are refused before parsing, and nesting deeper than
  :data:`MAX_DEPTH` is refused while parsing; an integer literal longer than
  :data:`MAX_INT_DIGITS` digits is refused (naming its line) before it is converted.

Floats are also read as YAML 1.2 writes them: YAML 1.1 (PyYAML's default) wants a dot and a
signed exponent, so ``1e12`` and ``1.0e12`` would otherwise be strings; here they are numbers
(YAML 1.2 core schema, "10.3.2 Tag Resolution"). Booleans are YAML 1.1's (``true``/``false``,
and also ``yes``/``no``/``on``/``off``); that a boolean is never taken for a number is the job
of the models the data go into (strict fields).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ._validation import ParameterError

#: Largest YAML file meliso reads (the study's files are under 2 KB).
MAX_YAML_BYTES = 1 << 20
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH = 32
#: Most digits an integer literal may have (no meliso value needs more than 20).
MAX_INT_DIGITS = 100
#: Floats with an exponent that YAML 1.1 misses (no dot, or an unsigned exponent), as YAML 1.2
#: reads them: 1e12, 1.0e12, .5E-3, -2e+3.
YAML12_EXPONENT_FLOAT = re.compile(
    r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases, duplicate keys or deep nesting."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ParameterError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "accepted in meliso files: write the value out")
        depth = getattr(self, "_meliso_depth", 0)
        if depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise ParameterError(f"line {mark.line + 1}: nesting deeper than {MAX_DEPTH} levels")
        self._meliso_depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._meliso_depth = depth

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise ParameterError(f"line {key_node.start_mark.line + 1}: a mapping key must "
                                     "be a plain value") from None
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ParameterError(f"line {line}: duplicate key '{key}' (first on line "
                                     f"{seen[key]}): give each key once")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_bounded_int(self, node: Any) -> Any:
        """An integer, refusing literals too long to be a parameter (and slow to convert)."""
        text = str(node.value).replace("_", "").lstrip("+-")
        digits = len(text) - (2 if text[:2].lower() in ("0b", "0o", "0x") else 0)
        if digits > MAX_INT_DIGITS:
            raise ParameterError(f"line {node.start_mark.line + 1}: an integer literal of "
                                 f"{digits} digits: allowed at most {MAX_INT_DIGITS} digits")
        return self.construct_yaml_int(node)


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", YAML12_EXPONENT_FLOAT,
                                    list("-+0123456789."))
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_bounded_int)


def load_yaml_text(text: str, source: str = "<text>") -> Any:
    """Parse ``text`` with the rules of the module docstring."""
    if len(text.encode()) > MAX_YAML_BYTES:
        raise ParameterError(f"{source} is larger than {MAX_YAML_BYTES} bytes: not a meliso "
                             "experiment")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: plain data only
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{source} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ParameterError(f"{source}: nesting too deep") from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file (size checked before reading)."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"experiment file '{path}' is a directory, not a file")
    if not path.is_file():
        raise ParameterError(f"experiment file '{path}' does not exist")
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise ParameterError(f"{path} holds {size} bytes, more than the {MAX_YAML_BYTES} a "
                             "meliso YAML file may hold")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path} is not UTF-8 text: {exc}") from None
    return load_yaml_text(text, str(path))
