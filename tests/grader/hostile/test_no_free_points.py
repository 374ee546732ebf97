"""No points for no work: submissions that compute nothing, graded end to end in the sandbox.

- constant stubs for all six exercises (every function returns a constant of the right shape
  or type, every method a constant node) score 0;
- a lookup table of the published public fixtures (answers, no formulas) scores nothing at
  grading, where the public checks draw fresh inputs from the grading seed;
- HAND_ANSWERS computed by code earns nothing on the hand-answer tests, in a module and in a
  notebook, while the same numbers written as literals keep full marks.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from grader.checks.fixtures import build_all
from grader.checks.registry import checks_for, rubric_for
from grader.checks.requirements import apply_requirements
from grader.checks.runner import FORBIDDEN_MODULES, run_exercise
from grader.results import ExerciseResult, SubmissionResult
from grader.submission.discover import Submission
from grader.submission.exercises import EXERCISES
from grader.submission.staging import stage
from grader.worker.client import WorkerClient
from grader.worker.sandbox import SandboxConfig
from tests.grader.hostile.submissions import (
    EX1,
    EX2,
    EX3,
    EX6,
    exercises_of,
    full_marks,
    grade_folder,
    grading_options,
    results_by_name,
    solved_folder,
)

# ---------------------------------------------------------------- constant stubs

CONSTANT_STUBS = {
    "ex1_activations_losses": '''
import numpy as np

def identity(z): return np.zeros(np.shape(z))
def sigmoid(z): return np.zeros(np.shape(z))
def tanh(z): return np.zeros(np.shape(z))
def relu(z): return np.zeros(np.shape(z))
def softmax(z): return np.zeros(np.shape(z))
def identity_grad(z): return np.zeros(np.shape(z))
def sigmoid_grad(z): return np.zeros(np.shape(z))
def tanh_grad(z): return np.zeros(np.shape(z))
def relu_grad(z): return np.zeros(np.shape(z))
def softmax_jacobian(z): return np.zeros(np.shape(z) + np.shape(z)[-1:])
def mse(y_hat, y): return 0.0
def mae(y_hat, y): return 0.0
def bce(y_hat, y): return 0.0
def cce(y_hat, y): return 0.0
def mse_grad(y_hat, y): return np.zeros(np.shape(y_hat))
def mae_grad(y_hat, y): return np.zeros(np.shape(y_hat))
def bce_grad(y_hat, y): return np.zeros(np.shape(y_hat))
def cce_grad(y_hat, y): return np.zeros(np.shape(y_hat))
def sigmoid_bce_delta(z, y): return np.zeros(np.shape(z))
def softmax_cce_delta(z, y): return np.zeros(np.shape(z))
''',
    "ex2_hand_calculation": '''
import numpy as np

def forward_backward_221(x, V, w, y):
    return {"z": np.zeros(2), "h": np.zeros(2), "z_out": 0.0, "y_hat": 0.0, "loss": 0.0,
            "delta_out": 0.0, "grad_w": np.zeros(2), "delta_hidden": np.zeros(2),
            "grad_V": np.zeros((2, 2))}

HAND_ANSWERS = {"z": [0.0, 0.0], "h": [0.0, 0.0], "z_out": 0.0, "y_hat": 0.0, "loss": 0.0,
                "delta_out": 0.0, "grad_w": [0.0, 0.0], "delta_hidden": [0.0, 0.0],
                "grad_V": [[0.0, 0.0], [0.0, 0.0]]}
''',
    "ex3_mlp_backprop": '''
import numpy as np

def init_params(layer_sizes, seed=0):
    return [(np.zeros((n_in, n_out)), np.zeros(n_out)) for n_in, n_out in zip(layer_sizes, layer_sizes[1:])]

def forward(params, X, hidden="sigmoid", output="softmax"):
    return np.zeros((np.shape(X)[0], np.shape(params[-1][0])[1])), {}

def backward(params, cache, Y, loss="cce"):
    return [(np.zeros(np.shape(W)), np.zeros(np.shape(b))) for W, b in params]
''',
    "ex4_autograd_scalar": '''
class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
    def _constant(self, *other): return Value(0.0)
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _constant
    __truediv__ = __rtruediv__ = __pow__ = __neg__ = _constant
    exp = log = sigmoid = tanh = relu = _constant
    def backward(self): pass

def sigmoid_trace(w, x, b):
    return {key: 0.0 for key in ("z1", "z2", "z3", "z4", "L", "dL_dz4", "dL_dz3", "dL_dz2", "dL_db", "dL_dw")}
''',
    "ex5_autograd_tensor": '''
import numpy as np

class Tensor:
    __array_ufunc__ = None
    def __init__(self, data, requires_grad=False):
        self.data = np.array(data.data if isinstance(data, Tensor) else data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = None
    @property
    def is_leaf(self): return self.grad_fn is None
    @property
    def shape(self): return self.data.shape
    def _like(self, other=0.0):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(np.zeros(np.broadcast(self.data, other).shape))
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _like
    __truediv__ = __rtruediv__ = __pow__ = _like
    def __neg__(self): return self._like()
    def __matmul__(self, other):
        return Tensor(np.zeros((self.data.shape[0], np.shape(getattr(other, "data", other))[1])))
    def sum(self, axis=None, keepdims=False):
        return Tensor(np.zeros(np.shape(np.sum(self.data, axis=axis, keepdims=keepdims))))
    mean = sum
    def exp(self): return self._like()
    log = sigmoid = tanh = relu = exp
    def backward(self, grad=None): pass

def mse_loss(pred, target): return Tensor(0.0)
def cross_entropy(logits, target_onehot): return Tensor(0.0)
''',
    "ex6_gradient_descent": '''
import numpy as np

def sgd_step(params, grads, lr):
    return [(np.zeros(np.shape(W)), np.zeros(np.shape(b))) for W, b in params]

def train(X, Y, layer_sizes, hidden="tanh", epochs=300, lr=0.3, batch_size=32, seed=0):
    params = [(np.zeros((n_in, n_out)), np.zeros(n_out)) for n_in, n_out in zip(layer_sizes, layer_sizes[1:])]
    return params, [1.0] * epochs
''',
}


def write_modules(folder: Path, sources: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, source in sources.items():
        (folder / f"{stem}.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return folder


def earning_tests(result: SubmissionResult) -> set[str]:
    return {f"{e.name}:{t.name}" for e in result.exercises for t in e.tests if t.score > 0}


def with_requirements(result: SubmissionResult) -> SubmissionResult:
    """The result as the pipeline will give it once it applies the rubrics' `requires`."""
    return apply_requirements(result, {stem: rubric_for(stem) for stem in EXERCISES})


# Points the stubs still earn in exercises 3 and 6, whose rubrics gain `requires` (and ex3's
# directional checks a non-degenerate case) in their own change: shapes and purity of functions
# that compute nothing, and directional slopes that agree because both are zero.


def test_constant_stubs_for_every_exercise_score_nothing(tmp_path: Path) -> None:
    folder = write_modules(tmp_path / "s001", CONSTANT_STUBS)
    graded = grade_folder(folder, grading_options(timeout=5.0))
    result = with_requirements(graded)
    assert result.max_score == 100.0 and not result.errors
    assert earning_tests(result) == set()
    for stem in (EX1, EX2, "ex4_autograd_scalar", "ex5_autograd_tensor"):
        exercise = exercises_of(result)[stem]
        assert exercise.score == 0.0, [t.name for t in exercise.tests if t.score]
    gated = results_by_name(exercises_of(result)[EX1])["sigmoid.no_mutation"]
    assert gated.status == "failed" and gated.feedback.startswith("No points until sigmoid.values passes")


def test_the_solutions_keep_full_marks_with_the_requirements(tmp_path: Path) -> None:
    folder = solved_folder(tmp_path, "s002", notebooks=(EX2,))
    result = with_requirements(grade_folder(folder, grading_options()))
    assert result.score == result.max_score == 100.0, [
        (e.name, t.name, t.feedback) for e in result.exercises for t in e.tests if t.status != "passed"]


# ---------------------------------------------------------------- a lookup table of the public fixtures

def public_answer_table(data: dict) -> list[tuple[str, list, object]]:
    """(function, arguments, answer) for every public check of exercise 1, from the published data."""
    acts, losses, deltas = data["activations"], data["losses"], data["deltas"]
    table = []
    for name, answers in acts["expected"].items():
        for case, answer in answers.items():
            table.append((name, [acts["inputs"][case]], answer))
    table.append(("sigmoid", [acts["large"]["vec"]], acts["stable"]["sigmoid"]))
    table.append(("softmax", [acts["large"]["mat"]], acts["stable"]["softmax"]))
    table.append(("softmax", [acts["large"]["vec"]], acts["stable"]["softmax_vec"]))
    cases = losses["cases"]
    for name, case in (("mse", "regression"), ("mae", "regression"), ("bce", "binary"), ("cce", "classes")):
        args = [cases[case]["y_hat"], cases[case]["y"]]
        table += [(name, args, losses["expected"][name]), (f"{name}_grad", args, losses["expected"][f"{name}_grad"])]
    table.append(("mae_grad", [cases["tie"]["y_hat"], cases["tie"]["y"]], losses["expected"]["mae_grad_tie"]))
    table.append(("bce", [cases["binary_edge"]["y_hat"], cases["binary_edge"]["y"]], losses["expected"]["bce_edge"]))
    table.append(("cce", [cases["classes_edge"]["y_hat"], cases["classes_edge"]["y"]], losses["expected"]["cce_edge"]))
    for name, case in (("sigmoid_bce_delta", "binary_logits"), ("softmax_cce_delta", "class_logits"),
                       ("sigmoid_bce_delta", "binary_large"), ("softmax_cce_delta", "class_large")):
        suffix = "_large" if case.endswith("large") else ""
        table.append((name, [deltas["cases"][case]["z"], deltas["cases"][case]["y"]],
                      deltas["expected"][f"{name}{suffix}"]))
    return table


LOOKUP_MODULE = """
import json
import numpy as np

TABLE = json.loads({table!r})


def _key(name, args):
    return name + "|" + "|".join(np.asarray(a, dtype=np.float64).tobytes().hex() for a in args)


ANSWERS = {{}}
for _name, _args, _answer in TABLE:
    _arrays = [np.array(a["__array__"]).reshape(a["shape"]) for a in _args]
    ANSWERS[_key(_name, _arrays)] = _answer


def _look_up(name, *args):
    answer = ANSWERS.get(_key(name, args))
    if answer is None:  # an input the table does not know: a constant of the right shape
        return np.zeros(np.shape(args[0]) + (np.shape(args[0])[-1:] if name == "softmax_jacobian" else ()))
    if isinstance(answer, dict):
        return np.array(answer["__array__"]).reshape(answer["shape"])
    return answer


for _name in {names!r}:
    globals()[_name] = (lambda name: lambda *args: _look_up(name, *args))(_name)
"""


def lookup_table_module() -> str:
    from grader.checks.fixtures import to_json

    data = build_all(EX1)  # exactly what `grade release` publishes
    table = [(name, [to_json(a) for a in args], to_json(answer)) for name, args, answer in public_answer_table(data)]
    names = sorted({name for name, _, _ in table})
    return LOOKUP_MODULE.format(table=json.dumps(table), names=names)


def test_a_lookup_table_of_the_published_fixtures_scores_nothing_at_grading(tmp_path: Path) -> None:
    folder = write_modules(tmp_path / "s003", {EX1: lookup_table_module()})
    self_check = grade_folder(folder, grading_options(hidden=False, exercises=(EX1,)))
    table_points = exercises_of(self_check)[EX1].score
    assert table_points >= 10.0  # the table answers the published inputs: the self-check passes it
    graded = with_requirements(grade_folder(folder, grading_options(exercises=(EX1,))))
    assert exercises_of(graded)[EX1].score == 0.0, sorted(earning_tests(graded))


def test_public_checks_draw_fresh_inputs_from_the_grading_seed(tmp_path: Path) -> None:
    """At grading, the solutions pass public checks on inputs the release never showed."""
    folder = solved_folder(tmp_path, "s004")
    for seed in (1, 2):
        graded = with_requirements(grade_folder(folder, grading_options(seed=seed)))
        assert graded.max_score == 100.0
        assert all(full_marks(e) for e in graded.exercises), [
            (t.name, t.feedback) for e in graded.exercises for t in e.tests if t.status != "passed"]


# ---------------------------------------------------------------- HAND_ANSWERS worked by hand

CASE = "_case = (np.array({x}), np.array({V}), np.array({w}), {y})\n"
# The personal case's chain, rounded by code.
COMPUTED = """
HAND_ANSWERS = {key: np.round(np.asarray(value, dtype=float), 3).tolist()
                for key, value in forward_backward_221(*_case).items()}
"""
# Literal numbers, then one of them replaced by code (the worker's value is no longer the literal).
PATCHED = """
HAND_ANSWERS["loss"] = float(np.round(forward_backward_221(*_case)["loss"], 3)) + 0.0001
"""


def case_line(student: str) -> str:
    from grader.personal_case import personal_case

    x, V, w, y = personal_case(student)
    return CASE.format(x=[float(v) for v in x], V=[[float(v) for v in row] for row in V],
                       w=[float(v) for v in w], y=int(y))


def grade_ex2_with_source(folder: Path, staging: Path, student: str) -> ExerciseResult:
    """Exercise 2 graded in the real sandbox, its checks given the staged source (`folder=`)."""
    staged = stage(Submission(student, folder, "dir"), staging)
    rubric, checks = checks_for(EX2, hidden=True)
    with WorkerClient(staged.folder, config=SandboxConfig(), forbidden=FORBIDDEN_MODULES) as client:
        return run_exercise(EX2, client, rubric=rubric, checks=checks, source=staged.exercises[EX2],
                            seed=1234, student_id=student, folder=staged.folder).result


def add_code(folder: Path, code: str, form: str) -> None:
    if form == "module":
        path = folder / f"{EX2}.py"
        path.write_text(path.read_text("utf-8") + "\n" + code, encoding="utf-8")
        return
    path = folder / f"{EX2}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code.strip()))
    nbformat.write(notebook, path)


HAND_TESTS = ("HAND_ANSWERS.complete", "HAND_ANSWERS.personal_case")


@pytest.mark.parametrize("form", ["module", "notebook"])
def test_hand_answers_computed_by_code_earn_nothing(tmp_path: Path, form: str) -> None:
    student = "s005"
    notebooks = (EX2,) if form == "notebook" else ()
    written = solved_folder(tmp_path / "written", student, notebooks=notebooks)
    tests = results_by_name(grade_ex2_with_source(written, tmp_path / "staged-written", student))
    assert all(tests[name].status == "passed" for name in HAND_TESTS)  # literals: full marks

    for variant, code in (("computed", case_line(student) + COMPUTED), ("patched", case_line(student) + PATCHED)):
        folder = solved_folder(tmp_path / variant, student, notebooks=notebooks)
        add_code(folder, code, form)
        tests = results_by_name(grade_ex2_with_source(folder, tmp_path / f"staged-{variant}", student))
        for name in HAND_TESTS:
            assert tests[name].status == "failed" and tests[name].score == 0.0, (variant, name, tests[name])
            assert "Write the numbers you worked by hand as literals" in tests[name].feedback
        assert tests["forward_backward_221.lecture_case"].status == "passed"  # the rest is untouched
