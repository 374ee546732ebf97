"""The `grade` command line: click's CliRunner for each command, and one run of the real script."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.personal_case import personal_case
from tests.grader.hostile.submissions import EX1, EX6, SOLUTIONS, STUBS, stub_folder

SINGLE = f"dana_{EX1}.py"  # one exercise: quick to grade


@pytest.fixture(scope="module")
def single_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("class") / SINGLE
    shutil.copyfile(SOLUTIONS / f"{EX1}.py", path)
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_grade_writes_a_report_and_a_summary_and_exits_0(single_file, tmp_path):
    out = tmp_path / "grades"
    result = invoke(single_file, "--out", out, "--seed", 7, "--timeout", 5)
    assert result.exit_code == 0, result.output
    report = json.loads((out / f"dana_{EX1}.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert report["grader"]["seed"] == 7 and summary["count"] == 1
    assert "Seed 7." in result.stdout and f"dana_{EX1}" in result.stdout  # the summary table
    assert f"[1/1] dana_{EX1}:" in result.stderr  # progress goes to stderr


def test_a_rerun_keeps_the_report_and_says_so(single_file, tmp_path):
    invoke(single_file, "--out", tmp_path, "--timeout", 5)
    seed = json.loads((tmp_path / f"dana_{EX1}.json").read_text())["grader"]["seed"]
    again = invoke(single_file, "--out", tmp_path, "--timeout", 5)  # the seed is taken from --out
    assert again.exit_code == 0 and "1 report(s) were already up to date" in again.stdout
    assert f"Seed {seed}." in again.stdout


def test_grade_exits_0_whatever_the_scores(tmp_path):
    result = invoke(stub_folder(tmp_path, "nobody") / f"{EX6}.ipynb", "--out", tmp_path / "out")
    assert result.exit_code == 0
    assert json.loads((tmp_path / "out" / "nobody.json").read_text())["score"] == 0


def test_check_on_the_solutions_passes(tmp_path):
    result = invoke("check", SOLUTIONS, "--timeout", 10)
    assert result.exit_code == 0, result.output
    assert "All public checks passed" in result.output and "FAIL" not in result.output


def test_check_on_the_stubs_fails_with_hints():
    result = invoke("check", STUBS)
    assert result.exit_code == 1
    assert "sigmoid is not implemented yet (it raises NotImplementedError)." in result.output
    assert "hint: sigmoid should compute" in result.output and "Some checks failed" in result.output


def test_check_names_a_failing_module_line(tmp_path):
    folder = tmp_path / "erin"
    folder.mkdir()
    source = (SOLUTIONS / f"{EX1}.py").read_text()
    (folder / f"{EX1}.py").write_text(source + "\nraise RuntimeError('left over from debugging')\n")
    result = invoke("check", folder, "--timeout", 10)
    line = source.count("\n") + 2
    assert f"note: line {line}: RuntimeError: left over from debugging" in result.output
    assert "All public checks passed" in result.output and result.exit_code == 0


def test_check_on_a_folder_with_nothing_to_check_explains_and_exits_1(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    for target in (tmp_path, tmp_path / "notes.txt"):
        result = invoke("check", target)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "ex1_activations_losses" in result.output  # the names it expects


def test_case_prints_the_personal_case():
    result = invoke("case", "s001")
    x, V, w, y = personal_case("s001")
    assert result.exit_code == 0
    assert f"x   = ({x[0]:.1f}, {x[1]:.1f})" in result.output and f"y   = {y}" in result.output
    assert f"v21 = {V[1, 0]:.1f}" in result.output and f"w   = ({w[0]:.1f}, {w[1]:.1f})" in result.output


@pytest.mark.parametrize("args, words", [
    (["no/such/folder"], "does not exist"),
    (["check", "no/such/folder"], "does not exist"),
    (["{single}", "--jobs", "0"], "0 is not in the range 1<=x<=64"),
    (["{single}", "--format", "pdf"], "'pdf' is not one of"),
    (["{single}", "--timeout", "0"], "--timeout"),
    (["case", " "], "non-empty student id"),
    (["{empty}"], "holds nothing to grade"),
])
def test_bad_input_is_a_usage_error_that_says_what_to_fix(single_file, tmp_path, args, words):
    empty = tmp_path / "empty_class"
    empty.mkdir()
    args = [a.replace("{single}", str(single_file)).replace("{empty}", str(empty)) for a in args]
    result = invoke(*args, "--out", tmp_path) if args[0] not in ("case", "check") else invoke(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.output and words in result.output
    assert not list(tmp_path.glob("*.json"))


def test_the_installed_grade_script_runs(single_file, tmp_path):
    script = Path(sys.executable).parent / "grade"
    if not script.exists():
        pytest.skip("the package's console script is not installed next to this interpreter")
    done = subprocess.run([str(script), str(single_file), "--out", str(tmp_path), "--seed", "3"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / f"dana_{EX1}.json").read_text())["score"] > 0
    assert (tmp_path / "summary.json").exists() and "Seed 3." in done.stdout


def test_grade_check_leaves_out_the_parser_nbformat_never_uses(tmp_path):
    """`grade check` on a notebook reads it with nbformat (and jsonschema) but never builds
    rfc3987_syntax's IRI grammar, about half a second of a student's wait."""
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(SOLUTIONS / f"{EX1}.ipynb", folder)
    probe = ("import sys, runpy\n"
             "sys.argv = ['grade', 'check', sys.argv[1], '--exercise', 'ex1_activations_losses']\n"
             "try:\n    runpy.run_module('grader.cli', run_name='__main__')\n"
             "except SystemExit as exit:\n"
             "    print('exit', exit.code, 'jsonschema' in sys.modules, sys.modules.get('rfc3987_syntax', 'absent'))\n")
    done = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == "exit 0 True None", done.stdout + done.stderr


def test_skipping_unused_imports_keeps_notebook_validation_and_spares_modules_already_loaded():
    probe = ("import sys, grader, nbformat\n"
             "before = sys.modules.get('rfc3987_syntax', 'absent')\n"
             "grader.skip_unused_imports()\n"
             "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
             "nbformat.validate(nb)\n"
             "broken = nbformat.v4.new_notebook(); broken.cells.append({'cell_type': 'code'})\n"
             "try:\n    nbformat.validate(broken); print('not caught')\n"
             "except nbformat.ValidationError:\n    print('caught')\n"
             "print(sys.modules.get('rfc3987_syntax', 'absent') is before)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["caught", "True"], done.stdout + done.stderr
