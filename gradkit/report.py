"""What ``check_gradients`` returns: a report per tensor, findings in plain English.

``GradientReport`` renders as a table in notebooks (``_repr_html_``) and as
text in a terminal (``str``); ``report.plot()`` draws the error per tensor
against the tolerance.
"""

import html
from dataclasses import dataclass, field

__all__ = ["FINDING_KINDS", "Finding", "GradientReport", "TensorResult"]

#: The vocabulary of ``Finding.kind``.
FINDING_KINDS = (
    "scale", "sign", "transpose", "missing_l2", "extra_l2", "zero",
    "kink", "nondeterministic", "low_precision", "mismatch",
)


@dataclass
class Finding:
    """One thing the checker noticed.

    Attributes
    ----------
    kind : str
        One of ``FINDING_KINDS``.
    parameter : str or None
        The tensor it concerns (None for the whole check).
    message : str
        Plain English: what is wrong and what to do.
    value : float or None
        The number behind it: the scale factor, the L2 factor, ...
    """

    kind: str
    parameter: "str | None"
    message: str
    value: "float | None" = None

    def __str__(self):
        return f"[{self.kind}] {self.message}"


@dataclass
class TensorResult:
    """The check of one named tensor.

    ``how`` is ``"direction"`` (random-direction test only: the error is an
    estimate) or ``"full"`` (every entry differenced). ``worst`` lists up to
    three ``(index, analytic, numeric)`` entries with the largest difference.
    """

    name: str
    shape: tuple
    how: str
    relative_error: float
    passed: bool
    calls: int
    analytic_norm: float
    numeric_norm: float
    error_norm: float
    scale: "float | None" = None
    worst: list = field(default_factory=list)
    kinks: int = 0
    resolved: bool = True  # False: passed only because the error is within f's round-off
    direction: object = field(default=None, repr=False)  # (unit, step, analytic, numeric)
    numeric: object = field(default=None, repr=False)  # the numeric gradient, if entry by entry
    stuck_only: bool = False  # fails only on kinks that no single entry's move resolves
    crossed: bool = False  # the random direction met a kink

    @property
    def estimated(self):
        return self.how == "direction"


@dataclass
class GradientReport:
    """The result of ``check_gradients``.

    Attributes
    ----------
    passed : bool
        True only when the verdict is ``"pass"``.
    verdict : {"pass", "fail", "inconclusive"}
    relative_error : float
        Global normwise ``‖a − n‖ / (‖a‖ + ‖n‖)`` over all tensors (estimated
        for tensors only checked along random directions). NaN if inconclusive.
    per_parameter : dict of str to float
        The same measure per tensor.
    failing : list of str
        The tensors whose error is over the tolerance, in parameter order.
    findings : list of Finding
    tolerance : float
        The relative-error tolerance used, and ``tolerance_reason`` says why.
    method, mode, h : the difference used, ``"auto"`` or ``"full"``, the base step.
    calls : int
        How many times ``f`` was called (``forward``, for a layer check).
    tensors : list of TensorResult
    cost : float
        ``f`` at the given point (for a layer check, ``Σ out · dout``).
    subject : str
        What was differenced: ``"f"``, or ``"forward"`` for a layer check.
    dout : ndarray, tuple or dict, or None
        The upstream gradient a layer check used (None for check_gradients).
    """

    passed: bool
    verdict: str
    relative_error: float
    per_parameter: dict
    failing: list
    findings: list
    tolerance: float
    tolerance_reason: str
    method: str
    mode: str
    h: float
    calls: int
    tensors: list
    cost: float
    subject: str = "f"
    dout: object = None

    def kinds(self):
        """The finding kinds, in order (handy in tests and notebooks)."""
        return [f.kind for f in self.findings]

    def plot(self, ax=None):
        """Bar chart of each tensor's relative error against the tolerance."""
        from gradkit.plotting import gradient_errors

        return gradient_errors(self, ax=ax)

    # ---- rendering -------------------------------------------------------
    def _headline(self):
        n_full = sum(t.how == "full" for t in self.tensors)
        n_dir = len(self.tensors) - n_full
        what = f"{self.method} differences, mode={self.mode}"
        if self.tensors:
            plural = "s" if len(self.tensors) > 1 else ""
            what += (f" ({len(self.tensors)} tensor{plural}: {n_dir} by a random direction, "
                     f"{n_full} entry by entry)")
        if self.verdict == "inconclusive":
            return f"Gradient check INCONCLUSIVE: {what}; {self.calls} calls of {self.subject}."
        status = "PASSED" if self.passed else "FAILED"
        err = _fmt(self.relative_error)
        return (
            f"Gradient check {status}: relative error {err} "
            f"(tolerance {_fmt(self.tolerance)}); {what}; {self.calls} calls of {self.subject}."
        )

    def _rows(self):
        for t in self.tensors:
            status = "ok" if t.passed else "FAIL"
            if t.passed and t.kinks:
                status = "ok (kink)"
            if t.passed and not t.resolved:
                status = "unresolved"
            err = ("~" if t.estimated else "") + _fmt(t.relative_error)
            scale = "" if t.scale is None else f"{t.scale:.4g}"
            worst = "" if t.passed else "; ".join(
                f"{t.name}{list(i)}: {a:.6g} vs {n:.6g}" for i, a, n in t.worst
            )
            yield (t.name, "×".join(map(str, t.shape)) or "scalar", t.how, err, scale,
                   worst, status)

    _HEADER = ("parameter", "shape", "checked", "rel. error", "analytic/numeric",
               "worst entries (analytic vs numeric)", "status")

    def __str__(self):
        lines = [self._headline()]
        rows = [self._HEADER, *self._rows()]
        if len(rows) > 1:
            widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
            for r in rows:
                cells = (str(c).ljust(w) for c, w in zip(r, widths))
                lines.append(("  " + "  ".join(cells)).rstrip())
        for f in self.findings:
            lines.append(f"- {f}")
        lines.append(f"Tolerance: {self.tolerance_reason}")
        return "\n".join(lines)

    def __repr__(self):
        return (
            f"<GradientReport verdict={self.verdict!r} relative_error={_fmt(self.relative_error)}"
            f" failing={self.failing} findings={self.kinds()}>"
        )

    def _repr_html_(self):
        colour = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}[self.verdict]
        esc = html.escape
        parts = [
            "<div class='gradkit-report'>",
            f"<p style='color:{colour};font-weight:bold'>{esc(self._headline())}</p>",
        ]
        if self.tensors:
            parts.append("<table><thead><tr>")
            parts += [f"<th>{esc(h)}</th>" for h in self._HEADER]
            parts.append("</tr></thead><tbody>")
            for row in self._rows():
                style = "" if row[-1].startswith("ok") else " style='color:#cf222e'"
                if row[-1] == "unresolved":
                    style = " style='color:#9a6700'"
                parts.append(f"<tr{style}>" + "".join(f"<td>{esc(str(c))}</td>" for c in row)
                             + "</tr>")
            parts.append("</tbody></table>")
        if self.findings:
            parts.append("<ul>")
            parts += [
                f"<li><b>{esc(f.kind)}</b>: {esc(f.message)}</li>" for f in self.findings
            ]
            parts.append("</ul>")
        parts.append(f"<p><small>Tolerance: {esc(self.tolerance_reason)}</small></p></div>")
        return "".join(parts)


def _fmt(x):
    if x != x:  # NaN
        return "n/a"
    return f"{x:.2e}"
