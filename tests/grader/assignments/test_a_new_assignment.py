"""A new assignment is one folder: a tiny one, written here into a temporary folder, is graded end
to end through the real sandbox by the same commands as Module 2A (a batch with a pool of two,
the self-check, the CI check), and what it needed is counted."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignments import UnknownAssignment, get_assignment, load_folder
from grader.cli import main

# The whole assignment: its spec, one exercise's public and hidden checks, and its rubric.
FILES = {
    "__init__.py": '''
        """A tiny assignment: one exercise, `add(a, b)`."""
        from pathlib import Path

        from grader.assignments import Exercise, flat_assignment

        ASSIGNMENT = flat_assignment("tiny-sum", "Adding two arrays", (Exercise("ex_sum", "Add", ("add",)),),
                                     package=__name__, folder=Path(__file__).parent, timeout=5.0,
                                     forbidden_modules=("torch",))
        ''',
    "checks/__init__.py": "",
    "checks/ex_sum.py": '''
        import numpy as np

        from grader.checks.base import check, fail, ok


        @check("ex_sum", "add.values", needs=("add",), hint="add returns a + b, element by element.")
        def add_values(ctx):
            a, b = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
            got = np.asarray(ctx.call("add", a, b), dtype=float)
            return ok() if got.shape == a.shape and np.allclose(got, a + b) else fail(f"add gave {got.tolist()}")
        ''',
    "checks/hidden/__init__.py": "",
    "checks/hidden/ex_sum.py": '''
        import numpy as np

        from grader.checks.base import check, fail, ok


        @check("ex_sum", "add.random", needs=("add",))
        def add_random(ctx):
            a, b = ctx.rng.normal(size=(3, 4)), ctx.rng.normal(size=(3, 4))
            got = np.asarray(ctx.call("add", a, b), dtype=float)
            return ok() if got.shape == a.shape and np.allclose(got, a + b) else fail("wrong on random inputs")
        ''',
    "rubric/ex_sum.toml": '''
        exercise = "ex_sum"
        title = "Add"

        [tests]
        "add.values" = { points = 2, visibility = "visible" }
        "add.random" = { points = 3, visibility = "hidden" }
        ''',
}

STUDENTS = {
    "alice": "import numpy as np\n\ndef add(a, b):\n    return np.asarray(a) + np.asarray(b)\n",
    "bob": "def add(a, b):\n    return [1.0, 2.0, 3.0]\n",  # the visible case's inputs, not a sum
    "carol": "import torch\n\ndef add(a, b):\n    return torch.add(a, b)\n",  # a module the assignment forbids
}


def write_assignment(root: Path) -> Path:
    folder = root / "tiny_sum"
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def write_class(root: Path) -> Path:
    for student, code in STUDENTS.items():
        (root / "class" / student).mkdir(parents=True)
        (root / "class" / student / "ex_sum.py").write_text(code, encoding="utf-8")
    (root / "class" / "dave").mkdir()  # nothing gradable: still a student with a report
    (root / "class" / "dave" / "notes.pdf").write_bytes(b"%PDF-1.4")
    return root / "class"


@pytest.fixture()
def tiny(tmp_path):
    return write_assignment(tmp_path)


def test_the_tiny_assignment_is_one_folder_of_seven_files(tiny):
    assert sorted(p.relative_to(tiny).as_posix() for p in tiny.rglob("*") if p.is_file()) == sorted(FILES)
    assignment = load_folder(tiny)
    assert (assignment.name, assignment.stems, assignment.timeout) == ("tiny-sum", ("ex_sum",), 5.0)
    assert get_assignment(str(tiny)) == assignment


def test_a_batch_grades_it_in_a_pool_of_two_through_the_sandbox(tmp_path, tiny):
    klass = write_class(tmp_path)
    out = tmp_path / "grades"
    done = CliRunner().invoke(main, [str(klass), "--assignment", str(tiny), "--out", str(out), "--jobs", "2",
                                     "--seed", "7", "--format", "csv"])
    assert done.exit_code == 0, done.output
    reports = {name: json.loads((out / f"{name}.json").read_text()) for name in ("alice", "bob", "carol", "dave")}
    assert {r["assignment"] for r in reports.values()} == {"tiny-sum"}
    assert [(name, r["score"], r["max_score"]) for name, r in reports.items()] == [
        ("alice", 5.0, 5.0), ("bob", 0.0, 5.0), ("carol", 0.0, 5.0), ("dave", 0.0, 5.0)]
    tests = {t["name"]: t for t in reports["bob"]["exercises"][0]["tests"]}
    assert tests["add.values"]["status"] == "failed" and tests["add.random"]["status"] == "failed"
    assert [e["kind"] for e in reports["carol"]["errors"]] == ["blocked"]
    assert reports["dave"]["errors"][0]["kind"] == "bad_submission"
    assert "NAME is one of: ex_sum," in reports["dave"]["errors"][0]["message"]  # its own exercises named
    assert reports["alice"]["grader"]["sandbox"] in ("bwrap", "none")
    assert (out / "grades.csv").read_text("utf-8-sig").splitlines()[0].startswith("student,ex_sum,total")


def test_the_self_check_and_the_ci_check_run_its_public_checks(tmp_path, tiny):
    klass = write_class(tmp_path)
    runner = CliRunner()
    good = runner.invoke(main, ["check", str(klass / "alice"), "--assignment", str(tiny)])
    assert good.exit_code == 0 and "ex_sum (ex_sum.py): 1/1 public checks passed" in good.output, good.output
    bad = runner.invoke(main, ["check", str(klass / "bob"), "--assignment", str(tiny), "--format", "junit",
                               "--out", str(tmp_path / "ci")])
    assert bad.exit_code == 1 and "add returns a + b" in bad.output, bad.output
    report = json.loads((tmp_path / "ci" / "bob.json").read_text())
    assert (report["assignment"], report["max_score"]) == ("tiny-sum", 2.0)  # the public points only


def test_an_unknown_assignment_is_refused_with_what_is_installed(tmp_path):
    with pytest.raises(UnknownAssignment, match="module-2a"):
        get_assignment("no-such-course")
    done = CliRunner().invoke(main, [str(tmp_path), "--assignment", "no-such-course"])
    assert done.exit_code == 2 and "installed are module-2a" in done.output and "Traceback" not in done.output
