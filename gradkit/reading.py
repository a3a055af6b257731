"""The reading version's furniture: its style, a table of contents per page, and search.

``gradkit.site`` renders each lesson with nbconvert; this module adds what a
reader of a long page needs, with nothing loaded from the network:

- ``CSS``: body text at 16 px in a measure of about 70 characters, inline math
  the size of the text, tables, code and wide outputs that scroll inside
  their own box (no page scrolls sideways on a 375 px phone), a dark version
  for ``prefers-color-scheme: dark`` (figures keep a white ground, so their
  axes stay legible), and a print stylesheet;
- ``toc(body)``: the page's sections as a list of links, sticky beside the
  text on wide screens and folded at the top on narrow ones;
- ``search_entries`` / ``SEARCH_JS``: an index of every section, written with
  the site as ``search-index.js`` (a script, so it loads from ``file://``
  too), searched in the page by a few lines of JavaScript.
"""

import html
import json
import re

__all__ = ["CSS", "SCRIPTS", "SEARCH_JS", "search_box", "search_entries", "search_index_js", "toc"]

CSS = """
html:root { --jp-content-font-size1: 16px; --jp-content-line-height: 1.6;
  --jp-code-font-size: 14px; --jp-content-link-color: #0b57d0; --gk-link: #0b57d0;
  --gk-rule: #d0d7de; --gk-muted: #4d5561; --gk-panel: #f3f6fa;
  /* code colours that keep 4.5:1 on the code background (WCAG 1.4.3) */
  --jp-mirror-editor-number-color: #006300; --jp-mirror-editor-operator-color: #7a1fa2;
  --jp-mirror-editor-meta-color: #7a1fa2; --jp-mirror-editor-comment-color: #3b6565;
  --jp-mirror-editor-keyword-color: #006b00; --jp-mirror-editor-builtin-color: #006b00;
  --jp-mirror-editor-atom-color: #3b3bd1; --jp-mirror-editor-bracket-color: #5c5c46;
  --jp-mirror-editor-variable-3-color: #006b45; --jp-mirror-editor-tag-color: #116611;
  --jp-mirror-editor-error-color: #c00000; --jp-mirror-editor-hr-color: #5c5c5c;
  --jp-mirror-editor-string-color: #a31c1c; --jp-mirror-editor-string-2-color: #8a3d00; }
body .jp-Cell .jp-InputPrompt, body .jp-Cell .jp-OutputPrompt { opacity: 1 !important;
  color: var(--gk-muted) !important; }
body { font-size: 16px; line-height: 1.6; margin: 0; }
a { color: var(--gk-link); }
.gk-header, .gk-footer { max-width: 1200px; margin: 0 auto; padding: 0 1em; }
.gk-nav { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline;
  gap: 0.4em 1em; padding: 0.6em 0; font-family: system-ui, sans-serif; font-size: 16px;
  border-bottom: 1px solid var(--gk-rule); }
.gk-footer .gk-nav { border-bottom: none; border-top: 1px solid var(--gk-rule); margin-top: 2em; }
.gk-nav a { text-decoration: none; }
.gk-nav a:hover, .gk-nav a:focus { text-decoration: underline; }
.gk-layout { display: block; max-width: 1200px; margin: 0 auto; padding: 0 1em; }
.gk-layout > main { min-width: 0; }
main { max-width: 1100px; margin: 0 auto; }
.gk-banner { margin: 0.8em 0; padding: 0.5em 1em; background: var(--gk-panel);
  border-left: 4px solid var(--gk-link); font-family: system-ui, sans-serif; font-size: 16px; }
.gk-widget-note { font-style: italic; border: 1px dashed var(--gk-muted); padding: 0.5em; }
.jp-RenderedMarkdown > p, .jp-RenderedMarkdown > ul, .jp-RenderedMarkdown > ol,
.jp-RenderedMarkdown > blockquote { max-width: 70ch; }
body .jp-RenderedHTMLCommon { font-size: 16px; }
math { font-size: 1em; font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", math; }
math[display="block"] { margin: 0.8em 0; overflow-x: auto; overflow-y: hidden; max-width: 100%;
  padding: 2px 0; }
:not(pre) > code { overflow-wrap: anywhere; }
pre, .jp-OutputArea-output pre { white-space: pre; overflow-x: auto; max-width: 100%; }
.jp-OutputArea-output, .jp-InputArea-editor, .jp-RenderedHTMLCommon table,
.jp-Cell-inputWrapper { overflow-x: auto; max-width: 100%; }
.jp-OutputArea-output table, .jp-RenderedHTMLCommon table { display: block; overflow-x: auto; }
img.gk-figure, .jp-OutputArea-output img { max-width: 100%; height: auto; background: #fff; }
.jp-Cell-inputWrapper:focus, .jp-OutputArea-output:focus { outline: 2px solid var(--gk-link);
  outline-offset: 2px; }
.gk-toc { font-family: system-ui, sans-serif; font-size: 15px; margin: 0.8em 0;
  padding: 0.4em 0.8em; background: var(--gk-panel); }
.gk-toc summary { cursor: pointer; font-weight: 600; }
.gk-toc ul { margin: 0.3em 0; padding-left: 0; list-style: none; }
.gk-toc li { margin: 0.25em 0; }
.gk-toc ul ul { padding-left: 1em; }
.gk-toc a { text-decoration: none; }
.gk-toc a:hover, .gk-toc a:focus { text-decoration: underline; }
.gk-search { font-family: system-ui, sans-serif; margin: 0.6em 0; }
.gk-search input { font-size: 16px; padding: 0.3em 0.5em; width: min(24em, 100%);
  box-sizing: border-box; }
.gk-search ol { margin: 0.3em 0; padding-left: 1.4em; }
.gk-search li { margin: 0.3em 0; }
.gk-search .gk-snippet { display: block; color: var(--gk-muted); font-size: 15px; }
@media (max-width: 700px) {
  .jp-InputPrompt, .jp-OutputPrompt { display: none; }
  .jp-Cell { padding: 4px 0; }
}
@media (min-width: 1200px) {
  .gk-layout { display: grid; grid-template-columns: 16rem minmax(0, 1fr); gap: 2em; }
  .gk-toc { position: sticky; top: 0.5em; align-self: start; max-height: calc(100vh - 1em);
    overflow-y: auto; }
}
@media (prefers-color-scheme: dark) {
  html:root { color-scheme: dark; --gk-link: #8ab4f8; --gk-rule: #3d444d; --gk-muted: #b6bec9;
    --gk-panel: #1f242b; --jp-content-link-color: #8ab4f8;
    --jp-layout-color0: #111418; --jp-layout-color1: #111418; --jp-layout-color2: #1f242b;
    --jp-layout-color3: #3d444d; --jp-cell-editor-background: #1a1e24;
    --jp-cell-editor-border-color: #3d444d; --jp-border-color1: #3d444d;
    --jp-border-color2: #3d444d; --jp-content-font-color0: #f0f3f6;
    --jp-content-font-color1: #e6e9ed; --jp-content-font-color2: #c3c9d1;
    --jp-content-font-color3: #9aa3ad; --jp-ui-font-color0: #f0f3f6;
    --jp-ui-font-color1: #e6e9ed; --jp-ui-font-color2: #c3c9d1;
    --jp-rendermime-error-background: #3b1d1d; --jp-rendermime-table-row-background: #1a1e24;
    --jp-rendermime-table-row-hover-background: #262c34;
    --jp-mirror-editor-keyword-color: #7ee787; --jp-mirror-editor-comment-color: #9aa3ad;
    --jp-mirror-editor-string-color: #a5d6ff; --jp-mirror-editor-number-color: #79c0ff;
    --jp-mirror-editor-builtin-color: #7ee787; --jp-mirror-editor-def-color: #d2a8ff;
    --jp-mirror-editor-variable-color: #e6e9ed; --jp-mirror-editor-operator-color: #ff7b72;
    --jp-mirror-editor-meta-color: #ff7b72; --jp-mirror-editor-property-color: #79c0ff;
    --jp-mirror-editor-attribute-color: #79c0ff; --jp-mirror-editor-atom-color: #79c0ff;
    --jp-mirror-editor-variable-2-color: #a5d6ff; --jp-mirror-editor-variable-3-color: #d2a8ff;
    --jp-mirror-editor-bracket-color: #c3c9d1; --jp-mirror-editor-tag-color: #7ee787;
    --jp-cell-inprompt-font-color: #8ab4f8; --jp-cell-outprompt-font-color: #ffa198;
    --jp-mirror-editor-error-color: #ff7b72; --jp-mirror-editor-hr-color: #9aa3ad;
    --jp-mirror-editor-string-2-color: #ffa657; }
  body, main, .jp-Notebook { background: #111418; color: #e6e9ed; }
  .highlight, .highlight pre { background: transparent; color: #e6e9ed; }
  /* the verdict colours that reports and check cells write inline, lightened for a dark ground */
  [style*="#cf222e"] { color: #ff7b72 !important; }
  [style*="#1a7f37"] { color: #56d364 !important; }
  [style*="#9a6700"] { color: #e3b341 !important; }
  [style*="#6e7781"] { color: #9aa3ad !important; }
}
@media print {
  .gk-header, .gk-footer, .gk-toc, .gk-search, .jp-InputPrompt, .jp-OutputPrompt
  { display: none !important; }
  body { font-size: 11pt; background: #fff; color: #000; }
  .gk-layout { display: block; }
  pre, .jp-OutputArea-output pre { white-space: pre-wrap; overflow: visible; }
  .jp-OutputArea-output, .jp-Cell-inputWrapper { overflow: visible; }
  a { color: #000; }
  img { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
}
"""

_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")


_POWER = re.compile(r"(<msup>\s*<(mi|mn|mo)[^>]*>[^<]*</\2>)\s*")


def _text(fragment):
    fragment = _POWER.sub(r"\1^", fragment)  # 10⁻⁷ in MathML reads 10^−7, not "10 − 7"
    text = html.unescape(_TAG.sub(" ", fragment)).replace("¶", " ")
    text = re.sub(r"\s*\^\s*", "^", " ".join(text.split()))
    return re.sub(r"\^([−-]) ", r"^\1", text)


def toc(body):
    """The table of contents of a page's ``<main>`` HTML: sections (h2) and their parts (h3)."""
    items, open_sub = [], False
    for level, anchor, inner in _HEADING.findall(body):
        link = f'<a href="#{anchor}">{html.escape(_text(inner))}</a>'
        if level == "2":
            if open_sub:
                items.append("</ul></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not items:  # a part before any section
                items.append("<li>")
            if not open_sub:
                items.append("<ul>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    if not items:
        return ""
    items.append("</ul></li>" if open_sub else "</li>")
    return ('<nav class="gk-toc" aria-label="On this page"><details><summary>On this '
            f'page</summary><ul>{"".join(items)}</ul></details></nav>')


def search_entries(page, title, body):
    """One search entry per section of a page: where it is, its heading, its words."""
    main = body.split("<main>", 1)[-1].split("</main>", 1)[0]
    parts = _HEADING.split(main)
    entries = [{"page": page, "anchor": "", "title": title, "section": title,
                "text": _text(parts[0])[:4000]}]
    for i in range(1, len(parts) - 1, 4):
        _, anchor, inner, rest = parts[i:i + 4]
        entries.append({"page": page, "anchor": anchor, "title": title,
                        "section": _text(inner), "text": _text(rest)[:4000]})
    return entries


def search_index_js(entries):
    """The index as a script: ``window.GK_INDEX = [...]``."""
    return "window.GK_INDEX = " + json.dumps(entries, ensure_ascii=False) + ";\n"


def search_box():
    """The search form (``SCRIPTS``, at the end of the body, make it work)."""
    return ('<div class="gk-search"><form role="search" onsubmit="return false">'
            '<label for="gk-q">Search the lessons</label> '
            '<input id="gk-q" type="search" autocomplete="off" aria-describedby="gk-status">'
            '<p id="gk-status" role="status" aria-live="polite"></p>'
            '<ol id="gk-results"></ol></form></div>')


SCRIPTS = '<script src="search-index.js"></script><script src="search.js"></script>'


SEARCH_JS = r"""
(function () {  // a box that scrolls sideways can be scrolled from the keyboard too
  document.querySelectorAll("main pre, main math[display=block], main table")
    .forEach(function (el) {
      var width = el.clientWidth || el.getBoundingClientRect().width;  // MathML: no client box
      if (el.scrollWidth > width + 1 && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
      }
    });
})();
(function () {  // the table of contents: open beside the text on wide screens
  var toc = document.querySelector(".gk-toc details");
  if (toc && window.matchMedia("(min-width: 1200px)").matches) { toc.open = true; }
})();
(function () {
  var box = document.getElementById("gk-q");
  var status = document.getElementById("gk-status");
  var list = document.getElementById("gk-results");
  if (!box || !window.GK_INDEX) { return; }
  function snippet(text, word) {
    var i = text.toLowerCase().indexOf(word);
    var start = Math.max(0, i - 60);
    return (start > 0 ? "… " : "") + text.slice(start, start + 160) + " …";
  }
  function run() {
    var words = box.value.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    list.innerHTML = "";
    if (!words.length) { status.textContent = ""; return; }
    var hits = window.GK_INDEX.filter(function (e) {
      var hay = (e.section + " " + e.text).toLowerCase();
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    status.textContent = hits.length ? hits.length + (hits.length === 1 ? " section" :
      " sections") + " found" : "Nothing found";
    hits.slice(0, 20).forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e.page + (e.anchor ? "#" + e.anchor : "");
      a.textContent = e.title + " — " + e.section;
      var s = document.createElement("span");
      s.className = "gk-snippet";
      s.textContent = snippet(e.text, words[0]);
      li.appendChild(a); li.appendChild(s); list.appendChild(li);
    });
  }
  box.addEventListener("input", run);
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) { box.value = q; run(); }
})();
"""
