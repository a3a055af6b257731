"""The stored-output comparison (tests/_outputs.py) tolerates another machine's
round-off and nothing else: shown on the stored outputs of every solution,
whatever machine these tests run on."""

import copy
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from _outputs import (
    FLOOR,
    NUMBER,
    ROUNDOFF,
    TEXT_KEYS,
    notebook_differences,
    number_difference,
    text_difference,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("stored, fresh", [
    ("3.7e-09", "3.6e-09"),      # a float64 error at the floor, in the last digit
    ("1.16e-10", "1.51e-10"),    # the same, in the first digit
    ("~4.46e-11", "~5.99e-09"),  # a direction check's error, deep in round-off
    ("4.4e-09", "2.0e-07"),      # at the floor, 45 times
    ("3e-18", "7e-18"),          # the largest difference between two exact gradients
    ("1e+04", "9e+03"),          # an order of magnitude (one significant digit)
    ("1.7e-03", "1.6e-03"),      # a float32 error, within 10 %
    ("0.693147", "0.693148"),    # a cost on a rounding boundary of its last digit
    ("100.0", "99.9"),           # a percentage of directions, :.1f, losing a leading digit
    ("14", "14"),
])
def test_round_off_level_differences_pass(stored, fresh):
    assert text_difference(f"relative error {stored}", f"relative error {fresh}") is None


@pytest.mark.parametrize("stored, fresh, why", [
    ("14 calls of f", "16 calls of f", "a count or index: 14 became 16"),
    ("shape 8×2", "shape 2×8", "a count or index: 8 became 2"),
    ("accuracy 0.975", "accuracy 0.965", "meaningful digits: 0.975 became 0.965"),
    ("accuracy 0.95", "accuracy 0.96", "meaningful digits"),
    ("caught 10.0%", "caught 9.9%", "meaningful digits"),
    ("caught 100.0%", "caught 99.8%", "more than one unit in the last digit"),
    ("cost 0.693147", "cost 0.693160", "more than one unit in the last digit"),
    ("relative error 3.33e-01", "relative error 1.11e-01", "more than 10% apart"),
    ("relative error 3.7e-09", "relative error 2.0e-06", "near the floor"),
    ("relative error 4.5e-11", "relative error 9.0e-08", "near the floor"),
    ("difference 3.7e-07", "difference -3.7e-07", "changed sign"),
    ("margin 1e+04", "margin 2e+05", "an order of magnitude"),
    ("verdict pass", "verdict fail", "the text differs"),
    ("[scale] W1: 2 ×", "[sign] W1: 2 ×", "the text differs"),
    ("W1 ok, b1 FAIL", "W1 FAIL, b1 ok", "the text differs"),
    ("W1: 1.0e-09", "W2: 1.0e-09", "the text differs"),
])
def test_meaningful_differences_fail_and_say_which(stored, fresh, why):
    assert why in (text_difference(stored, fresh) or "")


def test_names_and_formats_stay_text():
    assert NUMBER.findall("W1 b2 float64 1e-7 -0.5 8×2 3.33e-01") == [
        "1e-7", "-0.5", "8", "2", "3.33e-01"]
    assert number_difference("0.0e+00", "3.1e-17") is None  # exactly zero vs round-off


def _as_another_machine(token, rng):
    """The token as another CPU, BLAS or numpy could print it, in the same format."""
    mantissa, _, exponent = token.lower().partition("e")
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    value = float(token)
    if exponent:
        if value == 0:
            return token
        if abs(value) < ROUNDOFF:
            factor = 10 ** rng.uniform(-12, -8) / abs(value)  # anywhere deep in round-off
        elif abs(value) < FLOOR:
            factor = 10 ** rng.uniform(-1.5, 1.5)  # up to 30 times: the floor moves
        elif digits == 0:
            factor = 10 ** rng.uniform(-0.45, 0.45)  # an order of magnitude stays one
        else:
            factor = 1 + rng.uniform(-0.05, 0.05)  # a float32 error's leading digits
        new = f"{value * factor:.{digits}e}"
        if mantissa.startswith("+"):
            new = "+" + new
        return new.upper() if "E" in token else new
    if ("." in token and not token.endswith(".")  # "1000." is a literal input, as numpy prints
            and len(re.sub(r"\D", "", token).lstrip("0")) >= 4):
        step = 10.0 ** -digits * rng.choice([-1, 1])  # a rounding boundary in the last digit
        new = f"{value + step:.{digits}f}"
        return "+" + new if token.startswith("+") and not new.startswith("-") else new
    return token  # integers and short decimals carry the meaning: never touched


def _map_texts(nb, change):
    """A copy of nb whose output texts went through change(text, cell_index)."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = change(out["text"], i)
            for key in TEXT_KEYS:
                if key in out.get("data", {}):
                    out["data"][key] = change(out["data"][key], i)
    return nb


def test_another_machines_round_off_passes_in_every_stored_output():
    rng = np.random.default_rng(11)
    changed = 0
    for path in SOLUTIONS:
        stored = nbformat.read(path, as_version=4)

        def perturb(text, _i):
            nonlocal changed
            def one(match):
                nonlocal changed
                new = _as_another_machine(match.group(0), rng)
                changed += new != match.group(0)
                return new
            return NUMBER.sub(one, text)

        assert notebook_differences(stored, _map_texts(stored, perturb)) == [], path.name
    assert changed > 300, f"only {changed} numbers were perturbed: the test shows little"


def _first_change(pattern, replace):
    """The first stored solution output matching pattern, changed by replace."""
    for path in SOLUTIONS:
        stored = nbformat.read(path, as_version=4)
        hit = []

        def change(text, i, hit=hit):
            if not hit and re.search(pattern, text):
                hit.append(i)
                return re.sub(pattern, replace, text, count=1)
            return text

        fresh = _map_texts(stored, change)
        if hit:
            return stored, fresh, hit[0]
    raise AssertionError(f"no stored output matches {pattern!r}")


@pytest.mark.parametrize("pattern, replace", [
    (r"Gradient check PASSED", "Gradient check FAILED"),            # a verdict flipped
    (r"\(verdict pass\)", "(verdict inconclusive)"),
    (r"(\d+) calls of f", lambda m: f"{int(m.group(1)) + 2} calls of f"),   # a count
    (r"accuracy 0\.975", "accuracy 0.965"),                       # second digit of an accuracy
    (r"test accuracy 0\.965", "test accuracy 0.955"),
    (r"<b>scale</b>", "<b>mismatch</b>"),                         # a finding kind (a report)
    (r"extra_l2 on W2", "extra_l2 on W1"),                        # a tensor name
    (r"cost 0\.2998", "cost 0.3098"),                             # a cost the prose quotes
    (r"relative error 1\.80e-01", "relative error 9.00e-01"),     # a bug's error
    (r"P = 2305", "P = 2306"),
])
def test_a_meaningful_change_in_a_stored_output_fails(pattern, replace):
    stored, fresh, cell = _first_change(pattern, replace)
    problems = notebook_differences(stored, fresh)
    assert len(problems) == 1 and problems[0].startswith(f"cell {cell}:"), problems


def test_cells_whose_output_is_not_compared_are_tagged():
    # Timings and unseeded dropout differ on every run: such cells carry nbval's
    # tag, and nothing else is skipped.
    stored = nbformat.read(ROOT / "solutions" / "05_regularization_dropout.ipynb", as_version=4)
    tagged = [i for i, c in enumerate(stored.cells)
              if "nbval-ignore-output" in c.metadata.get("tags", [])]
    assert tagged
    fresh = _map_texts(stored, lambda text, i: text + " 1e9 changed" if i in tagged else text)
    assert notebook_differences(stored, fresh) == []
    other = next(i for i, c in enumerate(stored.cells)
                 if c.cell_type == "code" and c.outputs and i not in tagged)
    fresh = _map_texts(stored, lambda text, i: text + " changed" if i == other else text)
    problems = notebook_differences(stored, fresh)
    assert len(problems) == 1 and problems[0].startswith(f"cell {other}:"), problems
