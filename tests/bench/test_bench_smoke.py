"""Each benchmark script runs end to end at a tiny size and prints its table.

Smoke tests only: the scripts' own timing limits (1 s for `grade check`, 0.2 s for the
gradient check) are not asserted here, since a busy test machine is no measure of them.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=120, cwd=BENCH.parent)


def test_throughput_grades_a_class_of_one_with_full_marks(tmp_path):
    chart = tmp_path / "throughput.svg"
    done = run("throughput.py", "--no-nbgrader", "--students", "1", "--jobs", "1", "--plot", str(chart))
    assert done.returncode == 0, done.stderr[-2000:]
    [row] = [line for line in done.stdout.splitlines() if line.startswith("grade ")]
    assert "1/1" in row and "MB (2)" in row  # full marks; two workers (visible, then hidden) with peak memory
    assert chart.read_text("utf-8").lstrip().startswith(("<?xml", "<svg")) and "<rect" in chart.read_text("utf-8")


def test_gradcheck_speed_compares_both_checks_on_the_solution_and_a_mistake():
    done = run("gradcheck_speed.py", "--only", "2", "--entries", "2")
    assert "disagree on 0 row(s)" in done.stdout, done.stdout + done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("solution", "ex3-y-minus-y-hat"))]
    assert len(rows) == 4  # two implementations on two networks
    assert rows[0].count("passed") == 3 and rows[1].count("caught") == 3  # ReLU network: the grader check too


def test_memory_growth_reports_each_checkpoint():
    done = run("memory_growth.py", "--students", "2", "--checkpoints", "2", "--limit-mb", "1000")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "full marks: 2/2" in done.stdout
    assert [line.split()[0] for line in done.stdout.splitlines() if line.strip()[:1].isdigit()][-2:] == ["1", "2"]


def test_selfcheck_latency_times_grade_check_on_a_notebook_and_a_module():
    done = run("selfcheck_latency.py", "--runs", "1", "--top", "3")
    rows = [line for line in done.stdout.splitlines() if line.startswith("grade check")]
    assert [row.split()[-1] for row in rows] == ["0", "0"], done.stdout + done.stderr[-2000:]
    assert "slowest imports" in done.stdout


def test_hostile_cost_grades_the_solution_in_full_and_each_hostile_row_for_less():
    done = run("hostile_cost.py")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    rows = {line[:20].strip(): line.split() for line in done.stdout.splitlines()
            if line.startswith(("solution", "480 MB", "forged", "ints"))}
    assert set(rows) == {"solution", "480 MB answer", "forged replies", "ints beyond float"}
    assert rows["solution"][-1] == "20/20"
    for name in ("480 MB answer", "forged replies", "ints beyond float"):
        score, top = rows[name][-1].split("/")
        assert top == "20" and float(score) < 20, rows[name]


def test_da6401_class_grades_the_solution_with_full_marks_on_the_network_parts():
    # student 1 hands in the solution, student 2 the first catalogued variant (a correct one)
    done = subprocess.run([sys.executable, str(BENCH / "da6401_class.py"), "--students", "2", "--jobs", "2"],
                          capture_output=True, text=True, timeout=600, cwd=BENCH.parent)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    rows = {name: line.split() for line in done.stdout.splitlines()
            for name in ("network parts", "training parts", "everything") if line.startswith(name)}
    assert set(rows) == {"network parts", "training parts", "everything"}, done.stdout
    assert rows["network parts"][-1] == "2/2"  # the model part cannot score here: no real test data
    assert all(float(row[-5]) > 0 for row in rows.values())  # seconds per repository were measured
