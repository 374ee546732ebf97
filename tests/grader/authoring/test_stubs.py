"""The student modules: every contract name is there, and calling it raises NotImplementedError.

The same calls on the solution modules return, so the call table really reaches each body.
"""
from __future__ import annotations

import ast
import types

import numpy as np
import pytest

from grader.authoring import CHECK_GROUPS, EXERCISES

from .conftest import ROOT

ROW = np.array([[0.2, 0.8]])


def _calls(module) -> dict[str, callable]:
    """One call per contract name of `module`'s exercise, with valid arguments."""
    name = module.__name__
    if name == "ex1_activations_losses":
        one = ("identity", "sigmoid", "tanh", "relu", "softmax", "identity_grad", "sigmoid_grad",
               "tanh_grad", "relu_grad", "softmax_jacobian")
        two = ("mse", "mae", "bce", "cce", "mse_grad", "mae_grad", "bce_grad", "cce_grad",
               "sigmoid_bce_delta", "softmax_cce_delta")
        calls = {f: (lambda f=f: getattr(module, f)(ROW)) for f in one}
        target = np.array([[0.0, 1.0]])
        calls.update({f: (lambda f=f: getattr(module, f)(ROW, target)) for f in two})
        return calls
    if name == "ex2_hand_calculation":
        return {"forward_backward_221": lambda: module.forward_backward_221(
            np.array([0.5, 1.0]), np.full((2, 2), 0.5), np.ones(2), 1)}
    if name == "ex3_mlp_backprop":
        params = [(np.ones((2, 2)), np.zeros(2))]
        cache = {"A": [ROW, ROW], "Z": [ROW], "hidden": "sigmoid", "output": "softmax"}
        return {"init_params": lambda: module.init_params([2, 3, 2]),
                "forward": lambda: module.forward(params, ROW),
                "backward": lambda: module.backward(params, cache, np.array([[0.0, 1.0]]))}
    if name == "ex4_autograd_scalar":
        return {"Value": lambda: (module.Value(2.0) * 3.0).backward(),
                "sigmoid_trace": lambda: module.sigmoid_trace(2.0, 1.0, 0.5)}
    if name == "ex5_autograd_tensor":
        leaf = module.Tensor([1.0, 2.0], requires_grad=True)
        return {"Tensor": lambda: (leaf * 2.0).sum().backward(),
                "mse_loss": lambda: module.mse_loss(module.Tensor([1.0]), np.array([0.0])),
                "cross_entropy": lambda: module.cross_entropy(module.Tensor(ROW),
                                                              np.array([[0.0, 1.0]]))}
    if name == "ex6_gradient_descent":
        X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2)
        return {"sgd_step": lambda: module.sgd_step([(np.ones((2, 2)), np.zeros(2))],
                                                    [(np.ones((2, 2)), np.ones(2))], 0.1),
                "train": lambda: module.train(X, Y, [2, 2], epochs=1)}
    raise AssertionError(f"no calls for {name}")


CALLABLE_STEMS = [stem for stem in EXERCISES if stem != "ex2_hand_calculation"]


def test_the_call_table_covers_every_contract_name(solution_modules):
    for stem in EXERCISES:
        expected = set(CHECK_GROUPS[stem]) - {"HAND_ANSWERS"}
        assert set(_calls(solution_modules[stem])) == expected, stem


@pytest.mark.parametrize("stem", CALLABLE_STEMS)
def test_every_student_stub_raises_not_implemented(stem, import_student):
    for name, call in _calls(import_student(stem)).items():
        with pytest.raises(NotImplementedError):
            call()


@pytest.mark.parametrize("stem", EXERCISES)
def test_the_same_calls_return_on_the_solutions(stem, solution_modules):
    for name, call in _calls(solution_modules[stem]).items():
        call()


def _run_statement_by_statement(source: str, filename: str) -> tuple[dict, list[BaseException]]:
    """Run a module's top-level statements one at a time, carrying on after one raises."""
    namespace: dict = {"__name__": "ex2_hand_calculation"}
    raised = []
    for statement in ast.parse(source).body:
        code = compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec")
        try:
            exec(code, namespace)  # noqa: S102 - the course's own stub
        except NotImplementedError as exc:
            raised.append(exc)
    return namespace, raised


def test_ex2_student_module_raises_until_hand_answers_are_filled_in():
    source = (ROOT / "exercises" / "ex2_hand_calculation.py").read_text(encoding="utf-8")
    module = types.ModuleType("ex2_hand_calculation")
    with pytest.raises(NotImplementedError):
        exec(compile(source, "ex2_hand_calculation.py", "exec"), module.__dict__)  # noqa: S102
    with pytest.raises(NotImplementedError):
        _calls(module)["forward_backward_221"]()


def test_ex2_student_templates_survive_the_raise_after_them(solution_modules):
    # A grader running top-level statements one at a time still sees every name: the templates
    # hold None where the student writes numbers, and each is followed by its own raise.
    source = (ROOT / "exercises" / "ex2_hand_calculation.py").read_text(encoding="utf-8")
    namespace, raised = _run_statement_by_statement(source, "ex2_hand_calculation.py")
    assert len(raised) == 2  # one after STUDENT_ID, one after HAND_ANSWERS
    assert namespace["STUDENT_ID"] == "your student id"
    solved = solution_modules["ex2_hand_calculation"].HAND_ANSWERS
    template = namespace["HAND_ANSWERS"]
    assert list(template) == list(solved)
    for key, value in template.items():
        assert np.shape(value) == np.shape(solved[key]), key
        assert all(item is None for item in np.ravel(np.array(value, dtype=object))), key
    with pytest.raises(NotImplementedError):
        namespace["forward_backward_221"](np.array([0.5, 1.0]), np.full((2, 2), 0.5), np.ones(2), 1)


def test_ex2_solution_module_sets_the_id_the_hand_answers_were_worked_for(solution_modules):
    assert solution_modules["ex2_hand_calculation"].STUDENT_ID == "solutions"
