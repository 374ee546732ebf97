import pytest

from grader.reports.feedback_html import render_html, write_html
from grader.reports.feedback_model import feedback_view
from grader.reports.options import ReportOptions
from tests.grader.reports.html_checks import check_page, chromium, png_size_and_variety, screenshot
from tests.grader.reports.sample_batch import HOSTILE_ID, SECRET, ada, ben, cleo, dev, hostile, sample_batch


def page(result, **kwargs) -> str:
    return render_html(feedback_view(result, **kwargs))


@pytest.mark.parametrize("result", sample_batch(), ids=lambda r: r.student[:6])
def test_every_page_is_well_formed_and_self_contained(result):
    check_page(page(result))
    check_page(page(result, show_hidden=True))


def test_overview_and_failed_checks():
    parser = check_page(page(cleo()))
    text = " ".join(" ".join(parser.text).split())
    result = cleo()
    assert f"Score {result.score:g} / {result.max_score:g}" in text
    assert "Wrong answer mse_grad.values 0 / 1 points" in text
    assert "Partly right HAND_ANSWERS.values 1.5 / 3 points" in text
    assert "Likely mistake ( sign_flipped ):" in text
    assert "Hint: Use y_hat - y." in text
    assert "The code ran out of time: train took longer than 120 s" in text
    for ex in result.exercises:
        assert f'href="#s-{ex.name}"' in page(result) and f'id="s-{ex.name}"' in page(result)


def test_hidden_checks_fold_away_with_name_and_points_only():
    html = page(cleo())
    assert SECRET not in html and "softmax_unstable" not in html
    assert "Hidden checks: 0 of 1 passed, 0 / 2 points" in html and "<code>backward.random</code>" in html
    assert SECRET in page(cleo(), show_hidden=True)


def test_passed_checks_fold_away():
    html = page(ada())
    assert "Passed checks (1)" in html and 'class="check"' not in html


def test_notes_for_cell_errors_and_crashes():
    assert "Cell 12 raised NotImplementedError" in page(ben())
    assert "Problems while grading" in page(dev())


def test_student_text_is_escaped():
    html = page(hostile())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x&gt;.ipynb" in html
    assert "=HYPERLINK(&quot;x&quot;,&quot;y&quot;)&lt;b&gt;" in html and HOSTILE_ID not in html


def test_one_file_per_student(tmp_path):
    written = write_html([ada(), cleo()], tmp_path, ReportOptions())
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["feedback/ada.html", "feedback/cleo.html"]


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_chromium_renders_a_real_page(tmp_path):
    path = write_html([cleo()], tmp_path, ReportOptions())[0]
    width, height, variety = png_size_and_variety(screenshot(path, tmp_path / "cleo.png"))
    assert (width, height) == (1000, 1400)
    assert variety > 50  # text, badges and bars, not a blank page
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert png_size_and_variety(screenshot(blank, tmp_path / "blank.png"))[2] < variety / 4
