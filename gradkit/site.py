"""``gradkit site``: the reading version, a static HTML site of the executed solutions.

One page per lesson, rendered by nbconvert's ``lab`` template from the
executed notebooks in ``solutions/``, with every output in place, plus an
``index.html`` listing the lessons with what each teaches. Every page links
to the index and to the previous and next lesson.

The pages work offline and load nothing from the network:

- math is converted to MathML when the site is built (``latex2mathml``), which
  browsers render natively; no MathJax, no CDN;
- figures are embedded as data URIs;
- a live widget, which needs a kernel, is replaced by a note pointing to the
  static figure each lesson shows next to it;
- the ``### BEGIN/END SOLUTION`` markers are dropped from the code and cells
  tagged ``instructor`` are left out.

``build_site`` never deletes or overwrites anything it did not write: it
writes only into an empty (or new) directory, or one holding a site it built
before (recognised by its ``.gradkit-site`` marker file).
"""

import copy
import html
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from gradkit import reading
from gradkit.grading.notebook import BEGIN, END, is_instructor_cell, read_notebook

__all__ = ["Page", "build_site", "markdown_math", "render_math"]

MARKER = ".gradkit-site"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "A live widget is here when the lesson runs in JupyterLab (it needs a kernel). "
    "The static figure above shows the same idea."
)

_INSTALL_HINT = 'the reading version needs nbconvert and latex2mathml: pip install -e ".[course]"'


@dataclass(frozen=True)
class Page:
    """One lesson of the site: ``file`` (e.g. ``01_derivative.html``), ``title``, ``source``."""

    file: str
    title: str
    source: Path


# --- math -------------------------------------------------------------------

# Fenced code blocks and inline code spans are copied untouched; in the rest,
# $$...$$ (display, may span lines) and $...$ (inline, one line) are math.
_CODE = re.compile(r"(^|\n)(```|~~~)[^\n]*\n.*?(\n\2[^\n]*(?=\n|$)|$)|(`+)(?:.|\n)*?\4", re.S)
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\d)",
                   re.S)


def render_math(latex, display=False):
    """MathML for one LaTeX formula (``display`` for a block formula).

    Raises
    ------
    ValueError
        If the formula cannot be converted; the message quotes it.
    """
    from latex2mathml.converter import convert

    try:
        out = convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:
        raise ValueError(f"cannot render the formula ${latex}$: {exc}") from None
    unknown = re.search(r">(\\[A-Za-z]+)<", out)
    if unknown:  # latex2mathml keeps a command it does not know as text
        raise ValueError(f"cannot render the formula ${latex}$: unknown command {unknown[1]}")
    # a hint for readers' screen readers and for copy/paste: the LaTeX itself
    return out.replace("<math ", f'<math alttext="{html.escape(latex.strip())}" ', 1)


def markdown_math(text, formulas=None):
    """Split ``text`` (Markdown) into Markdown with placeholders and the MathML for them.

    Returns ``(markdown, formulas)``: each formula of ``text`` is replaced by
    ``gkmath<n>x`` and ``formulas[n]`` is its MathML; code is left alone and
    ``\\$`` stays a dollar sign. Pass the ``formulas`` of earlier cells of the
    same page to continue their numbering.
    """
    formulas = [] if formulas is None else formulas

    def math(match):
        display = match.group(1) is not None
        formulas.append(render_math(match.group(1) if display else match.group(2), display))
        return f"gkmath{len(formulas) - 1}x"

    out, pos = [], 0
    for code in _CODE.finditer(text):
        out.append(_MATH.sub(math, text[pos:code.start()]))
        out.append(code.group(0))
        pos = code.end()
    out.append(_MATH.sub(math, text[pos:]))
    return "".join(out), formulas


def _put_math(page_html, formulas):
    """Put the MathML of each placeholder into ``page_html``.

    Inside a tag (a heading's ``id``, its anchor's ``href``) a formula becomes
    the letters and digits of its LaTeX instead.
    """
    def slug(match):
        n = int(match.group(1))
        if n >= len(formulas):
            return match.group(0)
        latex = html.unescape(re.search(r'alttext="([^"]*)"', formulas[n]).group(1))
        return re.sub(r"[^A-Za-z0-9]", "", latex)

    def put(match):
        n = int(match.group(2))
        return formulas[n] if n < len(formulas) else match.group(0)

    page_html = re.sub(r"<[^<>]*gkmath\d+x[^<>]*>",
                       lambda tag: re.sub(r"gkmath(\d+)x", slug, tag.group(0)), page_html)
    # a display formula alone in a paragraph should not sit inside <p>
    return re.sub(r"(<p>)?gkmath(\d+)x(?(1)</p>)", put, page_html)


# --- notebooks --------------------------------------------------------------

def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _reading_notebook(nb):
    """A copy of ``nb`` for reading: math as placeholders, no markers, no widgets."""
    nb = copy.deepcopy(nb)
    formulas = []
    cells = []
    for number, cell in enumerate(nb.cells, start=1):
        if is_instructor_cell(cell):
            continue
        cell.source = "\n".join(line for line in cell.source.splitlines()
                                if not line.strip().startswith((BEGIN, END)))
        if cell.cell_type == "markdown":
            try:
                cell.source, formulas = markdown_math(cell.source, formulas)
            except ValueError as exc:
                raise ValueError(f"cell {number}: {exc}") from None
        elif cell.cell_type == "code":
            outputs = []
            alts = list(cell.metadata.get("alt", []))
            for out in cell.get("outputs", []):
                if WIDGET_MIME in out.get("data", {}):
                    out = nbformat.v4.new_output(
                        "display_data",
                        data={"text/html": f'<p class="gk-widget-note">{WIDGET_NOTE}</p>',
                              "text/plain": WIDGET_NOTE})
                elif "image/png" in out.get("data", {}):
                    if not alts or not str(alts[0]).strip():
                        raise ValueError(
                            f"cell {number}: a figure has no text alternative: give the "
                            "solution cell the metadata \"alt\": a list with one sentence or "
                            "two per figure, saying what it shows")
                    out = _figure(out, alts.pop(0))
                outputs.append(out)
            cell.outputs = outputs
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb, formulas


def _figure(out, alt):
    """An image output as HTML: the picture with its text alternative."""
    data = out["data"]["image/png"]
    data = data if isinstance(data, str) else "".join(data)
    src = "data:image/png;base64," + data.replace("\n", "")
    return nbformat.v4.new_output("display_data", data={
        "text/html": f'<img class="gk-figure" src="{src}" alt="{html.escape(alt, quote=True)}">',
        "text/plain": alt})


def _summary(nb):
    """The Markdown of a lesson's "After this lesson you can" list, or ''."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    match = re.search(r"\*\*After this lesson you can\*\*\s*\n(.*?)(\n\s*\n\*\*|\Z)", first, re.S)
    return match.group(1).strip() if match else ""


# --- HTML -------------------------------------------------------------------

_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>gradkit — the course, reading version</title>
<style>
{css}
body {{ font-family: system-ui, sans-serif; color: #1f2328; background: #fff; }}
.gk-index {{ max-width: 860px; margin: 2em auto; padding: 0 1em; }}
li.gk-lesson {{ margin-bottom: 1.2em; }}
li.gk-lesson > a {{ font-size: 1.15em; font-weight: 600; }}
.gk-summary ol {{ margin-top: 0.3em; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e6e9ed; background: #111418; }} }}
</style>
</head>
<body>
<main class="gk-index">
<h1>gradkit: check backpropagation with numerical gradients</h1>
<p>The reading version of the course: every lesson with its solutions executed, every
plot and number in place. To do the exercises yourself, open <code>lessons/</code> in
JupyterLab, where each exercise has a check cell that gives feedback.</p>
{search}
<h2>The lessons</h2>
<ol class="gk-lessons">
{items}
</ol>
</main>
{scripts}
</body>
</html>
"""


def _nav(pages, i, where):
    prev = (f'<a rel="prev" href="{pages[i - 1].file}">← {html.escape(pages[i - 1].title)}</a>'
            if i > 0 else "<span></span>")
    nxt = (f'<a rel="next" href="{pages[i + 1].file}">{html.escape(pages[i + 1].title)} →</a>'
           if i + 1 < len(pages) else "<span></span>")
    label = "Lessons" if where == "top" else "Lessons, at the end of the page"
    return (f'<nav class="gk-nav gk-{where}" aria-label="{label}">{prev}'
            f'<a href="index.html">All lessons</a>{nxt}</nav>')


def _exporter():
    try:
        import jinja2
        from nbconvert import HTMLExporter
    except ImportError:
        raise RuntimeError(_INSTALL_HINT) from None
    try:
        import latex2mathml  # noqa: F401
    except ImportError:
        raise RuntimeError(_INSTALL_HINT) from None
    # lab's page, without the scripts it would fetch from CDNs (require.js,
    # MathJax, mermaid, the widget manager): math is MathML, widgets are notes.
    template = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">""" + reading.CSS + """</style>
{%- endblock extra_css -%}
"""
    return HTMLExporter(template_name="lab",
                        extra_loaders=[jinja2.DictLoader({"gradkit_page.html.j2": template})],
                        template_file="gradkit_page.html.j2")


def _check_out(out):
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; give a directory for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"{out} is not empty and holds no gradkit site: "
                         "give a new or empty directory, so nothing in it is overwritten")
    return out


def build_site(solutions, out, *, names=None):
    """Write the reading version of the notebooks in ``solutions`` to ``out``.

    Parameters
    ----------
    solutions : path
        Directory of executed notebooks ``NN_name.ipynb``.
    out : path
        Directory for the site: new, empty, or a site built before.
    names : list of str, optional
        Write only these lessons' pages (stems such as ``01_derivative``);
        the index and the links also cover the pages already in ``out``.

    Returns
    -------
    list of Path
        The files written, ``index.html`` first.

    Examples
    --------
    >>> build_site("solutions", "site")  # doctest: +SKIP
    [PosixPath('site/index.html'), PosixPath('site/01_derivative.html'), ...]

    Raises
    ------
    ValueError
        If ``out`` holds other files, ``solutions`` has no notebooks, a named
        lesson does not exist, or a notebook is unreadable or unexecuted.
    RuntimeError
        If nbconvert or latex2mathml is not installed.
    """
    solutions = Path(solutions)
    out = _check_out(out)
    sources = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ValueError(f"no lesson notebooks (NN_name.ipynb) in {solutions}")
    chosen = set(sources)
    if names:
        known = {p.stem: p for p in sources}
        missing = [n for n in names if n not in known]
        if missing:
            raise ValueError(f"no lesson {', '.join(missing)} in {solutions}; "
                             f"there are {', '.join(known)}")
        chosen = {known[n] for n in names}
        sources = [p for p in sources if p in chosen or (out / f"{p.stem}.html").exists()]

    exporter = _exporter()
    from nbconvert.filters import markdown2html

    notebooks = {}
    for path in sources:
        nb = read_notebook(path)
        if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            raise ValueError(f"{path} has no outputs: execute it first "
                             f"(jupyter nbconvert --to notebook --execute --inplace {path})")
        notebooks[path] = nb
    pages = [Page(f"{p.stem}.html", _title(nb, p.stem), p) for p, nb in notebooks.items()]

    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by gradkit site; the directory may be rebuilt\n")
    written = []
    items = []
    for i, page in enumerate(pages):
        nb = notebooks[page.source]
        if page.source in chosen:
            try:
                for_reading, formulas = _reading_notebook(nb)
            except ValueError as exc:
                raise ValueError(f"{page.source}, {exc}") from None
            body, _ = exporter.from_notebook_node(
                for_reading, resources={"metadata": {"name": f"{page.title} · gradkit"}})
            body = _put_math(body, formulas)
            banner = ('<p class="gk-banner">Reading version: the solutions, executed. '
                      f"To do the exercises, open <code>lessons/{page.source.name}</code> "
                      "in JupyterLab.</p>")
            main = body.split("<main>", 1)[-1].split("</main>", 1)[0]
            body = body.replace(
                "<main>", '<header class="gk-header">' + _nav(pages, i, "top")
                + reading.search_box() + '</header><div class="gk-layout">'
                + reading.toc(main) + "<main>" + banner, 1)
            body = body.replace("</main>", '</main></div><footer class="gk-footer">'
                                + _nav(pages, i, "bottom") + "</footer>" + reading.SCRIPTS, 1)
            (out / page.file).write_text(body, encoding="utf-8")
            written.append(out / page.file)
        else:  # a page kept from before: its neighbours may have changed
            old = (out / page.file).read_text(encoding="utf-8")
            body = re.sub(r'<nav class="gk-nav gk-(top|bottom)"[^>]*>.*?</nav>',
                          lambda m, i=i: _nav(pages, i, m.group(1)), old, flags=re.S)
            if body != old:
                (out / page.file).write_text(body, encoding="utf-8")
                written.append(out / page.file)
        summary, formulas = markdown_math(_summary(nb))
        summary_html = _put_math(markdown2html(summary), formulas) if summary else ""
        items.append(f'<li class="gk-lesson"><a href="{page.file}">{html.escape(page.title)}</a>'
                     f'<div class="gk-summary">{summary_html}</div></li>')
    entries = [e for page in pages for e in reading.search_entries(
        page.file, page.title, (out / page.file).read_text(encoding="utf-8"))]
    for name, text in (("search-index.js", reading.search_index_js(entries)),
                       ("search.js", reading.SEARCH_JS)):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    index = out / "index.html"
    index.write_text(_INDEX.format(items="\n".join(items), css=reading.CSS,
                                   search=reading.search_box(), scripts=reading.SCRIPTS),
                     encoding="utf-8")
    return [index] + written
