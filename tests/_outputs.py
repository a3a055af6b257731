"""Compare a notebook's fresh outputs with its stored ones, number by number.

A solution notebook prints two kinds of numbers. Some carry the lesson: a
verdict's count of calls of f, a shape, an epoch, an accuracy, a cost, a
scale factor, an error far above round-off. Others sit at round-off level:
a relative error near the floor of float64 (``3.7e-09``), a float32 error, the
largest difference between two exact gradients (``3e-18``). Those change in
their leading digits from one CPU, BLAS kernel, thread count or numpy version
to the next, because the order of a sum changes.

So the text around the numbers must be identical, and each pair of numbers
is compared by how it is written:

- an integer (``14`` calls, ``8×2``, epoch ``200``) must be equal;
- a decimal with at most 3 significant digits (``0.95``, ``0.005``) must be
  equal; with 4 or more (``0.693147``) it may differ by one unit in the last
  digit, a rounding boundary;
- a number in e-notation is a measured error or ratio. Two numbers under
  ``ROUNDOFF`` (1e-8, deep in float64's round-off, a hundred times below the
  tightest default tolerance) are the same reading whatever their digits: the
  relative error of one direction check was measured at 4.5e-11, 2.0e-9 and
  6.0e-9 on three BLAS kernels. Under ``FLOOR`` (1e-5) only the order of
  magnitude is compared, give or take ``FLOOR_FACTOR`` (100), keeping its
  sign: a round-off error that climbs towards the tolerance is a change.
  Printed with one significant digit (``1e+04``), a number claims an order
  of magnitude and may differ by ``ORDER_FACTOR`` (10). Otherwise it may
  differ by ``RELATIVE`` (10 %): a float32 error of ``1.7e-03`` may read
  ``1.6e-03``, a bug's ``3.3e-01`` may not read ``1.1e-01``.

Verdicts, finding kinds and tensor names are text, so they are compared
exactly. So notebooks print a round-off-level quantity in e-notation, never as
a fixed-point or integer number, and one that round-off moves by more than
10 % at any size (a float32 error, a ratio to a round-off-level error) with
one significant digit (``:.0e``), so that it is compared as what it is.
A truncation error that a lesson quotes digit by digit is printed divided by
its power of h, in fixed point, so that its digits are compared.
"""

import math
import re

ROUNDOFF = 1e-8
FLOOR = 1e-5
FLOOR_FACTOR = 100.0
ORDER_FACTOR = 10.0
RELATIVE = 0.10

# A number not glued to a name (W1, b2, float64 stay text) or to another number.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")

SANITIZERS = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDRESS"),
    (re.compile(r"(/[\w.\-]+)+/(solutions|lessons|gradkit)/"), r"PATH/\2/"),
    (re.compile(r"\b\d+(\.\d+)?\s?(s|ms|µs|us|ns) (per|elapsed|wall)"), r"TIME \3"),
    (re.compile(r"<Figure size \d+x\d+ with \d+ Axes>"), "<Figure>"),
]

# What is compared of an output: its text, never images or widget state.
TEXT_KEYS = ("text/plain", "text/html", "text/markdown", "text/latex")


def sanitize(text):
    for regex, replacement in SANITIZERS:
        text = regex.sub(replacement, text)
    return text


def _significant_digits(token):
    digits = re.sub(r"[eE].*$", "", token).lstrip("+-").replace(".", "").lstrip("0")
    return max(len(digits), 1)


def _last_unit(token):
    mantissa = re.sub(r"[eE].*$", "", token)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** -decimals


def _within_factor(stored, fresh, factor, what):
    a, b = float(stored), float(fresh)
    if a == 0 or b == 0:  # the other is above ROUNDOFF: no factor takes it to 0
        return f"{what}: {stored} became {fresh}"
    if (a > 0) != (b > 0):
        return f"{what} changed sign: {stored} became {fresh}"
    if abs(math.log10(abs(a) / abs(b))) <= math.log10(factor):
        return None
    return f"{what}: {stored} became {fresh}, more than a factor of {factor:g} apart"


def number_difference(stored, fresh):
    """Why two printed numbers differ in meaning, or None when they agree.

    >>> number_difference("3.7e-09", "1.2e-08") is None
    True
    >>> number_difference("14", "16")
    'a count or index: 14 became 16'
    """
    if stored == fresh:
        return None
    a, b = float(stored), float(fresh)
    scientific = "e" in stored.lower() or "e" in fresh.lower()
    if not scientific and ("." not in stored or "." not in fresh):
        return f"a count or index: {stored} became {fresh}"
    if not scientific:
        digits = _significant_digits(stored), _significant_digits(fresh)
        # one unit in the last digit of a long decimal is round-off, also where it loses a
        # leading digit (100.0% of directions, printed :.1f, became 99.9%)
        long = max(digits) >= 4 and _last_unit(stored) == _last_unit(fresh)
        if not long and min(digits) <= 3:
            return f"a value printed to its meaningful digits: {stored} became {fresh}"
        if abs(a - b) <= _last_unit(stored) * 1.000001:
            return None
        return f"{stored} became {fresh}: more than one unit in the last digit"
    if max(abs(a), abs(b)) < ROUNDOFF:
        return None
    if min(abs(a), abs(b)) < FLOOR:
        return _within_factor(stored, fresh, FLOOR_FACTOR, "an error near the floor")
    if min(_significant_digits(stored), _significant_digits(fresh)) == 1:
        return _within_factor(stored, fresh, ORDER_FACTOR, "an order of magnitude")
    if abs(a - b) <= RELATIVE * max(abs(a), abs(b)):
        return None
    return f"a measured error: {stored} became {fresh}, more than {RELATIVE:.0%} apart"


def text_difference(stored, fresh):
    """The first difference in meaning between two output texts, or None."""
    stored, fresh = sanitize(stored), sanitize(fresh)
    if stored == fresh:
        return None
    s_numbers, f_numbers = NUMBER.findall(stored), NUMBER.findall(fresh)
    s_text, f_text = NUMBER.split(stored), NUMBER.split(fresh)
    if s_text != f_text:
        for line_s, line_f in zip(stored.splitlines() + [""], fresh.splitlines() + [""]):
            if NUMBER.split(line_s) != NUMBER.split(line_f):
                return f"the text differs:\n  stored: {line_s[:300]}\n  fresh:  {line_f[:300]}"
        return "the text differs"
    for s, f in zip(s_numbers, f_numbers):
        why = number_difference(s, f)
        if why:
            return why
    return None


def _texts(outputs):
    """Each output as (what, text): streams joined per name, then rich outputs and errors."""
    streams, rich = {}, []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            streams[out["name"]] = streams.get(out["name"], "") + out["text"]
        elif kind in ("execute_result", "display_data"):
            for key in TEXT_KEYS:
                if key in out.get("data", {}):
                    value = out["data"][key]
                    rich.append((key, "".join(value) if isinstance(value, list) else value))
        elif kind == "error":
            rich.append(("error", f"{out['ename']}: {out['evalue']}"))
    return sorted(streams.items()) + rich


def cell_difference(stored_outputs, fresh_outputs):
    """The first difference in meaning between a code cell's outputs, or None."""
    stored, fresh = _texts(stored_outputs), _texts(fresh_outputs)
    if [k for k, _ in stored] != [k for k, _ in fresh]:
        return (f"different outputs: stored {[k for k, _ in stored]}, "
                f"fresh {[k for k, _ in fresh]}")
    for (key, s), (_, f) in zip(stored, fresh):
        why = text_difference(s, f)
        if why:
            return f"{key}: {why}"
    return None


def notebook_differences(stored_nb, fresh_nb):
    """A list of 'cell N: why' for every code cell whose outputs differ in meaning."""
    problems = []
    for i, (s, f) in enumerate(zip(stored_nb.cells, fresh_nb.cells)):
        if s.cell_type != "code" or "nbval-ignore-output" in s.metadata.get("tags", []):
            continue
        why = cell_difference(s.outputs, f.outputs)
        if why:
            problems.append(f"cell {i}: {why}")
    return problems
