"""The student release: what it holds, what it must never hold, and that it installs and runs.

The install tests build a plain virtual environment (no system site-packages), `pip install` the
release into it, and run its `grade` command there, far from this repository.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import time
import venv
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.authoring import EXERCISES
from grader.cli import main
from grader.personal_case import format_case
from grader.release import (build_release, imports_instructor_code, public_data, public_rubric_text, pyproject_text,
                            release_modules, without_reference_bodies)
from grader.rubric import Rubric, RubricItem, load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parents[2]

# Lines that give nothing away wherever they appear: the brief's trivial lines, a `return` of
# names only (`return params, losses`), and control-flow headers, whose bodies are checked.
TRIVIAL_LINE = re.compile(r"^([\W_]*|pass|return|else:|try:|continue|break"
                          r"|return [\w\s,.\[\]:-]*|(if|elif|for|while|with|except)\b.*:)$")
MIN_LENGTH = 12
# Solution lines that unrelated grader code also has; each was read and shows no answer.
COMMON_LINES = frozenset({
    "rng = np.random.default_rng(seed)",  # seeding
    "s = sigmoid(z)",  # naming a value; sigma' = s (1 - s) is the lecture's own formula
})
# A signature without parameters (`def main() -> None:`) says nothing about its body.
BARE_SIGNATURE = re.compile(r"^def \w+\(((self|cls)\s*)?\)")


def _normal(line: str) -> str:
    """A line without indentation and trailing comment."""
    return line.split("  #", 1)[0].strip()


def _file_lines(path: Path) -> set[str]:
    """The normalised lines of a file; for a notebook, of its cells' sources."""
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(encoding="utf-8")
    return {_normal(line) for line in text.splitlines()}


def _student_lines() -> set[str]:
    lines: set[str] = set()
    for stem in EXERCISES:
        for suffix in (".py", ".ipynb"):
            lines |= _file_lines(ROOT / "exercises" / f"{stem}{suffix}")
    return lines


def _solution_lines() -> dict[str, str]:
    """Normalised line -> the notebook it comes from, for every telling line of a solution region."""
    student, found = _student_lines(), {}
    for stem in EXERCISES:
        inside = False
        for cell in nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4).cells:
            for line in cell.source.splitlines():
                text = _normal(line)
                if "BEGIN SOLUTION" in line:
                    inside = True
                elif "END SOLUTION" in line:
                    inside = False
                elif (inside and len(text) >= MIN_LENGTH and not TRIVIAL_LINE.match(text)
                      and text not in student and text not in COMMON_LINES):
                    found[text] = stem
    return found


def _reference_definitions() -> dict[str, str]:
    student, found = _student_lines(), {}
    for path in sorted((ROOT / "reference").glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = _normal(line)
            if text.startswith(("def ", "class ")) and text not in student and not BARE_SIGNATURE.match(text):
                found[text] = path.name
    return found


def _hidden_test_names() -> set[str]:
    return {name for stem in EXERCISES for name, item in load_rubric(stem).tests.items()
            if item.visibility == "hidden"}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("build") / "release")


def _release_files(release: Path) -> list[Path]:
    return sorted(path for path in release.rglob("*") if path.is_file())


# ---------------------------------------------------------------- what the release holds

def test_the_release_has_the_exercises_the_public_data_and_the_project_files(release):
    names = {path.relative_to(release).as_posix() for path in _release_files(release)}
    for stem in EXERCISES:
        assert {f"exercises/{stem}.ipynb", f"exercises/{stem}.py", f"grader/rubric/{stem}.toml",
                f"grader/public_data/{stem}.json", f"grader/checks/{stem}.py"} <= names
    assert {"README.md", "pyproject.toml", "grader/__init__.py", "grader/cli.py", "grader/personal_case.py",
            "grader/notebook_import.py", "grader/worker/inside/main.py"} <= names


def test_the_instructors_parts_are_left_out(release):
    names = [path.relative_to(release).as_posix() for path in _release_files(release)]
    for left_out in ("grader/checks/hidden/", "grader/authoring/", "grader/demo/", "reference/", "solutions/"):
        assert not [name for name in names if name.startswith(left_out)], left_out
    assert "grader/release.py" not in names
    assert not [name for name in names if name.startswith("grader/") and
                not name.endswith((".py", ".toml", ".json"))]


def test_the_student_files_are_the_generated_ones_and_the_ci_template(release):
    for stem in EXERCISES:
        for suffix in (".ipynb", ".py"):
            shipped = (release / "exercises" / f"{stem}{suffix}").read_text(encoding="utf-8")
            assert shipped == (ROOT / "exercises" / f"{stem}{suffix}").read_text(encoding="utf-8")
    template = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises" / "ci").rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts)
    shipped = sorted(p.relative_to(release).as_posix() for p in (release / "exercises").rglob("*")
                     if p.is_file() and p.parent.name != "exercises")
    assert shipped == template


@pytest.mark.parametrize("stem", EXERCISES)
def test_the_rubrics_are_the_public_ones(release, stem):
    shipped = (release / "grader" / "rubric" / f"{stem}.toml").read_text(encoding="utf-8")
    rubric = parse_rubric(shipped, source=stem)
    full = load_rubric(stem)
    assert rubric == full.public()
    assert all(item.visibility == "visible" for item in rubric.tests.values())
    assert rubric.max_score < full.max_score  # every exercise has hidden tests


@pytest.mark.parametrize("stem", EXERCISES)
def test_the_public_data_is_every_fixture_built_from_the_reference(release, stem):
    shipped = json.loads((release / "grader" / "public_data" / f"{stem}.json").read_text(encoding="utf-8"))
    assert shipped and shipped == json.loads(json.dumps(public_data(stem)))


def test_no_shipped_module_imports_instructor_code_when_imported(release):
    for path in (release / "grader").rglob("*.py"):
        assert not imports_instructor_code(path.read_text(encoding="utf-8")), path


def test_the_pyproject_needs_only_numpy_click_nbformat_and_tomli():
    import tomllib

    project = tomllib.loads(pyproject_text())["project"]
    assert [re.split(r"[<>=;]", d)[0] for d in project["dependencies"]] == ["numpy", "click", "nbformat", "tomli"]
    assert project["scripts"] == {"grade": "grader.cli:main"}


# ---------------------------------------------------------------- what it must never hold

def test_the_leak_tables_are_not_empty():
    assert len(_solution_lines()) > 100 and len(_reference_definitions()) > 50
    assert len(_hidden_test_names()) > 20


def test_no_solution_line_reaches_the_release(release):
    solution = _solution_lines()
    leaks = [f"{path.relative_to(release)}: {line!r} (from {solution[line]})"
             for path in _release_files(release) for line in sorted(_file_lines(path) & set(solution))]
    assert leaks == []


def test_no_reference_definition_reaches_the_release(release):
    definitions = _reference_definitions()
    leaks = [f"{path.relative_to(release)}: {line!r} (reference/{definitions[line]})"
             for path in _release_files(release) for line in sorted(_file_lines(path) & set(definitions))]
    assert leaks == []


def test_no_hidden_test_name_or_marker_reaches_the_release(release):
    names = _hidden_test_names()
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
                         + r")(?![\w.])")
    for path in _release_files(release):
        text = path.read_text(encoding="utf-8")
        assert pattern.search(text) is None, (path, pattern.search(text))
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "globals(), hidden=True"):
            assert marker not in text, (path, marker)


# ---------------------------------------------------------------- the pieces, on small inputs

@pytest.mark.parametrize("source, instructor_only", [
    ("import numpy as np\n", False),
    ("from reference import mlp\n", True),
    ("import reference.mlp as m\n", True),
    ("try:\n    from grader.checks.hidden import ex1_activations_losses\nexcept ImportError:\n    pass\n", True),
    ("if True:\n    import nbgrader\n", True),
    ("from grader import authoring\n", True),
    ("def build():\n    from reference import mlp\n", False),  # runs only when called
    ("class Cache:\n    import reference\n", False),
    ("from grader.checks import fixtures\nimport referenced_elsewhere\n", False),
])
def test_imports_instructor_code(source, instructor_only):
    assert imports_instructor_code(source) is instructor_only


STRIPPED = '''import numpy as np


@fixture_builder("ex", "data")
def build() -> dict:
    """Docstring kept."""
    from grader.checks import compare
    from reference import mlp

    return {"answer": mlp.forward(1)}


def available() -> bool:
    try:
        import reference.mlp  # noqa: F401
    except ImportError:
        return False
    return True


def later(x):
    y = x + 1
    from reference import mlp
    return mlp.forward(y)


class Holder:
    def method(self):
        import reference.activations as act
        return act.sigmoid(0.0)


def outer():
    from reference import mlp

    def inner():
        from reference import losses
        first = mlp.forward(2)
        second = mlp.forward(3)
        both = first + second
        return losses.mse(both, 0)
    return inner()


LAST_LINE = "kept"
'''


def test_functions_that_start_by_importing_the_reference_lose_their_bodies():
    result = without_reference_bodies(STRIPPED)
    tree = ast.parse(result)
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert ast.get_docstring(functions["build"]) == "Docstring kept."
    assert "mlp.forward(1)" not in result and "act.sigmoid" not in result
    assert result.count('raise ModuleNotFoundError(') == 3 and "losses.mse" not in result
    assert result.endswith('LAST_LINE = "kept"\n')
    assert ast.unparse(functions["available"]) in ast.unparse(ast.parse(STRIPPED))  # a probe: kept
    assert "return mlp.forward(y)" in result  # not at the start: left as it is
    assert '@fixture_builder("ex", "data")' in result
    namespace: dict = {"fixture_builder": lambda *names: (lambda fn: fn)}
    exec(compile(result, "stripped", "exec"), namespace)  # noqa: S102 - our own test source
    with pytest.raises(ModuleNotFoundError, match="student release") as caught:
        namespace["build"]()
    assert caught.value.name == "reference"


def test_release_modules_skip_the_instructors_folders(tmp_path):
    for name, text in {"__init__.py": "", "cli.py": "import click\n", "release.py": "",
                       "authoring/generate.py": "", "checks/hidden/ex1.py": "", "checks/ex1.py": "",
                       "demo/build.py": "", "uses_reference.py": "from reference import mlp\n",
                       "__pycache__/cli.py": ""}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert [p.as_posix() for p in release_modules(tmp_path)] == ["__init__.py", "checks/ex1.py", "cli.py"]


def test_a_module_that_does_not_parse_stops_the_build(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.py does not parse"):
        release_modules(tmp_path)


@pytest.mark.parametrize("settings", [
    {},
    {"rtol": 1e-06, "steps": 300, "strict": False, "name": 'a "quoted" \\ name', "sizes": [2, 32, 3]},
    {"budget": {"seconds": 5.0, "label": "ok"}, "odd key": 0.1},
])
def test_the_public_rubric_reads_back_to_the_public_rubric(settings):
    rubric = Rubric("ex9_things", 'Things "and" more', {
        "a.visible": RubricItem(1.5, "visible"), "b.hidden": RubricItem(2.0, "hidden"),
        "c.visible": RubricItem(0.25, "visible")}, settings)
    text = public_rubric_text(rubric)
    assert parse_rubric(text, source="test") == rubric.public()
    assert "b.hidden" not in text


def test_the_public_rubric_keeps_requirements_on_visible_tests_and_drops_hidden_ones():
    rubric = Rubric("ex9_things", "Things", {
        "a.values": RubricItem(1.0, "visible"), "b.hidden": RubricItem(2.0, "hidden"),
        "a.pure": RubricItem(0.5, "visible", ("a.values", "b.hidden", "ex8_other:x.values"))}, {})
    back = parse_rubric(public_rubric_text(rubric), source="test")
    assert back == rubric.public()
    assert back.tests["a.pure"].requires == ("a.values", "ex8_other:x.values")


def test_build_release_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        build_release(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_release_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["release", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "pip install" in result.output and (tmp_path / "out" / "pyproject.toml").is_file()
    again = runner.invoke(main, ["release", "--out", str(tmp_path / "out")])
    assert again.exit_code == 2 and "not an empty folder" in again.output


# ---------------------------------------------------------------- installed in a fresh environment

NETWORK_TROUBLE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
                   "No matching distribution found")


def _run(args: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(release, tmp_path_factory) -> Path:
    """The bin folder of a plain virtual environment with the release installed."""
    home = tmp_path_factory.mktemp("student")
    started = time.perf_counter()
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(home / "venv")
    bin_dir = home / "venv" / ("Scripts" if os.name == "nt" else "bin")
    result = _run([bin_dir / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
                   release], cwd=home)
    if result.returncode != 0 and any(word in result.stderr for word in NETWORK_TROUBLE):
        pytest.skip(f"pip could not reach a package index to install numpy, click and nbformat: "
                    f"{result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    print(f"fresh environment and install: {time.perf_counter() - started:.1f} s")
    return bin_dir


def test_the_installed_release_passes_the_solutions(installed, tmp_path):
    submission = tmp_path / "solved"
    submission.mkdir()
    for stem in EXERCISES:  # notebooks only: ex6 imports ex3 from its notebook
        shutil.copy(ROOT / "solutions" / f"{stem}.ipynb", submission)
    result = _run([installed / "grade", "check", submission], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for stem in EXERCISES:
        line = next(line for line in result.stdout.splitlines() if line.startswith(stem))
        passed, total = re.search(r"(\d+)/(\d+) public checks passed", line).groups()
        assert passed == total and int(total) == len(load_rubric(stem).public().tests), line
    assert "All public checks passed" in result.stdout


def test_the_installed_release_fails_its_own_exercises(installed, release, tmp_path):
    result = _run([installed / "grade", "check", release / "exercises"], cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Some checks failed" in result.stdout


def test_the_installed_release_prints_personal_cases(installed, tmp_path):
    result = _run([installed / "grade", "case", "s001"], cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == format_case("s001")
    probe = ("from grader import personal_case; x, V, w, y = personal_case('s001'); "
             "print([x.tolist(), V.tolist(), w.tolist(), y])")
    result = _run([installed / "python", "-c", probe], cwd=tmp_path)
    from grader import personal_case

    x, V, w, y = personal_case("s001")
    assert result.returncode == 0 and result.stdout.strip() == str([x.tolist(), V.tolist(), w.tolist(), y])


def test_the_installed_release_has_no_hidden_checks_and_no_reference(installed, tmp_path):
    probe = """
import importlib.util, sys
from grader.checks.registry import HiddenChecksUnavailable, checks_for
try:
    checks_for("ex2_hand_calculation", hidden=True)
except HiddenChecksUnavailable:
    print("hidden: unavailable")
print("reference:", importlib.util.find_spec("reference"))
print("authoring:", importlib.util.find_spec("grader.authoring"))
"""
    result = _run([installed / "python", "-c", probe], cwd=tmp_path)
    assert result.stdout.split("\n")[:3] == ["hidden: unavailable", "reference: None", "authoring: None"], \
        result.stdout + result.stderr
