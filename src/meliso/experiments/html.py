"""``report.html``: a self-contained HTML copy of a ``report.md``, figures embedded.

The page needs nothing but a browser: every figure is a ``data:`` URI, the style and the one
script are inline, and a Content-Security-Policy forbids any other resource, so it opens
offline, from an e-mail or an archive, without meliso installed.

:func:`markdown_to_html` converts exactly the Markdown meliso writes (:mod:`.report` and the
studies' reports), nothing more:

- ATX headings (``#`` to ``######``) and paragraphs;
- bullet lists (``-``, ``*`` or ``+``), nested by two spaces per level;
- GitHub pipe tables (a header row, then a ``|---|`` separator row);
- images ``![alt](relative/path.png)``, alone on their lines: a ``<figure>`` captioned by alt;
- inline ``**bold**``, ``*italic*``, ```code``` and backslash escapes.

All text is HTML-escaped: raw HTML in the Markdown is shown as text, never emitted. An image
is embedded only when it is a PNG, JPEG, SVG, GIF or WebP file inside the report's folder, at
most :data:`MAX_IMAGE_BYTES`; otherwise (absent, absolute, ``..``, a symlink out, a URL, too
large) a visible "figure missing: PATH" note replaces it, so a crafted report cannot embed
arbitrary files. Once loaded, the page's script writes on ``<body>``
``data-figures-loaded`` (images decoded), ``data-figures-total`` (``<img>`` elements) and
``data-figures-missing`` (notes), for headless-browser checks.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from .. import __version__
from .._io import atomic_write_text
from .._validation import ParameterError

#: Largest image embedded, in bytes; a larger one becomes a "figure missing" note.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
#: Image types embedded, by file suffix.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".svg": "image/svg+xml", ".gif": "image/gif", ".webp": "image/webp"}

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_LIST_ITEM = re.compile(r"^( *)[-*+][ \t]+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_IMAGE = r"!\[(?P<alt>[^\]]*)\]\(\s*(?P<ref>[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)"
_IMAGE_LINE = re.compile(rf"^\s*{_IMAGE}\s*$")
_INLINE_TOKEN = re.compile(
    r"(?P<ticks>`+)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)"
    rf"|{_IMAGE}"
    r"|\\(?P<escaped>[!-/:-@\[-`{-~])",
    re.DOTALL,
)
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_EMPHASIS = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])", re.DOTALL)
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

_STYLE = """
body { max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.9em; background: #f2f2f2; padding: 0.1em 0.3em; border-radius: 3px; }
.table { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; }
img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
.figure-missing { color: #a00000; font-weight: bold; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  var body = document.body;
  body.setAttribute("data-figures-loaded", String(loaded.length));
  body.setAttribute("data-figures-total", String(images.length));
  body.setAttribute("data-figures-missing",
                    String(document.querySelectorAll(".figure-missing").length));
});
"""


def _text(text: str) -> str:
    """``text`` escaped for an element's content (quotes kept as they are)."""
    return html.escape(text, quote=False)


class _FigureUnavailable(Exception):
    """An image reference that is not embedded; the message says why."""


def _csp_hash(source: str) -> str:
    """The Content-Security-Policy source expression allowing exactly this inline text."""
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


_CSP = (f"default-src 'none'; img-src data:; style-src {_csp_hash(_STYLE)}; "
        f"script-src {_csp_hash(_SCRIPT)}; base-uri 'none'; form-action 'none'")


# -- images ------------------------------------------------------------------------------------

def _figure_file(ref: str, base_dir: Path) -> Path:
    """The file ``ref`` names inside ``base_dir``; refuses URLs, absolute paths and escapes."""
    posix = ref.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if _URL_SCHEME.match(posix) or posix.startswith("/") or ".." in parts:
        raise _FigureUnavailable("outside the report's folder, not embedded")
    if PurePosixPath(posix).suffix.lower() not in IMAGE_TYPES:
        raise _FigureUnavailable("not a PNG, JPEG, SVG, GIF or WebP image")
    root = base_dir.resolve()
    path = (root / posix).resolve()
    if not path.is_relative_to(root):
        raise _FigureUnavailable("outside the report's folder, not embedded")
    if not path.is_file():
        raise _FigureUnavailable("no such file")
    return path


def _read_capped(path: Path) -> bytes:
    """The bytes of ``path``, refusing a file larger than :data:`MAX_IMAGE_BYTES`."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise _FigureUnavailable(f"unreadable: {exc.strerror}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise _FigureUnavailable(f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    return data


def _figure_data_uri(ref: str, base_dir: Path) -> str:
    """The ``data:`` URI of the image ``ref`` (relative to ``base_dir``), or
    ``_FigureUnavailable`` saying why it cannot be embedded."""
    path = _figure_file(ref, base_dir)
    encoded = base64.b64encode(_read_capped(path)).decode("ascii")
    return f"data:{IMAGE_TYPES[path.suffix.lower()]};base64,{encoded}"


def _missing_note(ref: str, reason: str, tag: str) -> str:
    """The visible note that replaces an image that is not embedded."""
    text = _text(f"figure missing: {ref} ({reason})")
    return f'<{tag} class="figure-missing">{text}</{tag}>'


def _image(alt: str, ref: str, base_dir: Path, *, note_tag: str = "span") -> str:
    """An ``<img>`` with the embedded image, or the note saying why there is none."""
    try:
        uri = _figure_data_uri(ref, base_dir)
    except _FigureUnavailable as exc:
        return _missing_note(ref, str(exc), note_tag)
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _figure(line: str, base_dir: Path) -> str:
    """A ``<figure>`` of an image-only line, captioned by its alt text."""
    match = _IMAGE_LINE.match(line)
    assert match is not None  # only called on lines _IMAGE_LINE matched
    alt = match["alt"]
    caption = f"<figcaption>{_text(alt)}</figcaption>" if alt else ""
    return f"<figure>{_image(alt, match['ref'], base_dir, note_tag='p')}{caption}</figure>"


# -- inline ------------------------------------------------------------------------------------

def _code_span(code: str) -> str:
    """``<code>`` of a code span's content (one padding space each side dropped)."""
    if len(code) > 2 and code.startswith(" ") and code.endswith(" ") and code.strip():
        code = code[1:-1]
    return f"<code>{_text(code)}</code>"


def inline_to_html(text: str, base_dir: Path) -> str:
    """HTML of one block's inline Markdown: escaped text, code, emphasis, images, escapes."""
    tokens: list[str] = []

    def stash(match: re.Match[str]) -> str:
        if match["ticks"] is not None:
            tokens.append(_code_span(match["code"]))
        elif match["ref"] is not None:
            tokens.append(_image(match["alt"], match["ref"], base_dir))
        else:
            tokens.append(_text(match["escaped"]))
        return f"\x00{len(tokens) - 1}\x00"

    out = _text(_INLINE_TOKEN.sub(stash, text))
    out = _STRONG.sub(r"<strong>\1</strong>", out)
    out = _EMPHASIS.sub(r"<em>\1</em>", out)
    return _PLACEHOLDER.sub(lambda m: tokens[int(m[1])], out)


# -- blocks ------------------------------------------------------------------------------------

def _is_table_start(lines: list[str], i: int) -> bool:
    """Whether a pipe table (row, then separator row) starts at line ``i``."""
    return (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
            and _TABLE_SEPARATOR.match(lines[i + 1]) is not None)


def _starts_block(lines: list[str], i: int) -> bool:
    """Whether line ``i`` starts a heading, a list or a table (so ends a paragraph)."""
    line = lines[i]
    return (_HEADING.match(line) is not None or _LIST_ITEM.match(line) is not None
            or _is_table_start(lines, i))


def _take_while(lines: list[str], i: int, keep: Callable[[int], bool]) -> int:
    """The index of the first line from ``i`` on that ``keep`` rejects (or the end)."""
    while i < len(lines) and keep(i):
        i += 1
    return i


def split_blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """The blocks of a Markdown text as ``(kind, lines)``.

    Kinds: ``heading``, ``table``, ``list``, ``figures`` (a paragraph of image-only lines) and
    ``paragraph``. Blank lines separate blocks.
    """
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        if _HEADING.match(lines[i]):
            kind, end = "heading", i + 1
        elif _is_table_start(lines, i):
            kind = "table"
            end = _take_while(lines, i + 2, lambda j: lines[j].lstrip().startswith("|"))
        elif _LIST_ITEM.match(lines[i]):
            kind = "list"
            end = _take_while(lines, i + 1, lambda j: bool(lines[j].strip()) and (
                _LIST_ITEM.match(lines[j]) is not None or lines[j].startswith(" ")))
        else:
            end = _take_while(lines, i + 1, lambda j: bool(lines[j].strip())
                              and not _starts_block(lines, j))
            images = all(_IMAGE_LINE.match(line) for line in lines[i:end])
            kind = "figures" if images else "paragraph"
        yield kind, lines[i:end]
        i = end


def _heading_html(line: str, base_dir: Path) -> str:
    """``<hN>`` of an ATX heading line."""
    match = _HEADING.match(line)
    assert match is not None  # split_blocks only yields matching lines
    level = len(match[1])
    return f"<h{level}>{inline_to_html(match[2], base_dir)}</h{level}>"


def table_cells(row: str) -> list[str]:
    """The cells of a pipe-table row, outer pipes dropped, ``\\|`` kept inside a cell."""
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip() for cell in _CELL_SPLIT.split(row)]


def _table_html(lines: list[str], base_dir: Path) -> str:
    """``<table>`` of a pipe table; body rows are padded or cut to the header's width."""
    header = table_cells(lines[0])
    width = len(header)

    def row_html(cells: list[str], tag: str) -> str:
        cells = (cells + [""] * width)[:width]
        return "<tr>" + "".join(f"<{tag}>{inline_to_html(c, base_dir)}</{tag}>"
                                for c in cells) + "</tr>"

    body = "\n".join(row_html(table_cells(line), "td") for line in lines[2:])
    return (f'<div class="table"><table>\n<thead>{row_html(header, "th")}</thead>\n'
            f"<tbody>\n{body}\n</tbody>\n</table></div>")


def list_items(lines: list[str]) -> list[tuple[int, str]]:
    """``(depth, text)`` of each bullet; continuation lines join the item before them."""
    items: list[tuple[int, str]] = []
    for line in lines:
        match = _LIST_ITEM.match(line)
        if match:
            items.append((len(match[1]) // 2, match[2]))
        elif items:
            depth, text = items[-1]
            items[-1] = (depth, f"{text}\n{line.strip()}")
    return items


def _list_html(lines: list[str], base_dir: Path) -> str:
    """Nested ``<ul>`` of a bullet list; a level deeper than the previous one + 1 is clamped."""
    out: list[str] = []
    depth = -1
    for wanted, text in list_items(lines):
        level = min(wanted, depth + 1)
        if level > depth:
            out.append("<ul>\n<li>")
        else:
            out.append("</li>\n")
            out.extend("</ul></li>\n" for _ in range(depth - level))
            out.append("<li>")
        depth = level
        out.append(inline_to_html(text, base_dir))
    out.append("</li>\n")
    out.extend("</ul></li>\n" for _ in range(depth))
    out.append("</ul>")
    return "".join(out)


def _paragraph_html(lines: list[str], base_dir: Path) -> str:
    """``<p>`` of a paragraph's lines."""
    text = "\n".join(line.strip() for line in lines)
    return f"<p>{inline_to_html(text, base_dir)}</p>"


def _figures_html(lines: list[str], base_dir: Path) -> str:
    """One ``<figure>`` per image-only line."""
    return "\n".join(_figure(line, base_dir) for line in lines)


_RENDERERS: dict[str, Callable[[list[str], Path], str]] = {
    "heading": lambda lines, base_dir: _heading_html(lines[0], base_dir),
    "table": _table_html,
    "list": _list_html,
    "figures": _figures_html,
    "paragraph": _paragraph_html,
}


def _normalise(text: str) -> list[str]:
    """Lines of ``text``: any newline convention; NUL (the inline placeholder mark) replaced."""
    return text.replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def markdown_to_html(text: str, base_dir: Path) -> str:
    """HTML fragment (the page's body) of meliso's Markdown ``text``.

    Images are read relative to ``base_dir`` and embedded as ``data:`` URIs (see the module
    docstring for what is refused); everything else is escaped text and meliso's own tags.
    """
    return "\n".join(_RENDERERS[kind](lines, base_dir)
                     for kind, lines in split_blocks(_normalise(text)))


# -- document ----------------------------------------------------------------------------------

def plain_title(text: str) -> str | None:
    """The text of the first level-1 heading of a Markdown text, markup removed."""
    for line in _normalise(text):
        match = _HEADING.match(line)
        if match and len(match[1]) == 1:
            return re.sub(r"\\(.)", r"\1", re.sub(r"\*\*|(?<!\\)[*`]", "", match[2])).strip()
    return None


def html_document(title: str, body: str) -> str:
    """A complete, self-contained HTML5 page around ``body``."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="meliso {__version__}">\n'
        f"<title>{_text(title)}</title>\n"
        f"<style>{_STYLE}</style>\n"
        f"<script>{_SCRIPT}</script>\n"
        "</head>\n<body>\n"
        f"{body}\n"
        "</body>\n</html>\n"
    )


def write_html_report(markdown_path: str | Path, *, title: str | None = None) -> Path:
    """Write ``report.html`` beside ``markdown_path`` (same stem), atomically; return its path.

    ``title``: the page's ``<title>``; by default the report's first ``#`` heading, else the
    name of its folder.
    """
    source = Path(markdown_path)
    if source.suffix.lower() != ".md":
        raise ParameterError(f"{source} is not a Markdown file (.md)")
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ParameterError(f"{source} cannot be read: {exc.strerror}") from None
    page_title = title or plain_title(text) or source.resolve().parent.name or source.stem
    target = source.with_suffix(".html")
    atomic_write_text(target, html_document(page_title, markdown_to_html(text, source.parent)))
    return target
