"""report.html (:mod:`meliso.experiments.html`): the Markdown converter, figure embedding and
its refusals, a real run's page, and that page rendered by headless Chromium."""

import base64
import os
import re
import shutil
import signal
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from meliso import ParameterError
from meliso.experiments import html as html_report
from meliso.experiments import load_experiment
from meliso.experiments.html import markdown_to_html, write_html_report
from meliso.experiments.runner import run_experiment

VOID = {"img", "meta", "br", "hr", "link", "input", "source"}
IMAGE_REF = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")

SAMPLE = """\
# Report <one> & Ω

Intro with **bold**, *italic*, `a < b && c` and σ² ≤ 3 Ω.
A second line, 2 * 3 * 4 and x*y*z, \\*not italic\\*.

## Results

- first **item**
  - nested *one*
    - deeper `code`
  - nested two
- second item

| device | R (Ω) | note |
|---|---|---|
| Ag:a-Si | 1 < 2 | a & b |
| EpiRAM | 3 > 2 | **best** |

### Figures

![Spread <σ>](figures/spread.png)

<script>alert("x")</script>
"""


# -- helpers -----------------------------------------------------------------------------------

def png_bytes(width: int = 2, height: int = 1) -> bytes:
    """A valid RGB PNG of ``width`` x ``height`` grey pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x80" * 3 * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Node:
    """An element of a parsed page: tag, attributes, children (elements and text)."""

    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children = tag, dict(attrs), []

    def iter(self, tag=None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def elements(self, tag):
        """Direct children with this tag."""
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class TreeBuilder(HTMLParser):
    """A strict tree builder: every element must be closed, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs))

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#root"], "unclosed elements"
    return builder.root


def one(root: Node, tag: str) -> Node:
    (node,) = list(root.iter(tag))
    return node


@pytest.fixture
def report_dir(tmp_path):
    """A report folder with ``figures/spread.png`` and a secret PNG beside the folder."""
    root = tmp_path / "report"
    (root / "figures").mkdir(parents=True)
    (root / "figures" / "spread.png").write_bytes(png_bytes())
    (tmp_path / "secret.png").write_bytes(png_bytes(3, 3))
    return root


@pytest.fixture
def sample(report_dir):
    fragment = markdown_to_html(SAMPLE, report_dir)
    return fragment, parse(fragment)


# -- the converter -----------------------------------------------------------------------------

def test_headings_keep_their_level_and_escape_text(sample):
    fragment, tree = sample
    assert [(n.tag, n.text()) for n in tree.children if isinstance(n, Node)
            and n.tag.startswith("h")] == [("h1", "Report <one> & Ω"), ("h2", "Results"),
                                          ("h3", "Figures")]
    assert "<h1>Report &lt;one&gt; &amp; Ω</h1>" in fragment


def test_paragraph_inline_markup(sample):
    _, tree = sample
    intro = tree.elements("p")[0]
    assert [n.text() for n in intro.elements("strong")] == ["bold"]
    assert [n.text() for n in intro.elements("em")] == ["italic"]
    assert [n.text() for n in intro.elements("code")] == ["a < b && c"]
    text = " ".join(intro.text().split())
    assert "σ² ≤ 3 Ω. A second line" in text  # one paragraph, characters kept
    assert "2 * 3 * 4 and x*y*z, *not italic*." in text  # no emphasis there


def test_nested_bullet_lists(sample):
    _, tree = sample
    top = tree.elements("ul")
    assert len(top) == 1
    first, second = top[0].elements("li")
    assert second.text() == "second item" and not second.elements("ul")
    assert first.elements("strong")[0].text() == "item"
    nested = first.elements("ul")[0].elements("li")
    assert [n.text().split("\n")[0] for n in nested] == ["nested one", "nested two"]
    assert nested[0].elements("em")[0].text() == "one"
    (deeper,) = nested[0].elements("ul")[0].elements("li")
    assert deeper.elements("code")[0].text() == "code"


def test_pipe_table_rows_cells_and_escaping(sample):
    fragment, tree = sample
    table = one(tree, "table")
    (head,) = one(table, "thead").elements("tr")
    assert [c.text() for c in head.elements("th")] == ["device", "R (Ω)", "note"]
    rows = one(table, "tbody").elements("tr")
    assert [[c.text() for c in r.elements("td")] for r in rows] == [
        ["Ag:a-Si", "1 < 2", "a & b"], ["EpiRAM", "3 > 2", "best"]]
    assert rows[1].elements("td")[2].elements("strong")
    assert "<td>1 &lt; 2</td>" in fragment and "<td>a &amp; b</td>" in fragment


def test_table_rows_are_fitted_to_the_header(tmp_path):
    tree = parse(markdown_to_html("| a | b |\n|:---|---:|\n| 1 |\n| 1 | 2 | 3 |\n| x \\| y | z |",
                                  tmp_path))
    rows = one(tree, "tbody").elements("tr")
    assert [[c.text() for c in r.elements("td")] for r in rows] == [
        ["1", ""], ["1", "2"], ["x | y", "z"]]


def test_image_becomes_an_embedded_figure_with_its_caption(sample):
    _, tree = sample
    figure = one(tree, "figure")
    img = one(figure, "img")
    prefix = "data:image/png;base64,"
    assert img.attrs["src"].startswith(prefix)
    assert base64.b64decode(img.attrs["src"][len(prefix):]) == png_bytes()
    assert img.attrs["alt"] == "Spread <σ>"
    assert one(figure, "figcaption").text() == "Spread <σ>"


def test_raw_html_is_text_and_nothing_is_fetched(sample):
    fragment, tree = sample
    assert not list(tree.iter("script"))
    assert '<script>alert("x")</script>' in tree.text()
    assert "http://" not in fragment and "https://" not in fragment
    assert all(n.attrs["src"].startswith("data:") for n in tree.iter("img"))


def test_image_types_by_suffix(tmp_path):
    (tmp_path / "a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" '
                                    'height="4"/>')
    (tmp_path / "b.jpeg").write_bytes(b"\xff\xd8\xff\xd9")
    tree = parse(markdown_to_html("![s](a.svg)\n![j](b.jpeg)", tmp_path))
    assert [n.attrs["src"].split(",")[0] for n in tree.iter("img")] == [
        "data:image/svg+xml;base64", "data:image/jpeg;base64"]


# -- images that are not embedded --------------------------------------------------------------

def assert_not_embedded(fragment: str, ref: str) -> None:
    tree = parse(fragment)
    assert not list(tree.iter("img")) and not list(tree.iter("a"))
    (note,) = [n for n in tree.iter() if n.attrs.get("class") == "figure-missing"]
    assert note.text().startswith(f"figure missing: {ref} (")


@pytest.mark.parametrize("ref", ["../secret.png", "figures/../../secret.png", "ABSOLUTE",
                                 "http://example.com/secret.png", "file:///secret.png",
                                 "data:image/png;base64,AAAA"])
def test_paths_out_of_the_report_folder_are_refused(report_dir, ref):
    if ref == "ABSOLUTE":
        ref = str(report_dir.parent / "secret.png")
    fragment = markdown_to_html(f"![x]({ref})", report_dir)
    assert_not_embedded(fragment, ref)
    assert base64.b64encode(png_bytes(3, 3)).decode() not in fragment


def test_symlink_out_of_the_report_folder_is_refused(report_dir):
    (report_dir / "figures" / "link.png").symlink_to(report_dir.parent / "secret.png")
    assert_not_embedded(markdown_to_html("![x](figures/link.png)", report_dir),
                        "figures/link.png")


def test_missing_figure_is_a_visible_note(report_dir):
    fragment = markdown_to_html("![Spread](figures/none.png)\n\nafter", report_dir)
    assert_not_embedded(fragment, "figures/none.png")
    assert "no such file" in fragment and "<p>after</p>" in fragment


def test_images_over_the_cap_are_not_embedded(report_dir, monkeypatch):
    assert html_report.MAX_IMAGE_BYTES == 20 * 1024 * 1024
    size = len(png_bytes())
    monkeypatch.setattr(html_report, "MAX_IMAGE_BYTES", size)
    assert "<img" in markdown_to_html("![x](figures/spread.png)", report_dir)
    monkeypatch.setattr(html_report, "MAX_IMAGE_BYTES", size - 1)
    assert_not_embedded(markdown_to_html("![x](figures/spread.png)", report_dir),
                        "figures/spread.png")


def test_unsupported_image_type_is_not_embedded(report_dir):
    (report_dir / "notes.txt").write_text("secret")
    assert_not_embedded(markdown_to_html("![x](notes.txt)", report_dir), "notes.txt")


# -- write_html_report -------------------------------------------------------------------------

def test_write_html_report_writes_a_self_contained_page(report_dir):
    (report_dir / "report.md").write_text(SAMPLE)
    path = write_html_report(report_dir / "report.md")
    assert path == report_dir / "report.html"
    assert sorted(p.name for p in report_dir.iterdir()) == ["figures", "report.html",
                                                            "report.md"]
    page = path.read_text(encoding="utf-8")
    tree = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert any(n.attrs.get("charset") == "utf-8" for n in tree.iter("meta"))
    assert one(tree, "title").text() == "Report <one> & Ω"
    assert not list(tree.iter("link"))
    (script,) = tree.iter("script")
    assert "src" not in script.attrs and "naturalWidth" in script.text()
    assert "http://" not in page and "https://" not in page
    assert "max-width: 100%" in one(tree, "style").text()


def test_write_html_report_title_and_refusals(report_dir):
    (report_dir / "report.md").write_text("no heading here\n")
    path = write_html_report(str(report_dir / "report.md"), title="Mine & yours")
    assert "<title>Mine &amp; yours</title>" in path.read_text()
    write_html_report(report_dir / "report.md")
    assert "<title>report</title>" in path.read_text()  # the folder's name
    with pytest.raises(ParameterError, match="not a Markdown file"):
        write_html_report(report_dir / "report.html")
    with pytest.raises(ParameterError, match="cannot be read"):
        write_html_report(report_dir / "absent.md")


# -- a real run --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_report(tmp_path_factory):
    """report.md of a tiny real experiment, and the report.html written beside it."""
    config = load_experiment({"name": "t", "trials": 20, "rows": 4, "cols": 4,
                              "fit": ["normal"], "sweep": {"grid": {"c2c": [0, 0.02]}}})
    result = run_experiment(config, tmp_path_factory.mktemp("run") / "t")
    markdown = result.run_dir / "report.md"
    return markdown, write_html_report(markdown)


def test_every_figure_of_a_real_report_is_embedded(run_report):
    markdown, page_path = run_report
    refs = IMAGE_REF.findall(markdown.read_text())
    assert refs and all(ref.startswith("figures/") for ref in refs)
    page = page_path.read_text(encoding="utf-8")
    tree = parse(page)
    sources = [n.attrs["src"] for n in tree.iter("img")]
    assert sources == [
        "data:image/png;base64," + base64.b64encode((markdown.parent / ref).read_bytes()).decode()
        for ref in refs]
    assert len(list(tree.iter("figure"))) == len(refs)
    assert "figure missing" not in page
    assert len(list(one(tree, "tbody").iter("tr"))) == 2  # one row per sweep point


# -- headless Chromium -------------------------------------------------------------------------

def browser() -> str:
    """Chromium's executable; skips (or fails, with MELISO_REQUIRE_BROWSER=1) without one."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("MELISO_REQUIRE_BROWSER") == "1":
            pytest.fail("MELISO_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("chromium is not installed")
    return exe


def render(page: Path, profile: Path) -> tuple[str, str]:
    """Chromium's DOM of ``page`` after load, and its log (console messages included)."""
    cmd = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
           "--enable-logging=stderr", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--dump-dom", page.resolve().as_uri()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # chromium and its helper processes
        proc.communicate()
        pytest.fail(f"chromium did not finish rendering {page} in 120 s")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}:\n{err[-3000:]}"
    return out, err


def page_errors(log: str) -> list[str]:
    """JavaScript errors and Content-Security-Policy violations in Chromium's log; its usual
    noise (D-Bus, GPU, sandbox warnings) is not console output and is ignored."""
    return [line for line in log.splitlines() if "Uncaught" in line
            or ("CONSOLE" in line and "Content Security Policy" in line)]


class BodyAttributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.attrs = dict(attrs)


def body_attributes(dom: str) -> dict[str, str | None]:
    parser = BodyAttributes()
    parser.feed(dom)
    return parser.attrs


def test_chromium_shows_every_figure_without_errors(run_report, tmp_path):
    markdown, page = run_report
    dom, log = render(page, tmp_path / "profile")
    body = body_attributes(dom)
    n_figures = len(IMAGE_REF.findall(markdown.read_text()))
    assert body.get("data-figures-total") == str(n_figures), (body, log[-3000:])
    assert body["data-figures-loaded"] == body["data-figures-total"]
    assert int(body["data-figures-total"] or 0) > 0
    assert body["data-figures-missing"] == "0"
    assert page_errors(log) == []


def test_chromium_log_check_sees_page_errors(tmp_path):
    """The check above is not vacuous: a script error and a blocked image are both reported."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                    '<meta http-equiv="Content-Security-Policy" content="img-src data:">'
                    "<title>broken</title></head><body>"
                    '<img src="http://example.com/a.png"><script>undefinedName();</script>'
                    "</body></html>")
    _, log = render(page, tmp_path / "profile")
    errors = page_errors(log)
    assert any("Uncaught ReferenceError" in line for line in errors), log[-3000:]
    assert any("Content Security Policy" in line for line in errors), log[-3000:]
