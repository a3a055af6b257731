"""Accessibility: axe-core's WCAG 2.2 A and AA rules on what a reader or a student sees.

Every page of the reading version (``gradkit site``) and the HTML that gradkit
shows in JupyterLab outputs (a ``GradientReport``, a check cell's feedback) are
loaded in headless Chromium and checked by axe-core. axe-core comes from the copy
that the ``axe-playwright-python`` package ships (``axe.min.js``) and is injected
into the page, so nothing is fetched. Like the other browser tests these skip
without Chromium, and fail instead under ``GRADKIT_REQUIRE_BROWSER=1`` (CI).

axe finds what a machine can find (contrast, names, landmarks, table and list
structure, language); it does not judge alt text, reading order or focus order.
"""

import html
from pathlib import Path

import numpy as np
import pytest

import gradkit as gk
from gradkit.grading.feedback import check
from gradkit.site import build_site

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSONS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))

#: WCAG 2.0, 2.1 and 2.2, levels A and AA; axe's "best-practice" rules are left out.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


def axe_violations(page):
    """Run axe-core in ``page`` with the WCAG A/AA rules; its violations, as axe gives them.

    Parameters
    ----------
    page : playwright.sync_api.Page
        Loaded; axe is injected into it.

    Returns
    -------
    list of dict
        Each with ``id``, ``impact``, ``help`` and ``nodes`` (each node's
        ``target`` a list of CSS selectors).
    """
    from _browser import browser_required

    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        reason = ("accessibility tests need axe-playwright-python (pip install -e '.[dev]'; "
                  "it ships axe-core, nothing is downloaded)")
        if browser_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def _short(selector):
    """A CSS path cut to its first and last steps: ``#cell-id=l01-03 … .jp-InputPrompt``."""
    steps = selector.split(" > ")
    return selector if len(steps) <= 2 else f"{steps[0]} … {steps[-1]}"


def describe(violations):
    """One line per violation: id, impact, node count, help text, the first 3 targets."""
    lines = []
    for v in violations:
        # a target is a list of selectors only to reach into frames and shadow roots
        targets = [" >>> ".join(map(_short, n["target"])) for n in v["nodes"]]
        more = f" (+{len(targets) - 3} more)" if len(targets) > 3 else ""
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}; "
                     f"{', '.join(targets[:3])}{more}")
    return "\n".join(lines)


def assert_accessible(page, what):
    """Fail with :func:`describe`'s lines (not a dump of axe's dicts) if axe finds anything."""
    violations = axe_violations(page)
    if violations:
        pytest.fail(f"{what}: {len(violations)} WCAG 2.2 AA rules violated\n"
                    + describe(violations), pytrace=False)


def standalone(fragment, title):
    """``fragment`` in the smallest complete page: a language, a title, a main landmark."""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head>"
            f"<body><main>{fragment}</main></body></html>")


def _page(browser, *, url=None, content=None, scheme="light"):
    page = browser.new_page(color_scheme=scheme)
    if url is not None:
        page.goto(url)
    else:
        page.set_content(content)
    return page


# --- the reading version ----------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The folder of a site built from the solutions, as tests/test_site.py builds it."""
    out = tmp_path_factory.mktemp("site")
    build_site(SOLUTIONS, out)
    return out


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", *LESSONS])
def test_every_site_page_meets_wcag_aa(browser, site, name):
    page = _page(browser, url=(site / f"{name}.html").as_uri())
    try:
        assert_accessible(page, f"{name}.html")
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", "03_gradient_checking", "06_sgd"])
def test_dark_mode_pages_meet_wcag_aa_too(browser, site, name):
    # 03 holds failing reports (red), 06 figures and check cells (green, grey)
    page = _page(browser, url=(site / f"{name}.html").as_uri(), scheme="dark")
    try:
        assert_accessible(page, f"{name}.html in dark mode")
    finally:
        page.close()


@pytest.mark.browser
def test_low_contrast_text_is_a_violation(browser):
    faint = ('<h1>A lesson</h1><p>Readable text.</p>'
             '<p id="faint" style="color:#d0d0d0;background:#ffffff">faint grey on white</p>')
    page = _page(browser, content=standalone(faint, "contrast probe"))
    try:
        violations = axe_violations(page)
    finally:
        page.close()
    assert [v["id"] for v in violations] == ["color-contrast"], describe(violations)
    assert [n["target"] for n in violations[0]["nodes"]] == [["#faint"]]
    line = describe(violations)
    assert line.startswith("color-contrast (serious, 1 nodes): Elements must meet minimum "
                           "color contrast ratio thresholds; #faint"), line


def test_the_description_is_compact():
    node = {"target": ["#cell-id\\=c1 > .jp-Cell-inputWrapper > div > .jp-InputPrompt"]}
    violation = {"id": "x", "impact": "minor", "help": "Fix it", "nodes": [node] * 5}
    assert describe([violation]) == ("x (minor, 5 nodes): Fix it; "
                                     + ", ".join(["#cell-id\\=c1 … .jp-InputPrompt"] * 3)
                                     + " (+2 more)")


# --- what gradkit shows in JupyterLab ------------------------------------------------

def _reports():
    x = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.5]])
    b = np.array([0.5, -0.25])
    params = {"W": x, "b": b}

    def cost(p):
        return float(np.sum(p["W"] ** 3) + np.sum(p["b"] ** 2))

    grads = {"W": 3 * x**2, "b": 2 * b}
    passing = gk.check_gradients(cost, params, grads)
    failing = gk.check_gradients(cost, params, {"W": 3 * x**2, "b": 4 * b})  # dW ok, db 2×
    # a sign bug that a cost of 1e10 hides in its round-off: W is "unresolved"
    inconclusive = gk.check_gradients(lambda p: cost(p) + 1e10, params,
                                      {"W": -3 * x**2, "b": 2 * b})
    assert (passing.verdict, failing.verdict, inconclusive.verdict) == (
        "pass", "fail", "inconclusive")
    assert failing.findings and failing.failing == ["b"]
    assert [row[-1] for row in inconclusive._rows()] == ["unresolved", "ok"]
    return {"passing": passing, "failing": failing, "inconclusive": inconclusive}


def _difference_quotient(f, x, h):
    return (f(x + h) - f(x)) / h


def _not_answered(f, x, h):
    raise NotImplementedError


def _checks():
    results = {
        "passing": check("01.difference_quotient", _difference_quotient),
        "failing": check("01.difference_quotient", lambda f, x, h: f(x + h) - f(x)),
        "unanswered": check("01.difference_quotient", _not_answered),
    }
    assert [r.status for r in results.values()] == ["passed", "failed", "unanswered"]
    return results


@pytest.mark.browser
@pytest.mark.parametrize("verdict", ["passing", "failing", "inconclusive"])
def test_a_gradient_report_in_a_notebook_meets_wcag_aa(browser, verdict):
    report = _reports()[verdict]
    page = _page(browser, content=standalone(report._repr_html_(), f"{verdict} report"))
    try:
        assert_accessible(page, f"GradientReport._repr_html_ ({verdict})")
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("status", ["passing", "failing", "unanswered"])
def test_check_cell_feedback_meets_wcag_aa(browser, status):
    result = _checks()[status]
    page = _page(browser, content=standalone(result._repr_html_(), f"{status} check"))
    try:
        assert_accessible(page, f"check() feedback ({status})")
    finally:
        page.close()
