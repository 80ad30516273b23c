"""The presentation layer of the book and the command lines: one registry of series, one table
renderer, the glue helpers and the matplotlib style.

Every figure, every glued table and both command lines (``linear`` and the deep ``unlearn`` /
``report``) read their names, colours, markers and line styles from :data:`SERIES`, and format
their tables with :func:`render_table`. A method therefore has one name and one look across the
whole book.

Colours come from the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), extended by
four colours of Paul Tol's "muted" scheme where the deep chapter needs more than eight series.
Colour is never the only cue: within each :data:`FAMILIES` entry every series has its own marker,
so a figure also reads in greyscale and in print.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import matplotlib.figure
    import pandas as pd

__all__ = [
    "SeriesStyle",
    "SERIES",
    "FAMILIES",
    "HEADERS",
    "series",
    "scenario_label",
    "label",
    "line_kwargs",
    "format_number",
    "prose_number",
    "join_words",
    "mean_pm",
    "spread_decimals",
    "render_table",
    "book_theme",
    "glue_values",
    "glue_figure",
    "glue_table",
    "glue_markdown",
]


@dataclass(frozen=True)
class SeriesStyle:
    """How one model, method or data set looks in every figure and table.

    Attributes
    ----------
    label : str
        Display name (MyST/mathtext allowed, e.g. ``$\\ell_1$-sparse``).
    colour : str
        Hex colour.
    marker : str
        Matplotlib marker; unique within each family of :data:`FAMILIES`.
    linestyle : str
        Matplotlib line style of the series' lines.
    hollow : bool
        Draw filled markers with a white face, so that a point hidden under another series'
        point (FT on top of the original) still shows its outline.
    """

    label: str
    colour: str
    marker: str
    linestyle: str = "-"
    hollow: bool = False


# Okabe–Ito: black, orange, sky blue, bluish green, blue, vermillion, reddish purple (yellow is
# too light on white for thin lines and is left out); a dark grey for the untouched original (a
# mid grey is confused with the bluish green under deuteranopia, see tests/test_presentation.py).
_GREY, _ORANGE, _SKY, _GREEN = "#444444", "#e69f00", "#56b4e9", "#009e73"
_BLUE, _VERMILLION, _PURPLE, _BLACK = "#0072b2", "#d55e00", "#cc79a7", "#000000"
# Paul Tol's muted scheme, for the deep methods beyond eight and for the two data sets.
_INDIGO, _WINE, _OLIVE, _TEAL = "#332288", "#882255", "#999933", "#44aa99"

#: Every series of the book, keyed by the identifier the library and the CLIs' JSON use.
SERIES: Mapping[str, SeriesStyle] = {
    # Models of the linear chapters (Chapters 1-5, 7) and the linear CLI's rows.
    "original": SeriesStyle("original", _GREY, "s", ":", hollow=True),
    "golden": SeriesStyle("golden (retrained)", _GREEN, "o", "--", hollow=True),
    "ft": SeriesStyle("FT", _BLUE, "x"),
    "rbm": SeriesStyle("RBM", _VERMILLION, "^"),
    "fbm": SeriesStyle("FBM", _PURPLE, "v"),
    "rbm_masked": SeriesStyle("RBM, masked update", _VERMILLION, "D", "-."),
    "fbm_masked": SeriesStyle("FBM, masked update", _PURPLE, "P", "-."),
    # Methods of the deep chapter (Chapter 6) that the linear chapters do not have. Retrain is the
    # golden model and SalUn the forgetting-based mask, so they share those colours.
    "retrain": SeriesStyle("Retrain", _GREEN, "o", "--"),
    "ga": SeriesStyle("GA", _ORANGE, "<"),
    "rl": SeriesStyle("RL", _SKY, ">"),
    "l1": SeriesStyle(r"$\ell_1$-sparse", _OLIVE, "p"),
    "salun": SeriesStyle("SalUn", _PURPLE, "v"),
    "random": SeriesStyle("random mask", _BLACK, "P", "-."),
    "rbm_grad": SeriesStyle("RBM-grad", _WINE, "D"),
    "rbm_layer": SeriesStyle("RBM-layer", _INDIGO, "h"),
    "rbm_reset": SeriesStyle("RBM-reset", _TEAL, "*"),
    # The two data sets of loss curves and saliency plots: colours no linear model uses, so that
    # vermillion always means RBM and never "forgetting data"; dark and light, so they also
    # differ in greyscale.
    "remaining": SeriesStyle(r"remaining $D_r$", _INDIGO, "o", "-"),
    "forgetting": SeriesStyle(r"forgetting $D_f$", _OLIVE, "s", "--"),
}

#: Groups of series that can share a figure; markers (and colours) are unique within each.
FAMILIES: Mapping[str, tuple[str, ...]] = {
    "linear": ("original", "golden", "ft", "rbm", "fbm", "rbm_masked", "fbm_masked"),
    "deep": (
        "original",
        "retrain",
        "ft",
        "ga",
        "rl",
        "l1",
        "salun",
        "random",
        "rbm",
        "rbm_grad",
        "rbm_layer",
        "rbm_reset",
    ),
    "data": ("remaining", "forgetting"),
}

#: Readable column headers for identifiers that reach a table (library columns, CLI keys).
HEADERS: Mapping[str, str] = {
    "model": "model",
    "method": "method",
    "metric": "quantity",
    "kind": "formula",
    "forgetting_loss": "forgetting loss",
    "remaining_loss": "remaining loss",
    "fresh_remaining_loss": "fresh remaining loss",
    "theory": "closed form",
    "mean": "Monte Carlo mean",
    "se": "s.e.",
    "z": "z",
    "rel_error": "relative error",
    "reason": "why no formula",
    "ua": "UA",
    "ra": "RA",
    "ta": "TA",
    "mia": "MIA",
    "avg_gap": "Avg. Gap",
    "rte_s": "RTE (s)",
    "mask_ratio": "mask ratio",
    "ratio": "mask ratio",
    "n_seeds": "seeds",
}


def scenario_label(scenario: str) -> str:
    """A forgetting scenario as a reader reads it: ``"random:0.1"`` → ``"random 10 %"``,
    ``"class:3"`` → ``'class "3"'``, ``"noisy:0.1"`` → ``"mislabelled 10 %"``.

    The identifiers are those of :func:`rbmlib.deep.splits.parse_scenario` (the CLIs and the CSV
    keep them); anything else is returned unchanged. Pure text, so it needs no torch.
    """
    kind, _, value = scenario.partition(":")
    if kind == "class" and value:
        return f'class "{value}"'
    if kind not in ("random", "noisy"):
        return scenario
    try:
        share = f"{100 * float(value):g}\u00a0%"
    except ValueError:
        return scenario
    return f"random {share}" if kind == "random" else f"mislabelled {share}"


def series(key: str) -> SeriesStyle:
    """The :class:`SeriesStyle` of ``key``; ``KeyError`` naming the known keys otherwise."""
    try:
        return SERIES[key]
    except KeyError:
        raise KeyError(f"no series {key!r}; known: {sorted(SERIES)}") from None


def label(key: str) -> str:
    """Display name of a series key; keys outside the registry are returned unchanged."""
    return SERIES[key].label if key in SERIES else key


def line_kwargs(key: str, *, with_marker: bool = True, with_label: bool = True) -> dict[str, Any]:
    """Keyword arguments of ``ax.plot`` / ``ax.errorbar`` that draw ``key`` in its registry style.

    Hollow series get a white marker face, so that a coinciding series drawn on top (FT over the
    original) leaves their outline visible.
    """
    s = series(key)
    out: dict[str, Any] = {"color": s.colour, "linestyle": s.linestyle}
    if with_marker:
        out["marker"] = s.marker
        if s.hollow:
            out["markerfacecolor"] = "white"
    if with_label:
        out["label"] = s.label
    return out


def format_number(value: object, digits: int = 3) -> str:
    """A number as a table shows it: ``digits`` significant digits, no ``-0``, ``—`` for missing.

    Integers print as integers; magnitudes in ``[10**-3, 10**5)`` in fixed notation, others in
    scientific notation (``1.2e-15``); exact zeros and values that round to zero print as ``0``.
    Anything that is not a number is returned as ``str(value)``.
    """
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if isinstance(value, Integral):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
        text = f"{x:.{decimals}f}"
        return "0" if float(text) == 0 else text
    return f"{x:.{max(digits - 1, 0)}e}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def prose_number(value: float, digits: int = 2) -> str:
    """A number as a sentence shows it: ``5 × 10⁻⁴`` rather than ``5e-04``.

    Magnitudes in ``[10**-3, 10**5)`` (and zero) print as :func:`format_number` does, without
    trailing zeros; smaller or
    larger ones as ``digits`` significant digits times a power of ten with a superscript exponent,
    trailing zeros dropped (``3.3 × 10⁻⁴``, ``1 × 10⁻⁶``); whole numbers with thousands separators
    (``45,000``).
    """
    x = float(value)
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"  # a count: 45,000
    if x == 0 or not math.isfinite(x) or 1e-3 <= abs(x) < 1e5:
        text = format_number(x, digits)
        return text.rstrip("0").rstrip(".") if "." in text else text  # a sentence says 0.01, not 0.010
    mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    # No-break spaces around the times sign: the number never wraps inside a sentence.
    return f"{mantissa.replace('-', '−')}\u00a0×\u00a010{str(int(exponent)).translate(_SUPERSCRIPT)}"


def join_words(words: Sequence[str]) -> str:
    """Items as a sentence lists them: ``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


def spread_decimals(spread: float, minimum: int = 1, maximum: int = 6, significant: int = 1) -> int:
    """Decimals that show the first ``significant`` digits of ``spread``, within
    ``[minimum, maximum]``.

    ``0.9 -> 1``, ``0.04 -> 2``, ``0.0003 -> 4``: a standard error never prints as ``0.0``. Zero or a
    non-finite spread gives ``minimum``.
    """
    if spread is None or not math.isfinite(spread) or spread <= 0:
        return minimum
    return int(min(max(minimum, significant - 1 - math.floor(math.log10(spread))), maximum))


def mean_pm(mean: float, spread: float, digits: int | None = 1) -> str:
    """``"mean ± spread"`` with ``digits`` decimals, ``-0.0`` shown as ``0.0``; ``"n/a"`` for a
    non-finite mean (a missing spread, e.g. one seed, counts as 0).

    ``digits=None`` picks the decimals from the spread (:func:`spread_decimals`), so that a small
    standard error keeps its first significant digit: ``0.21 ± 0.04``, not ``0.2 ± 0.0``.
    """
    if not math.isfinite(mean):
        return "n/a"
    spread = 0.0 if spread is None or not math.isfinite(spread) else spread
    if digits is None:
        digits = spread_decimals(spread)
    m, s = (round(float(v), digits) + 0.0 for v in (mean, spread))  # + 0.0 turns -0.0 into 0.0
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def _records(table: pd.DataFrame | Sequence[Mapping[str, object]]) -> tuple[list[str], list[list[object]]]:
    """Column names and rows of a frame (a named index becomes the first column) or of records."""
    if hasattr(table, "columns"):  # a pandas DataFrame
        import pandas as pd

        frame = pd.DataFrame(table)  # a DataFrame already: no copy of its data
        if not isinstance(frame.index, pd.RangeIndex) or any(n is not None for n in frame.index.names):
            unnamed = all(n is None for n in frame.index.names)
            frame = frame.reset_index()  # a meaningful index is a column; a RangeIndex is dropped
            if unnamed:  # pandas calls it "index": a header the reader should not see
                frame = frame.rename(columns={frame.columns[0]: ""})
        return [str(c) for c in frame.columns], frame.to_numpy(dtype=object).tolist()
    rows = list(table)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns, [[row.get(c) for c in columns] for row in rows]


def render_table(
    table: pd.DataFrame | Sequence[Mapping[str, object]],
    *,
    headers: Mapping[str, str] | None = None,
    digits: int = 3,
    style: str = "markdown",
    labels: bool = True,
) -> str:
    """The one table renderer of the book and the command lines.

    Parameters
    ----------
    table : pandas.DataFrame or sequence of dict
        The rows. A DataFrame's named (or non-range) index becomes the first column; a plain
        ``RangeIndex`` (0, 1, 2, …) is never shown.
    headers : mapping of str to str, optional
        Column headers, on top of :data:`HEADERS`; a column in neither gets its name with
        underscores replaced by spaces.
    digits : int
        Significant digits of numeric cells (:func:`format_number`); strings are kept as given.
    style : {"markdown", "text"}
        A MyST pipe table (for ``{glue:md}``; ``mean ± spread`` cells get no-break spaces so they
        never wrap), or a fixed-width text table with a rule under the header (for a terminal).
    labels : bool
        Show registry keys (``rbm_reset``) by their display names (``RBM-reset``), and the
        losses of :data:`rbmlib.simulation.METRICS` by their headers (``fresh_remaining_loss``:
        "fresh remaining loss"), in cells as in column headers.

    Returns
    -------
    str
        The table, lines joined by ``\\n``.
    """
    from rbmlib.simulation import METRICS  # the losses' one list (a metric column's cells)

    if style not in ("markdown", "text"):
        raise ValueError(f"style must be 'markdown' or 'text', got {style!r}")
    if digits < 1:
        raise ValueError(f"digits must be >= 1, got {digits}")
    names = {**HEADERS, **(headers or {})}
    columns, rows = _records(table)
    head = [names.get(c, c.replace("_", " ")) for c in columns]

    def cell(value: object) -> str:
        if isinstance(value, str):
            text = value
            if labels and value in SERIES:
                text = label(value)
            elif labels and value in METRICS:
                text = HEADERS[value]
        else:
            text = format_number(value, digits)
        if style == "text":
            return text
        # "12.3 ± 0.4" is one number: no-break spaces keep it on one line in a narrow column.
        return text.replace(" ± ", "\u00a0±\u00a0").replace("|", "\\|")

    body = [[cell(v) for v in row] for row in rows]
    if style == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(lines)


def book_theme() -> dict[str, object]:
    """The matplotlib ``rc`` of every figure of the book.

    Apply it once per notebook with ``seaborn.set_theme(style="ticks", rc=book_theme())`` (never
    inside a library function). Fonts are sized for a figure shown at about its natural width:
    9-pt legends and 10-pt labels stay legible when a two-panel figure shrinks to a phone screen.
    """
    return {
        # The book's images are the inline backend's, which renders at figure.dpi (savefig.dpi only
        # reaches saved files): 144 keeps them crisp on a phone and in the zoom-on-click view.
        "figure.dpi": 144,
        "savefig.dpi": 144,
        "font.size": 10,
        "axes.titlesize": 10,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "legend.frameon": False,
        "lines.linewidth": 1.6,
        "lines.markersize": 5.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def glue_values(values: Mapping[str, object] | None = None, /, **named: object) -> None:
    """``myst_nb.glue(key, value, display=False)`` for every entry of ``values`` and every keyword:
    numbers and words for prose (``values`` takes keys that are not identifiers, ``"ch2-max-z"``).

    Round in the caller (``round(x, 4)``) or format with the role's spec
    (``{glue:text}`key:.2f```) so that the glued text is the same on every machine.
    """
    from myst_nb import glue

    for key, value in {**(values or {}), **named}.items():
        glue(key, value, display=False)


def glue_figure(key: str, fig: matplotlib.figure.Figure) -> None:
    """Glue ``fig`` under ``key`` for a ``{glue:figure}`` directive, then close it.

    Closing is what keeps the figure from showing a second time at the end of the cell.
    """
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(key, fig, display=False)
    plt.close(fig)


def glue_table(key: str, table: pd.DataFrame | Sequence[Mapping[str, object]], **render: Any) -> None:
    """Glue :func:`render_table` of ``table`` as Markdown, for ``{glue:md}`` with ``:format: myst``."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, Markdown(render_table(table, style="markdown", **render)), display=False)


def glue_markdown(key: str, text: str) -> None:
    """Glue MyST source ``text`` (a verdict block, a list) for ``{glue:md}`` with ``:format: myst``."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, Markdown(text), display=False)
