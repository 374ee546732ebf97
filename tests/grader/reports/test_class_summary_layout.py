"""The class summary as an instructor sees it at 1280 px in headless Chromium: what comes first,
how tall the page is, and that no identifier breaks across lines."""
from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest

from grader.reports.class_summary import write_class_summary
from grader.reports.feedback_html import write_html
from grader.reports.options import ReportOptions
from grader.results import ExerciseResult, SubmissionResult, TestResult
from grader.submission.exercises import EXERCISES
from tests.grader.reports.html_checks import check_page, chromium, png_size_and_variety, screenshot

WIDTH = 1280
TESTS_PER_EXERCISE = 25  # 150 tests in all, as many as the six real rubrics hold
DIAGNOSES = ("batch_mean_twice", "sign_flipped", "transposed", "gradient_overwritten", "log_of_zero",
             "broadcast_grad_not_reduced", "missing_activation_derivative")
# Where each section's heading sits on the page, its height, and every <code> that wraps.
PROBE = """<script>
const headingTop = id => { const e = document.getElementById(id); return e ? e.getBoundingClientRect().top + scrollY : -1; };
const broken = [...document.querySelectorAll('code')].filter(c => c.getClientRects().length > 1).map(c => c.textContent);
document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' + JSON.stringify({
  height: document.documentElement.scrollHeight,
  tops: Object.fromEntries(['dist-h', 'students-h', 'diag-h', 'ex-h', 'tests-h'].map(id => [id, headingTop(id)])),
  broken: broken}) + '</pre>');
</script>"""


def large_class(students: int = 30) -> list[SubmissionResult]:
    """`students` results over 150 tests, failures and diagnoses spread so every list is long."""
    results = []
    for s in range(students):
        exercises = []
        for e, name in enumerate(EXERCISES):
            tests = []
            for t in range(TESTS_PER_EXERCISE):
                test = f"check_{t:02d}.batch_mean_twice"
                if (s + t + e) % 4:
                    tests.append(TestResult(test, 1.0, 1.0, "passed", "visible"))
                else:
                    tests.append(TestResult(test, 0.0, 1.0, "failed", "hidden" if t % 3 else "visible",
                                            "dW[0] is 1/B of the right value.", DIAGNOSES[(s + t) % len(DIAGNOSES)]))
            exercises.append(ExerciseResult(name, f"{name}.ipynb", tests))
        results.append(SubmissionResult(f"student_{s:03d}", f"class/student_{s:03d}", f"{s:064x}", exercises,
                                        seed=7, sandbox="bwrap", grader_version="0.1.0"))
    return results


def layout(html_file: Path) -> dict:
    """Heading positions, page height and wrapped identifiers, measured by Chromium at WIDTH px."""
    probe = html_file.with_name("probe.html")
    probe.write_text(html_file.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
    done = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={WIDTH},900",
                           "--dump-dom", probe.resolve().as_uri()], capture_output=True, text=True, timeout=60,
                          check=True)
    found = re.findall(r'<pre id="probe">(\{.*?)</pre>', done.stdout, re.S)  # the element, not the script
    assert found, done.stdout[-2000:]
    return json.loads(html.unescape(found[-1]))


@pytest.fixture(scope="module")
def summary_page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("grades")
    results = large_class()
    write_html(results, folder, ReportOptions())
    path = write_class_summary(results, folder, ReportOptions())[0]
    check_page(path.read_text("utf-8"))
    return path


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_what_an_instructor_looks_for_comes_first(summary_page):
    tops = layout(summary_page)["tops"]
    assert all(value >= 0 for value in tops.values()), tops
    order = sorted(tops, key=tops.get)
    assert order[:3] == ["dist-h", "students-h", "diag-h"], tops
    assert order[-1] == "tests-h", tops  # the long per-test list comes last, folded


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_long_lists_are_folded_so_the_page_stays_short(summary_page):
    measured = layout(summary_page)
    # 30 students, 150 tests, 7 diagnoses: the open parts are the histogram, the students and
    # the most common mistakes; 150 open test rows alone would take about 6,000 px.
    assert measured["height"] < 4000, measured["height"]
    html = summary_page.read_text("utf-8")
    assert "<details open><summary>All tests" not in html


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_no_identifier_breaks_across_lines(summary_page):
    assert layout(summary_page)["broken"] == []


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian package chromium)")
def test_the_screenshot_shows_a_page(summary_page, tmp_path):
    png = screenshot(summary_page, tmp_path / "summary.png", width=WIDTH, height=1400)
    assert png_size_and_variety(png)[2] > 50
