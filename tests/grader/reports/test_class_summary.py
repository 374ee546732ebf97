import pytest

from grader.reports import charts
from grader.reports.class_summary import (exercise_means, render_class_summary, score_bins, pass_rate_rows,
                                          write_class_summary)
from grader.reports.feedback_html import write_html
from grader.reports.options import ReportOptions
from grader.reports.wording import explain_diagnosis
from tests.grader.reports.html_checks import check_page, chromium, png_size_and_variety, screenshot
from tests.grader.reports.sample_batch import ada, ben, cleo, dev, sample_batch


@pytest.fixture
def no_matplotlib(monkeypatch):
    monkeypatch.setattr(charts, "charts_available", lambda: False)


@pytest.mark.parametrize("percents, bins", [
    ([], [0] * 10),
    ([0.0, 9.99, 10.0, 100.0, 99.9, 55.0], [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]),
    ([-1.0, 150.0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
])
def test_score_bins(percents, bins):
    assert score_bins(percents) == bins


def test_pass_rates_hardest_first_with_their_most_common_diagnosis():
    rows = pass_rate_rows([ada(), ben(), cleo()])
    rates = [r["rate"] for r in rows]
    assert rates == sorted(rates)
    values = next(r for r in rows if r["test"] == "ex1.values")
    assert (values["passed"], values["graded"], values["rate"]) == (1, 2, 0.5)
    gradcheck = next(r for r in rows if r["test"] == "backward.gradcheck")
    assert gradcheck["diagnoses"].most_common(1) == [("batch_mean_twice", 1)]


def test_exercise_means():
    means = dict((name, (mean, top)) for name, mean, top in exercise_means([ada(), ben()]))
    assert means["ex3_mlp_backprop"] == (1.5, 3.0)


def test_the_page_has_every_section_and_is_well_formed():
    html = render_class_summary(sample_batch())
    check_page(html)
    for heading in ("Scores", "Exercises", "Most common diagnoses", "Grading problems", "Pass rate per test",
                    "Students"):
        assert f">{heading}</h2>" in html
    assert explain_diagnosis("batch_mean_twice").split(":")[0] in html
    assert "<code>batch_mean_twice</code> ×1" in html  # the most common diagnosis on backward.gradcheck


@pytest.mark.skipif(not charts.charts_available(), reason="matplotlib (the instructor extra) is not installed")
def test_with_matplotlib_the_charts_are_inline_svg():
    html = render_class_summary(sample_batch())
    assert html.count("<svg ") == 2 and 'role="img" aria-label="Histogram' in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert "<details><summary>As a table</summary>" in html
    assert render_class_summary(sample_batch()) == html  # same data, same bytes


def test_without_matplotlib_tables_only(no_matplotlib):
    html = render_class_summary(sample_batch())
    check_page(html)
    assert "<svg" not in html and "<figure>" not in html
    assert "Students per score band" in html and "As a table" not in html


def test_links_to_feedback_pages_that_exist(tmp_path):
    write_class_summary([ada(), cleo()], tmp_path, ReportOptions())
    assert 'href="feedback/ada.html"' not in (tmp_path / "summary.html").read_text("utf-8")
    write_html([ada()], tmp_path, ReportOptions())
    write_class_summary([ada(), cleo()], tmp_path, ReportOptions())
    html = (tmp_path / "summary.html").read_text("utf-8")
    assert 'href="feedback/ada.html"' in html and 'href="feedback/cleo.html"' not in html


def test_an_empty_class():
    html = render_class_summary([])
    check_page(html)
    assert "No submissions graded." in html


def test_a_crash_only_class_still_renders():
    check_page(render_class_summary([dev()]))


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_chromium_renders_the_summary(tmp_path):
    path = write_class_summary(sample_batch(), tmp_path, ReportOptions())[0]
    assert png_size_and_variety(screenshot(path, tmp_path / "summary.png"))[2] > 50
