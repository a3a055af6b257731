"""The reading version as a reader meets it: text alternatives, phones, contents, search, dark.

Each behaviour is checked in headless Chromium on the built site, and each
check is shown to fail on a page made to break it.
"""

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from gradkit import reading
from gradkit.site import build_site

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSONS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("reading")
    build_site(SOLUTIONS, out)
    return out


# --- the build -------------------------------------------------------------------


def test_every_figure_carries_the_text_alternative_written_with_its_cell(site):
    for name in LESSONS:
        nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
        alts = [a for c in nb.cells if c.cell_type == "code" for a in c.metadata.get("alt", [])]
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        assert "No description has been provided" not in page, name
        shown = [html.unescape(a) for a in re.findall(r'<img alt="([^"]*)"[^>]*gk-figure', page)
                 + re.findall(r'<img class="gk-figure"[^>]*alt="([^"]*)"', page)]
        assert shown == alts, name
        for alt in alts:
            assert len(alt.split()) >= 8, f"{name}: a text alternative too short to say much"


def test_a_figure_without_a_text_alternative_fails_the_build(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nb = nbformat.read(SOLUTIONS / "01_derivative.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.metadata.get("alt"))
    del cell.metadata["alt"]
    nbformat.write(nb, solutions / "01_derivative.ipynb")
    with pytest.raises(ValueError, match=r"01_derivative.ipynb, cell \d+: a figure has no text "
                                         r"alternative: give the solution cell the metadata"):
        build_site(solutions, tmp_path / "site")


def test_each_page_has_a_table_of_contents_and_the_site_a_search_index(site):
    for name in LESSONS:
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        assert page.count('<nav class="gk-toc" aria-label="On this page">') == 1, name
        assert page.count("<h1") == 1, name
    index = (site / "search-index.js").read_text(encoding="utf-8")
    assert index.startswith("window.GK_INDEX = [") and "02_finite_differences.html" in index


def test_the_table_of_contents_lists_sections_and_their_parts():
    body = ('<main><h1 id="t">T</h1><h2 id="a">A<a class="anchor-link" href="#a">¶</a></h2>'
            '<h3 id="a1">A.1</h3><h2 id="b">B <math><msup><mn>10</mn><mrow><mo>−</mo>'
            '<mn>7</mn></mrow></msup></math></h2></main>')
    toc = reading.toc(body)
    assert toc.count("<li>") == 3 and '<a href="#a">A</a><ul><li><a href="#a1">' in toc
    assert "B 10^−7" in toc  # a power reads as one
    assert reading.toc("<main><p>no headings</p></main>") == ""


# --- in the browser ----------------------------------------------------------------

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    for name in ["index", *LESSONS]:
        page.goto((site / f"{name}.html").as_uri())
        assert page.evaluate(OVERFLOW_JS) <= 0, f"{name} scrolls sideways at 375 px"
        size = page.evaluate("() => getComputedStyle(document.querySelector("
                             "'main p:not(.gk-banner)')).fontSize")
        assert float(size.rstrip("px")) >= 16, (name, size)
    wide = tmp_path / "wide.html"  # the check sees a page that does scroll sideways
    wide.write_text('<html><body><main><p style="width: 900px">wide</p></main></body></html>')
    page.goto(wide.as_uri())
    assert page.evaluate(OVERFLOW_JS) > 0
    page.close()


@pytest.mark.browser
def test_inline_math_is_the_size_of_the_text(site, browser):
    page = browser.new_page()
    page.goto((site / "03_gradient_checking.html").as_uri())
    ratio = page.evaluate("""() => {
        const m = document.querySelector('.jp-RenderedMarkdown p math:not([display=block])');
        return parseFloat(getComputedStyle(m).fontSize) /
               parseFloat(getComputedStyle(m.parentElement).fontSize); }""")
    assert 0.95 <= ratio <= 1.1
    page.close()


@pytest.mark.browser
def test_dark_mode_follows_the_system_and_figures_keep_a_light_ground(site, browser):
    colours = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(color_scheme=scheme)
        page.goto((site / "06_sgd.html").as_uri())
        colours[scheme] = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
            getComputedStyle(document.querySelector('img.gk-figure')).backgroundColor]""")
        page.close()
    assert colours["light"][0] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert colours["dark"][0] == "rgb(17, 20, 24)"
    assert colours["dark"][1] == "rgb(255, 255, 255)"  # axes and labels stay legible


@pytest.mark.browser
def test_the_table_of_contents_links_land_on_their_sections(site, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.goto((site / "04_backprop_deep_net.html").as_uri())
    assert page.locator(".gk-toc details").get_attribute("open") is not None  # wide: open
    links = page.locator(".gk-toc a")
    assert links.count() >= 5
    for i in (1, links.count() // 2):
        link = links.nth(i)
        target = link.get_attribute("href")
        link.click()
        page.wait_for_function("h => location.hash === h", arg=target)
        top = page.evaluate("h => (document.getElementById(h.slice(1)) || document"
                            ".getElementById(decodeURIComponent(h.slice(1))))"
                            ".getBoundingClientRect().top", target)
        assert abs(top) < 5, (target, top)  # the section's heading is at the top
    page.close()
    phone = browser.new_page(viewport={"width": 375, "height": 800})
    phone.goto((site / "04_backprop_deep_net.html").as_uri())
    assert phone.locator(".gk-toc details").get_attribute("open") is None  # folded
    phone.close()


@pytest.mark.browser
def test_search_finds_a_term_in_the_right_lesson_offline(site, browser, tmp_path):
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "index.html").as_uri())
    page.fill("#gk-q", "complex step")
    first = page.locator("#gk-results li a").first
    assert "02_finite_differences.html" in first.get_attribute("href")
    assert "found" in page.locator("#gk-status").inner_text()
    page.fill("#gk-q", "zzzqqq no such words")
    assert page.locator("#gk-results li").count() == 0
    assert page.locator("#gk-status").inner_text() == "Nothing found"
    assert all(u.startswith(("file:", "data:")) for u in requests)
    page.close()
    broken = tmp_path / "site"  # without its index the search finds nothing
    shutil.copytree(site, broken)
    (broken / "search-index.js").write_text("window.GK_INDEX = [];\n")
    page = browser.new_page()
    page.goto((broken / "index.html").as_uri())
    page.fill("#gk-q", "complex step")
    assert page.locator("#gk-results li").count() == 0
    page.close()


def test_a_print_stylesheet_hides_the_navigation():
    assert "@media print" in reading.CSS
    printed = reading.CSS.split("@media print", 1)[1]
    assert ".gk-toc" in printed and ".gk-search" in printed and "display: none" in printed
