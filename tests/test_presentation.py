"""Tests of rbmlib.presentation: one registry of series, one table renderer, the glue helpers."""

from __future__ import annotations

import itertools

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from rbmlib.experiments import LINEAR_METHODS
from rbmlib.presentation import (
    FAMILIES,
    SERIES,
    format_number,
    join_words,
    label,
    line_kwargs,
    mean_pm,
    prose_number,
    render_table,
    scenario_label,
    series,
    spread_decimals,
)

# Machado, Oliveira & Fernandes (2009), severity 1.0, in linear RGB: how a dichromat sees a colour.
_DICHROMATS = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
}


def _linear_rgb(colour: str) -> np.ndarray:
    c = np.array(mcolors.to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def test_every_family_member_is_in_the_registry_and_every_linear_model_has_a_series():
    for members in FAMILIES.values():
        assert set(members) <= set(SERIES)
    assert set(LINEAR_METHODS) <= set(FAMILIES["linear"])


def test_deep_family_covers_every_deep_method():
    methods = pytest.importorskip("rbmlib.deep.methods")
    assert set(methods.METHODS) == set(FAMILIES["deep"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_series_of_a_family_differ_by_marker_so_figures_read_in_greyscale(family):
    members = FAMILIES[family]
    markers = [SERIES[k].marker for k in members]
    assert len(set(markers)) == len(markers), markers
    colours = [
        SERIES[k].colour for k in members if not k.endswith("_masked")
    ]  # a masked update keeps its mask's colour
    assert len(set(colours)) == len(colours), colours
    labels = [SERIES[k].label for k in members]
    assert len(set(labels)) == len(labels)


def test_data_set_colours_are_never_model_colours():
    """Vermillion means RBM everywhere; the forgetting data never borrow a model's colour."""
    data = {SERIES[k].colour for k in FAMILIES["data"]}
    assert not data & {SERIES[k].colour for k in FAMILIES["linear"]}


@pytest.mark.parametrize("vision", sorted(_DICHROMATS))
def test_linear_model_colours_stay_apart_for_dichromats(vision):
    """The five models that share the linear figures stay distinct for red-green colour blindness:
    every pair differs by at least 0.15 in simulated sRGB (0 = identical, sqrt(3) = black/white)."""
    keys = ("original", "golden", "ft", "rbm", "fbm")
    seen = {k: _srgb(_DICHROMATS[vision] @ _linear_rgb(SERIES[k].colour)) for k in keys}
    for a, b in itertools.combinations(keys, 2):
        assert np.linalg.norm(seen[a] - seen[b]) >= 0.15, (vision, a, b)


def test_unknown_series_names_the_known_ones():
    with pytest.raises(KeyError, match="known"):
        series("nope")
    assert label("nope") == "nope" and label("rbm_reset") == "RBM-reset"


def test_line_kwargs_draw_hollow_series_with_a_white_face():
    kw = line_kwargs("original")
    assert kw["markerfacecolor"] == "white" and kw["label"] == "original"
    assert "markerfacecolor" not in line_kwargs("ft") and "marker" not in line_kwargs("ft", with_marker=False)


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.0, 3, "0"),
        (-1e-40, 3, "-1.00e-40"),
        (-0.0001, 2, "-1.0e-04"),
        (-0.0004, 1, "-4e-04"),
        (0.12345, 3, "0.123"),
        (12.345, 3, "12.3"),
        (12345.6, 3, "12346"),
        (2.5e7, 2, "2.5e+07"),
        (7, 3, "7"),
        (np.int64(7), 3, "7"),
        (float("nan"), 3, "—"),
        (None, 3, "—"),
        ("x", 3, "x"),
        (-0.00049, 1, "-5e-04"),
        (0.0012, 1, "0.001"),
        (-0.00104, 1, "-0.001"),
    ],
)
def test_format_number_uses_significant_digits_and_never_prints_minus_zero(value, digits, text):
    assert format_number(value, digits) == text


def test_mean_pm_turns_minus_zero_into_zero_and_missing_spread_into_zero():
    assert mean_pm(-0.01, 0.2, 1) == "0.0 ± 0.2"
    assert mean_pm(3.0, float("nan"), 2) == "3.00 ± 0.00"
    assert mean_pm(float("nan"), 1.0) == "n/a"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5e-4, "5\u00a0×\u00a010⁻⁴"),
        (3.31e-4, "3.3\u00a0×\u00a010⁻⁴"),
        (1e-6, "1\u00a0×\u00a010⁻⁶"),
        (9.96e-4, "1\u00a0×\u00a010⁻³"),
        (-2.53e17, "−2.5\u00a0×\u00a010¹⁷"),
        (0.01, "0.01"),
        (45_000, "45,000"),
        (1760.0, "1,760"),
        (0, "0"),
    ],
)
def test_prose_number_writes_powers_of_ten_with_superscripts(value, text):
    assert prose_number(value) == text


@pytest.mark.parametrize(
    ("spread", "decimals"), [(0.9, 1), (1.3, 1), (250.0, 1), (0.04, 2), (0.0099, 3), (3e-4, 4), (1e-9, 6), (0.0, 1)]
)
def test_spread_decimals_show_the_first_significant_digit_of_the_spread(spread, decimals):
    assert spread_decimals(spread) == decimals


def test_mean_pm_with_automatic_decimals_never_prints_a_standard_error_of_zero():
    assert mean_pm(0.2081, 0.0093, None) == "0.208 ± 0.009"
    assert mean_pm(183.42, 3.21, None) == "183.4 ± 3.2"
    assert mean_pm(5.0, float("nan"), None) == "5.0 ± 0.0"  # no spread: the default one decimal


def test_loss_names_in_cells_are_shown_like_their_headers():
    frame = pd.DataFrame({"method": ["rbm"], "metric": ["fresh_remaining_loss"], "theory": ["154.0"]})
    text = render_table(frame)
    assert "| RBM | fresh remaining loss | 154.0 |" in text
    assert "fresh_remaining_loss" in render_table(frame, labels=False)


def test_markdown_table_drops_a_range_index_and_shows_readable_headers_and_labels():
    frame = pd.DataFrame({"model": ["rbm_reset", "ft"], "forgetting_loss": [0.5, 1e-20]})
    text = render_table(frame)
    lines = text.splitlines()
    assert lines[0] == "| model | forgetting loss |"
    assert lines[1] == "|---|---|"
    assert lines[2:] == ["| RBM-reset | 0.500 |", "| FT | 1.00e-20 |"]
    assert "rbm_reset" not in text and "| 0 |" not in text


def test_a_named_index_becomes_the_first_column():
    frame = pd.DataFrame({"UA": ["1.0 ± 0.1"]}, index=pd.Index(["salun"], name="method"))
    assert render_table(frame).splitlines()[2] == "| SalUn | 1.0\u00a0±\u00a00.1 |"


def test_text_table_aligns_columns_and_keeps_keys_when_asked():
    rows = [{"model": "golden", "x_y": 1.5}, {"model": "fbm_masked", "x_y": 20}]
    lines = render_table(rows, style="text", labels=False, headers={"x_y": "x_y"}).splitlines()
    assert lines[0].split() == ["model", "x_y"] and set(lines[1]) == {"-", " "}
    assert [line.split()[0] for line in lines[2:]] == ["golden", "fbm_masked"]
    assert lines[2].index("1.50") == lines[3].index("20") == lines[0].index("x_y")


def test_markdown_cells_escape_pipes():
    assert "a \\| b" in render_table([{"c": "a | b"}])


def test_bad_style_or_digits_are_refused():
    with pytest.raises(ValueError, match="style"):
        render_table([{"a": 1}], style="html")
    with pytest.raises(ValueError, match="digits"):
        render_table([{"a": 1}], digits=0)


def test_glue_helpers_glue_values_tables_and_close_figures(monkeypatch):
    import matplotlib.pyplot as plt
    import myst_nb

    glued: dict[str, object] = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: glued.__setitem__(key, (value, display)))
    from rbmlib.presentation import glue_figure, glue_markdown, glue_table, glue_values

    glue_values({"a-b": 2}, a=1, b="x")
    fig = plt.figure()
    glue_figure("fig", fig)
    glue_table("tab", [{"model": "rbm", "se": 0.25}])
    glue_markdown("md", "**x**")
    assert glued["a"] == (1, False) and glued["b"] == ("x", False) and glued["a-b"] == (2, False)
    assert glued["fig"][0] is fig and not plt.fignum_exists(fig.number)
    assert glued["tab"][0].data.splitlines()[2] == "| RBM | 0.250 |" and glued["md"][0].data == "**x**"


def test_mean_pm_cells_never_wrap_in_the_book_but_stay_plain_in_a_terminal():
    rows = [{"method": "rbm", "ua": "0.8 ± 0.2"}]
    assert "0.8\u00a0±\u00a00.2" in render_table(rows)
    assert "0.8 ± 0.2" in render_table(rows, style="text")


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("random:0.1", "random 10\u00a0%"),
        ("class:3", 'class "3"'),
        ("noisy:0.25", "mislabelled 25\u00a0%"),
        ("random:x", "random:x"),
        ("other", "other"),
    ],
)
def test_scenario_labels_read_as_words_and_leave_unknown_text_alone(scenario, text):
    assert scenario_label(scenario) == text


def test_spread_decimals_can_keep_two_significant_digits_within_bounds():
    assert spread_decimals(1.31, minimum=0, significant=2) == 1  # 1.3
    assert spread_decimals(0.0038, minimum=0, significant=2) == 4  # 0.0038
    assert spread_decimals(2.3e-31, minimum=0, maximum=7, significant=2) == 7  # capped


def test_join_words_lists_like_a_sentence():
    assert [join_words(w) for w in (["FT"], ["FT", "RBM"], ["FT", "SalUn", "RBM"])] == [
        "FT",
        "FT and RBM",
        "FT, SalUn and RBM",
    ]
