"""Interactive widgets for the lessons: the only module that imports ipywidgets.

Each widget is a thin slider over a plain function that can be tested and
used without a live kernel: :func:`secant_view` computes the numbers,
:func:`draw_secants` draws them (also the static figure of the lesson), and
:func:`secant_slider` puts a slider for ``h`` on top.
"""

from dataclasses import dataclass

import ipywidgets
import numpy as np

__all__ = ["SecantView", "draw_secants", "secant_slider", "secant_view"]


@dataclass(frozen=True)
class SecantView:
    """The secant of ``f`` through ``x0`` and ``x0 + h`` next to the tangent.

    Attributes
    ----------
    x0, h : float
    slope : float
        ``(f(x0 + h) - f(x0)) / h``, the secant's slope.
    intercept : float
        Where the secant crosses ``x = 0``.
    tangent_slope : float
        ``df(x0)``, the exact derivative.
    error : float
        ``slope - tangent_slope``.
    """

    x0: float
    h: float
    slope: float
    intercept: float
    tangent_slope: float
    error: float

    def __str__(self):
        return (f"h = {self.h:.3g}: secant slope {self.slope:.6f}, tangent slope "
                f"{self.tangent_slope:.6f}, error {self.error:+.2e}")


def secant_view(f, df, x0, h):
    """Compute the secant through ``(x0, f(x0))`` and ``(x0 + h, f(x0 + h))``.

    Parameters
    ----------
    f, df : callable
        The function and its exact derivative, float -> float.
    x0, h : float
        The point and the step; ``h`` must not be 0.

    Returns
    -------
    SecantView

    Raises
    ------
    ValueError
        If ``h`` is 0: the secant needs two distinct points.

    Examples
    --------
    >>> v = secant_view(lambda x: x**2, lambda x: 2 * x, 1.0, 1.0)
    >>> v.slope, v.intercept, v.error
    (3.0, -2.0, 1.0)
    """
    x0, h = float(x0), float(h)
    if h == 0.0:
        raise ValueError("h = 0 gives no secant (0/0): choose a nonzero step such as h = 0.1")
    slope = float((f(x0 + h) - f(x0)) / h)
    tangent = float(df(x0))
    return SecantView(x0, h, slope, float(f(x0)) - slope * x0, tangent, slope - tangent)


def draw_secants(f, df, x0, hs, ax=None, span=2.0):
    """Draw ``f``, its tangent at ``x0`` and the secants for each step in ``hs``.

    Parameters
    ----------
    f, df : callable
        The function and its exact derivative (vectorized over numpy arrays).
    x0 : float
        Where the tangent touches.
    hs : sequence of float
        The steps; larger ones are drawn lighter.
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    span : float
        The x-range is ``x0 - span/2 .. x0 + span``.

    Returns
    -------
    list of SecantView
        One per step, in the order of ``hs``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    xs = np.linspace(x0 - span / 2, x0 + span, 200)
    ax.plot(xs, f(xs), color="black", lw=2, label="f")
    views = [secant_view(f, df, x0, h) for h in hs]
    shades = plt.cm.Blues(np.linspace(0.35, 0.9, len(views)))
    for view, color in zip(views, shades, strict=True):
        ax.plot(xs, view.slope * xs + view.intercept, color=color,
                label=f"secant, h = {view.h:g} (slope {view.slope:.3f})")
        ax.plot([x0, x0 + view.h], [f(x0), f(x0 + view.h)], "o", color=color)
    ax.plot(xs, df(x0) * (xs - x0) + f(x0), "--", color="crimson",
            label=f"tangent (slope {float(df(x0)):.3f})")
    lo, hi = float(np.min(f(xs))), float(np.max(f(xs)))
    ax.set_ylim(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(fontsize=8, loc="upper left")
    return views


def secant_slider(f, df, x0, h=0.5, h_min=1e-3, h_max=1.0):
    """A slider for ``h`` that redraws the secant and prints its slope error.

    Parameters
    ----------
    f, df : callable
        The function and its exact derivative (vectorized).
    x0 : float
        Where the tangent touches.
    h, h_min, h_max : float
        Initial, smallest and largest step (a logarithmic slider).

    Returns
    -------
    ipywidgets.VBox
        Display it as the last line of a cell.
    """
    import matplotlib.pyplot as plt

    slider = ipywidgets.FloatLogSlider(value=h, base=10, min=np.log10(h_min),
                                       max=np.log10(h_max), step=0.05, description="h",
                                       readout_format=".3g", continuous_update=False)
    out = ipywidgets.Output()

    def redraw(change=None):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6, 4))
            (view,) = draw_secants(f, df, x0, [slider.value], ax=ax)
            ax.set_title(str(view), fontsize=9)
            plt.show()

    slider.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([slider, out])
