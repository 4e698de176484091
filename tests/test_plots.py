"""The public plotting API (meliso.analysis.plots): the structural checker finds what a reviewer
would reject, and the builders' figures pass it for any population, heavy tails included."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgb

from meliso.analysis import plots
from meliso.analysis.fits import fit_distributions
from meliso.analysis.stats import summarize


def test_checker_finds_missing_labels_and_empty_panels():
    fig, (a, _) = plt.subplots(1, 2)
    a.plot([0, 1], [0, 1])
    problems = plots.figure_problems(fig)
    plt.close(fig)
    assert any("panel 1" in p and "x axis has no label" in p for p in problems)
    assert any("panel 1" in p and "y axis has no label" in p for p in problems)
    assert any("panel 2" in p and "empty" in p for p in problems)


def test_checker_finds_a_legend_on_the_data():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 200)
    ax.plot(x, np.full_like(x, 0.95), label="flat near the top")
    ax.plot(x, np.full_like(x, 0.05), label="flat near the bottom")
    ax.set_ylim(0, 1)
    ax.set_xlabel("x (a.u.)")
    ax.set_ylabel("y (a.u.)")
    ax.legend(loc="upper right")
    problems = plots.figure_problems(fig)
    plt.close(fig)
    assert any("legend covers" in p for p in problems), problems


def test_checker_passes_a_clean_figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="identity")
    ax.set_xlabel("x (a.u.)")
    ax.set_ylabel("y (a.u.)")
    fig.legend(loc="outside right upper")
    assert plots.figure_problems(fig) == []
    plt.close(fig)


def test_series_styles_are_distinct_and_colour_blind_safe():
    """Twelve series (more than any meliso figure) get twelve distinct (colour, marker) pairs
    from the Okabe-Ito palette."""
    okabe_ito = {to_rgb(c) for c in ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                                     "#D55E00", "#CC79A7", "#000000")}
    styles = [plots.series_style(i) for i in range(12)]
    assert len({(s["color"], s["marker"]) for s in styles}) == 12
    assert {to_rgb(s["color"]) for s in styles} <= okabe_ito
    assert len({s["color"] for s in styles[:len(plots.PALETTE)]}) == len(plots.PALETTE)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("with_nl", False, "without non-linearity"),
    ("c2c", 0.035, "3.5 %"),
    ("r_p_ohm", 2.5, "2.5 Ω"),
])
def test_legends_in_words_and_axes_with_units(name, value, words):
    label = plots.value_label(name, value)
    assert words in label and name not in label and "False" not in label


def test_axis_units():
    assert "%" in plots.axis_label("c2c") and "Ω" in plots.axis_label("r_p_ohm")
    assert list(plots.axis_values("c2c", [0.01, 0.05])) == pytest.approx([1.0, 5.0])
    assert "units of A·x" in plots.ERROR_LABEL


def test_error_axis_is_shared_and_holds_every_central_range():
    rng = np.random.default_rng(0)
    narrow, wide = rng.normal(0, 0.1, 5000), rng.normal(0, 3.0, 5000)
    lo, hi = plots.error_axis([narrow, wide])
    for e in (narrow, wide):
        p_lo, p_hi = np.percentile(e, [2.5, 97.5])
        assert lo <= p_lo and p_hi <= hi
    assert hi - lo < 1.5 * (np.percentile(wide, 97.5) - np.percentile(wide, 2.5))


@settings(max_examples=25)
@given(st.integers(1, 6), st.floats(0.5, 6.0), st.integers(0, 2**31 - 1))
def test_overlaid_densities_pass_the_checker_for_any_tails(n_series, tail_index, seed):
    """Student-t populations from light to Cauchy-like tails, any number of series: one shared
    error axis, labelled, legend clear of the data, and a caption that states what the axis
    leaves out."""
    rng = np.random.default_rng(seed)
    series = [(f"device {k}", rng.standard_t(tail_index, 2000) * (k + 1)) for k in range(n_series)]
    fig, caption = plots.overlaid_densities(series, title="populations")
    try:
        assert plots.figure_problems(fig) == []
        main = [ax for ax in fig.axes if ax.get_label() != plots.INSET]
        assert len({ax.get_xlim() for ax in main}) == 1  # one error axis for all
        assert "outside" in caption or "%" in caption
    finally:
        plt.close(fig)


def test_histogram_grid_shares_its_axis_and_names_the_fit():
    rng = np.random.default_rng(1)
    panels = []
    for k in range(4):
        e = rng.normal(0, 1 + 0.2 * k, 3000)
        fit = fit_distributions(e, families=("normal", "johnsonsu")).best
        panels.append((f"σ = {1 + 0.2 * k:g}", e, fit))
    fig, _ = plots.histogram_grid(panels)
    try:
        assert plots.figure_problems(fig) == []
        data_axes = [ax for ax in fig.axes if ax.has_data()]
        assert len(data_axes) == 4 and len({ax.get_xlim() for ax in data_axes}) == 1
        titles = " ".join(ax.get_title() for ax in data_axes)
        assert "Normal" in titles or "Johnson SU" in titles
    finally:
        plt.close(fig)


def test_spread_against_and_box_plots_pass_the_checker():
    rng = np.random.default_rng(2)
    xs = [0.0, 0.01, 0.02, 0.05]
    series = {}
    for nl in (False, True):
        stats = []
        for c2c in xs:
            e = rng.normal(0, 0.1 + 5 * c2c + 0.2 * nl, 2000)
            s = summarize(e)
            s.update(variance_ci_low=0.9 * s["variance"], variance_ci_high=1.1 * s["variance"])
            stats.append(s)
        series[plots.value_label("with_nl", nl)] = (xs, stats)
    fig, _ = plots.spread_against(series, x_name="c2c", title="C-to-C sweep")
    assert plots.figure_problems(fig) == []
    plt.close(fig)
    fig, _ = plots.box_plots(list(series), [s[-1] for _, s in series.values()])
    assert plots.figure_problems(fig) == []
    plt.close(fig)


def test_save_figure_writes_png_and_pdf(tmp_path):
    fig, _ = plots.overlaid_densities([("a", np.random.default_rng(3).normal(size=500))])
    paths = plots.save_figure(fig, tmp_path / "devices")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
