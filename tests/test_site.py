"""The reading version: ``gradkit site`` writes static pages that render offline.

The build is tested directly; the pages are loaded in headless Chromium
(Debian's ``chromium``, driven by Playwright) and each is checked for its
title, rendered math, figures, navigation and the absence of network loads.
"""

import re
from pathlib import Path

import nbformat
import pytest

from gradkit.cli import main
from gradkit.site import MARKER, build_site, markdown_math, render_math

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSONS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


# --- math ---------------------------------------------------------------------

def test_inline_and_display_math_become_mathml():
    text, formulas = markdown_math("slope $f'(x)$ and\n\n$$\\frac{a}{b}$$\n")
    assert text == "slope gkmath0x and\n\ngkmath1x\n"
    assert formulas[0].startswith('<math alttext="f&#x27;(x)"')
    assert 'display="inline"' in formulas[0]
    assert 'display="block"' in formulas[1] and "<mfrac>" in formulas[1]


def test_code_and_escaped_dollars_are_not_math():
    source = "costs \\$5, `x = $y$` and\n```python\nprint('$a$')\n```\nthen $z$"
    text, formulas = markdown_math(source)
    assert len(formulas) == 1 and "<mi>z</mi>" in formulas[0]
    assert "`x = $y$`" in text and "print('$a$')" in text and "\\$5" in text


def test_numbering_continues_across_cells():
    _, formulas = markdown_math("$a$")
    text, formulas = markdown_math("$b$ and $c$", formulas)
    assert text == "gkmath1x and gkmath2x" and len(formulas) == 3


def test_math_in_a_heading_keeps_its_anchor_a_plain_name():
    from gradkit.site import _put_math

    _, formulas = markdown_math("## Why $O(h^2)$")
    page = _put_math('<h2 id="Why-gkmath0x">Why gkmath0x<a href="#Why-gkmath0x">¶</a></h2>',
                     formulas)
    assert page == f'<h2 id="Why-Oh2">Why {formulas[0]}<a href="#Why-Oh2">¶</a></h2>'


def test_a_formula_that_cannot_be_rendered_is_named():
    with pytest.raises(ValueError, match=r"cannot render the formula \$x\^\$"):
        render_math("x^")
    with pytest.raises(ValueError, match=r"unknown command \\fraq"):
        render_math("\\fraq{a}{b}")


# --- the build ------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    files = build_site(SOLUTIONS, out)
    return out, files


def test_site_has_an_index_and_a_page_per_lesson(site):
    out, files = site
    assert [f.name for f in files] == (["index.html"] + [f"{n}.html" for n in LESSONS]
                                       + ["search-index.js", "search.js"])
    assert len(LESSONS) == 11
    index = (out / "index.html").read_text()
    for name in LESSONS:
        assert f'href="{name}.html"' in index


def network_loads(text):
    """What a page would fetch: script sources, remote images/styles/frames, CSS imports."""
    found = re.findall(r"<script[^>]+src=\"([^\"]*)", text)
    found += re.findall(r"<(?:img|link|iframe|source|video|audio)[^>]+(?:src|href)="
                        r"\"((?:https?:)?//[^\"]*)", text)
    found += re.findall(r"@import[^;]*|url\(\s*['\"]?(?:https?:)?//[^)]*", text)
    return found


def test_pages_load_nothing_from_the_network(site):
    out, _ = site
    for page in out.glob("*.html"):
        text = page.read_text()
        # the site's own scripts (the search) load from the site, not from the network
        assert [u for u in network_loads(text) if not (out / u).is_file()] == [], page.name
        assert "gkmath" not in text, f"{page.name}: a formula placeholder was left"


def test_the_network_check_sees_remote_loads():
    page = ('<script src="require.js"></script><img src="//cdn.x/a.png">'
            '<link rel="stylesheet" href="https://cdn.x/a.css"><a href="https://ok.example">'
            '<style>@import "x.css"; p { background: url(http://x/b.png) }</style>')
    assert network_loads(page) == ["require.js", "//cdn.x/a.png", "https://cdn.x/a.css",
                                   '@import "x.css"', "url(http://x/b.png"]


def test_solution_markers_and_widget_outputs_are_replaced(site):
    out, _ = site
    for name in LESSONS:
        text = (out / f"{name}.html").read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "widget-view+json" not in text
    assert "gk-widget-note" in (out / "01_derivative.html").read_text()


def test_solutions_are_not_modified(tmp_path):
    before = {p: p.read_bytes() for p in SOLUTIONS.glob("*.ipynb")}
    build_site(SOLUTIONS, tmp_path, names=["01_derivative"])
    assert {p: p.read_bytes() for p in SOLUTIONS.glob("*.ipynb")} == before


def test_a_directory_with_other_files_is_left_alone(tmp_path):
    keep = tmp_path / "notes.html"
    keep.write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no gradkit site"):
        build_site(SOLUTIONS, tmp_path, names=["01_derivative"])
    assert keep.read_text() == "mine" and not (tmp_path / MARKER).exists()


def test_a_site_is_rebuilt_in_place(tmp_path):
    build_site(SOLUTIONS, tmp_path, names=["01_derivative"])
    files = build_site(SOLUTIONS, tmp_path, names=["01_derivative"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MARKER, "01_derivative.html", "index.html", "search-index.js", "search.js"]
    assert len(files) == 4
    index = (tmp_path / "index.html").read_text()
    assert 'href="01_derivative.html"' in index and "02_finite" not in index


def test_rebuilding_one_page_keeps_the_others_in_the_index_and_links(tmp_path):
    build_site(SOLUTIONS, tmp_path, names=["01_derivative", "03_gradient_checking"])
    build_site(SOLUTIONS, tmp_path, names=["01_derivative"])
    index = (tmp_path / "index.html").read_text()
    assert 'href="03_gradient_checking.html"' in index
    assert 'rel="next" href="03_gradient_checking.html"' in (
        tmp_path / "01_derivative.html").read_text()


def test_a_page_added_between_two_others_is_linked_from_both(tmp_path):
    build_site(SOLUTIONS, tmp_path, names=["01_derivative", "03_gradient_checking"])
    files = build_site(SOLUTIONS, tmp_path, names=["02_finite_differences"])
    first = (tmp_path / "01_derivative.html").read_text()
    third = (tmp_path / "03_gradient_checking.html").read_text()
    assert first.count('rel="next" href="02_finite_differences.html"') == 2  # top and bottom
    assert third.count('rel="prev" href="02_finite_differences.html"') == 2
    assert "03_gradient_checking.html" not in first and "01_derivative.html" not in third
    assert sorted(f.name for f in files) == ["01_derivative.html", "02_finite_differences.html",
                                             "03_gradient_checking.html", "index.html",
                                             "search-index.js", "search.js"]


def test_a_bad_formula_is_named_with_its_lesson_and_cell(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.read(SOLUTIONS / "01_derivative.ipynb", 4)
    k = next(i for i, c in enumerate(nb.cells) if i > 0 and c.cell_type == "markdown")
    nb.cells[k].source += "\n\nand $x^$ here"
    nbformat.write(nb, src / "01_derivative.ipynb")
    with pytest.raises(ValueError, match=rf"01_derivative.ipynb, cell {k + 1}: cannot render the "
                                         r"formula \$x\^\$"):
        build_site(src, tmp_path / "out")


def test_unexecuted_or_unknown_lessons_are_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.read(SOLUTIONS / "01_derivative.ipynb", 4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbformat.write(nb, src / "01_derivative.ipynb")
    with pytest.raises(ValueError, match="has no outputs: execute it first"):
        build_site(src, tmp_path / "out")
    with pytest.raises(ValueError, match="no lesson 09_nothing .* there are 01_derivative"):
        build_site(src, tmp_path / "out", names=["09_nothing"])
    with pytest.raises(ValueError, match="no lesson notebooks"):
        build_site(tmp_path / "out", tmp_path / "out2")


def test_cli_writes_the_site_and_reports_errors(tmp_path, capsys):
    assert main(["site", "01_derivative", "--out", str(tmp_path / "s"),
                 "--solutions", str(SOLUTIONS)]) == 0
    assert "wrote 1 lesson pages" in capsys.readouterr().out
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "x").write_text("x")
    assert main(["site", "--out", str(tmp_path / "t"), "--solutions", str(SOLUTIONS)]) == 2
    assert "gradkit site:" in capsys.readouterr().err


# --- in a browser -----------------------------------------------------------------

# Everything a reader should see, checked in the rendered page; returns a list of problems.
PROBLEMS_JS = """() => {
  const problems = [];
  const maths = [...document.querySelectorAll('math')];
  if (!maths.length) problems.push('no math');
  for (const m of maths) {
    const display = getComputedStyle(m).display;
    if (!display.includes('math')) { problems.push('math not rendered as MathML: ' + display);
                                     break; }
    const box = m.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) { problems.push('empty formula'); break; }
  }
  const text = [...document.querySelectorAll('.jp-MarkdownCell, .gk-summary')]
    .map(e => e.innerText).join('\\n');
  const raw = text.match(/\\$[^$\\s][^$\\n]*\\$/);
  if (raw) problems.push('raw TeX: ' + raw[0]);
  for (const img of document.querySelectorAll('img')) {
    if (!img.complete || img.naturalWidth === 0) problems.push('broken image');
  }
  return problems;
}"""


def _open(browser, url):
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    return page, requests


@pytest.mark.browser
def test_each_page_renders_title_math_figures_and_navigation(site, browser):
    out, _ = site
    figures = 0
    for i, name in enumerate(LESSONS):
        page, requests = _open(browser, (out / f"{name}.html").as_uri())
        number = name[:2]
        assert re.fullmatch(rf"Lesson {number} — .+ · gradkit", page.title())
        assert page.evaluate(PROBLEMS_JS) == [], name
        pngs = sum("image/png" in o.get("data", {})
                   for c in nbformat.read(SOLUTIONS / f"{name}.ipynb", 4).cells
                   if c.cell_type == "code" for o in c.outputs)
        assert page.locator("img").count() >= pngs, name  # a lesson may have no figure
        figures += pngs
        offsite = [u for u in requests if not u.startswith(("file:", "data:"))]
        assert offsite == [], f"{name} loads {offsite}"
        nav = page.locator("nav.gk-top")
        if i + 1 < len(LESSONS):
            nav.locator("a[rel=next]").click()
            # the click returns before the next page has loaded: read its title once it has
            page.wait_for_url("**/" + LESSONS[i + 1] + ".html")
            assert page.title().startswith(f"Lesson {LESSONS[i + 1][:2]} ")
        else:
            assert nav.locator("a[rel=next]").count() == 0
            nav.locator("text=All lessons").click()
            page.wait_for_url("**/index.html")
            assert page.title().startswith("gradkit")
        page.close()
    assert figures > 20  # the lessons' figures are on their pages


@pytest.mark.browser
def test_index_lists_every_lesson_with_rendered_math(site, browser):
    out, _ = site
    page, _ = _open(browser, (out / "index.html").as_uri())
    assert page.evaluate(PROBLEMS_JS) == []
    links = page.locator("li.gk-lesson > a")
    assert links.count() == len(LESSONS)
    for i, name in enumerate(LESSONS):
        assert links.nth(i).get_attribute("href") == f"{name}.html"
        assert links.nth(i).inner_text().startswith(f"Lesson {name[:2]} — ")
    page.close()


@pytest.mark.browser
def test_the_page_check_finds_raw_tex_broken_figures_and_missing_math(browser, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text('<html><body><div class="jp-MarkdownCell">the slope $f\'(x)$</div>'
                      '<img src="data:image/png;base64,AAAA"></body></html>')
    page, _ = _open(browser, broken.as_uri())
    assert page.evaluate(PROBLEMS_JS) == ["no math", "raw TeX: $f'(x)$", "broken image"]
    page.close()
