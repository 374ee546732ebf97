"""Public checks of exercise 4 against right and deliberately wrong scalar engines.

`make_engine(*mistakes)` is a Value written apart from the reference (Kahn's algorithm for the
order, subtraction and division as primitives, sigmoid through tanh); each mistake switches in
one known slip. The hidden checks' tests use it too.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

import grader.checks.ex4_autograd_scalar as public
import grader.checks.hidden.ex4_autograd_scalar  # noqa: F401 - registers the hidden checks
from grader.authoring.check_groups import CHECK_GROUPS, group_of
from grader.checks.base import REGISTRY, CheckContext
from grader.rubric import load_rubric
from grader.worker.in_process import InProcessTransport
from reference import scalar_engine

STEM = "ex4_autograd_scalar"
PUBLIC = [name for name, c in REGISTRY[STEM].items() if c.run.__module__ == public.__name__]
HIDDEN = [name for name in REGISTRY[STEM] if name not in PUBLIC]
SOLUTION = Path(__file__).resolve().parents[3] / "solutions" / f"{STEM}.py"

MISTAKES = {"overwrite", "preorder", "recursive", "no_rsub", "pow_missing_minus_one", "tanh_of_input",
            "relu_constant", "seed_minus_one", "trace_hardcoded", "trace_sign", "trace_forgets_x"}


def make_engine(*mistakes: str) -> dict:
    """A namespace with `Value` and `sigmoid_trace`, with `mistakes` switched in."""
    unknown = set(mistakes) - MISTAKES
    if unknown:
        raise ValueError(f"unknown mistakes {unknown}")
    m = set(mistakes)

    def add_grad(node, amount):
        if "overwrite" in m:
            node.grad = amount
        else:
            node.grad += amount

    class Value:
        def __init__(self, data, children=()):
            self.data = float(data)
            self.grad = 0.0
            self.children = children
            self.local = ()  # d(self)/d(child) per child, filled by each operation

        @staticmethod
        def lift(x):
            return x if isinstance(x, Value) else Value(x)

        def make(self, data, children, local):
            out = Value(data, children)
            out.local = local
            return out

        def __add__(self, other):
            other = Value.lift(other)
            return self.make(self.data + other.data, (self, other), (1.0, 1.0))

        def __sub__(self, other):
            other = Value.lift(other)
            return self.make(self.data - other.data, (self, other), (1.0, -1.0))

        def __mul__(self, other):
            other = Value.lift(other)
            return self.make(self.data * other.data, (self, other), (other.data, self.data))

        def __truediv__(self, other):
            other = Value.lift(other)
            return self.make(self.data / other.data, (self, other),
                             (1.0 / other.data, -self.data / other.data ** 2))

        def __pow__(self, p):
            slope = p * self.data ** p if "pow_missing_minus_one" in m else p * self.data ** (p - 1)
            return self.make(self.data ** p, (self,), (slope,))

        def __neg__(self):
            return self.make(-self.data, (self,), (-1.0,))

        def __radd__(self, other):
            return Value.lift(other) + self

        if "no_rsub" not in m:
            def __rsub__(self, other):
                return Value.lift(other) - self

        def __rmul__(self, other):
            return Value.lift(other) * self

        def __rtruediv__(self, other):
            return Value.lift(other) / self

        def exp(self):
            e = math.exp(self.data)
            return self.make(e, (self,), (e,))

        def log(self):
            return self.make(math.log(self.data), (self,), (1.0 / self.data,))

        def sigmoid(self):
            s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
            return self.make(s, (self,), (s * (1.0 - s),))

        def tanh(self):
            t = math.tanh(self.data)
            return self.make(t, (self,), (1.0 - self.data ** 2 if "tanh_of_input" in m else 1.0 - t * t,))

        def relu(self):
            slope = 1.0 if "relu_constant" in m else float(self.data > 0)
            return self.make(max(self.data, 0.0), (self,), (slope,))

        def propagate(self):
            for child, local in zip(self.children, self.local):
                add_grad(child, local * self.grad)

        def backward(self):
            self.grad = -1.0 if "seed_minus_one" in m else 1.0
            for node in order(self):
                node.propagate()

    def order(root):
        if "recursive" in m:  # micrograd's walk
            topo, seen = [], set()

            def build(v):
                if id(v) not in seen:
                    seen.add(id(v))
                    for child in v.children:
                        build(child)
                    topo.append(v)
            build(root)
            return topo[::-1]
        if "preorder" in m:  # a node is visited when first reached
            visited, stack, out = {id(root)}, [root], []
            while stack:
                node = stack.pop()
                out.append(node)
                for child in node.children:
                    if id(child) not in visited:
                        visited.add(id(child))
                        stack.append(child)
            return out
        # Kahn's algorithm: a node is ready once every consumer has been visited.
        consumers, stack, seen = {}, [root], {id(root)}
        while stack:
            node = stack.pop()
            for child in node.children:
                consumers[id(child)] = consumers.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        ready, out = [root], []
        while ready:
            node = ready.pop()
            out.append(node)
            for child in node.children:
                consumers[id(child)] -= 1
                if consumers[id(child)] == 0:
                    ready.append(child)
        return out

    def sigmoid_trace(w, x, b):
        if "trace_hardcoded" in m:
            w, x, b = 2.0, 1.0, 0.5
        z1 = w * x
        z2 = z1 + b
        z3 = -z2
        z4 = math.exp(z3)
        L = 1.0 / (1.0 + z4)
        dz4 = -L * L
        dz3 = dz4 * z4
        dz2 = dz3 if "trace_sign" in m else -dz3
        return {"z1": z1, "z2": z2, "z3": z3, "z4": z4, "L": L, "dL_dz4": dz4, "dL_dz3": dz3,
                "dL_dz2": dz2, "dL_db": dz2, "dL_dw": dz2 if "trace_forgets_x" in m else dz2 * x}

    return {"Value": Value, "sigmoid_trace": sigmoid_trace}


def reference_engine() -> dict:
    return {"Value": scalar_engine.Value, "sigmoid_trace": scalar_engine.sigmoid_trace}


def solution_engine() -> dict:
    spec = importlib.util.spec_from_file_location(f"solution_{STEM}", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"Value": module.Value, "sigmoid_trace": module.sigmoid_trace}


CORRECT = {"reference": reference_engine, "rewritten": make_engine}
if SOLUTION.exists():
    CORRECT["solution"] = solution_engine




def test_rubric_and_registry_name_the_same_tests():
    rubric = load_rubric(STEM)
    assert set(rubric.tests) == set(REGISTRY[STEM])
    assert rubric.max_score == 15.0
    for name in REGISTRY[STEM]:
        assert group_of(STEM, name) in CHECK_GROUPS[STEM], name
        assert rubric.tests[name].visibility == ("visible" if name in PUBLIC else "hidden"), name
    assert {group_of(STEM, name) for name in PUBLIC} == set(CHECK_GROUPS[STEM])


@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_engines_pass_every_public_check(run_check, student):
    namespace = CORRECT[student]()
    for name in PUBLIC:
        outcome = run_check(STEM, name, namespace)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


# mistake -> {check: (status, diagnosis)}
BROKEN = {
    "overwrite": {"Value.shared_nodes": ("failed", "gradient_overwritten"),
                  "Value.topological_order": ("failed", "gradient_overwritten"),
                  "Value.micrograd": ("failed", "gradient_overwritten"),
                  "Value.operators": ("failed", "gradient_overwritten")},  # x * x
    "preorder": {"Value.topological_order": ("failed", "wrong_topological_order")},
    "recursive": {"Value.deep_chain": ("failed", "recursion_limit")},
    "no_rsub": {"Value.reflected": ("error", None)},
    "pow_missing_minus_one": {"Value.operators": ("failed", None), "Value.micrograd": ("failed", None)},
    "tanh_of_input": {"Value.functions": ("failed", "derivative_of_wrong_input")},
    # micrograd's example holds relu(-2): a shared node there lands on one use's share by chance,
    # and only a node whose consumers are all right counts as evidence.
    "relu_constant": {"Value.functions": ("failed", "relu_derivative_constant"),
                      "Value.micrograd": ("failed", None)},
    "seed_minus_one": {**{name: ("failed", "sign_flipped") for name in (
        "Value.operators", "Value.reflected", "Value.functions", "Value.micrograd", "Value.shared_nodes",
        "Value.topological_order")}},
    "trace_hardcoded": {"sigmoid_trace.values": ("failed", "hardcoded_answer"),
                        "sigmoid_trace.chain_rule": ("failed", "hardcoded_answer")},
    "trace_sign": {"sigmoid_trace.values": ("failed", "sign_flipped"),
                   "sigmoid_trace.chain_rule": ("failed", "sign_flipped")},
    "trace_forgets_x": {"sigmoid_trace.values": ("failed", None), "sigmoid_trace.chain_rule": ("failed", None)},
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_engine(mistake)
    for name, (status, diagnosis) in BROKEN[mistake].items():
        outcome = run_check(STEM, name, namespace)
        assert (outcome.status, outcome.diagnosis) == (status, diagnosis), (name, outcome.feedback)
        assert outcome.feedback
    # A Value mistake leaves sigmoid_trace passing, and the reverse.
    touched = {group_of(STEM, name) for name in BROKEN[mistake]}
    for name in PUBLIC:
        if group_of(STEM, name) not in touched:
            assert run_check(STEM, name, namespace).status == "passed", name


def test_recursive_engine_passes_everything_but_deep_graphs(run_check):
    namespace = make_engine("recursive")
    failing = [name for name in PUBLIC if run_check(STEM, name, namespace).status != "passed"]
    assert failing == ["Value.deep_chain"]


def test_only_a_recursion_error_is_caught(run_check):
    class Value(make_engine()["Value"]):
        def backward(self):
            raise ValueError("not today")

    outcome = run_check(STEM, "Value.deep_chain", {"Value": Value})
    assert (outcome.status, outcome.diagnosis) == ("error", None)


def test_public_feedback_quotes_the_values(run_check):
    outcome = run_check(STEM, "Value.operators", make_engine("pow_missing_minus_one"))
    assert "x ** 2" in outcome.feedback and "the right value is" in outcome.feedback


def test_every_check_needs_the_name_it_tests():
    # The runner marks a check "missing" when a name in `needs` is not defined.
    for name, registered in REGISTRY[STEM].items():
        assert registered.needs == (group_of(STEM, name),), name


@pytest.mark.parametrize("returned, words", [
    (lambda w, x, b: [1.0], "should return a dict"),
    (lambda w, x, b: {"z1": 1.0}, "lacks the key"),
    (lambda w, x, b: {k: "a" for k in public.TRACE_KEYS}, "should be a number"),
])
def test_wrong_trace_types_fail_with_a_message(run_check, returned, words):
    outcome = run_check(STEM, "sigmoid_trace.values", {"sigmoid_trace": returned})
    assert outcome.status == "failed" and words in outcome.feedback


def test_chain_rule_survives_absurd_numbers(run_check):
    answer = {k: 1e6 for k in public.TRACE_KEYS}
    outcome = run_check(STEM, "sigmoid_trace.chain_rule", {"sigmoid_trace": lambda w, x, b: answer})
    assert outcome.status == "failed" and "z1" in outcome.feedback


# The evidence behind the diagnoses is tested alone in tests/grader/diagnosis/test_engine_probes.py.


def test_public_checks_run_from_release_data_without_the_reference(run_check, monkeypatch):
    """As in the student release: fixtures come from the shipped JSON and reference is absent."""
    import json
    import sys

    from grader.checks import fixtures

    shipped = json.loads(json.dumps(fixtures.build_all(STEM)))
    monkeypatch.setattr(fixtures, "_CACHE", {})
    monkeypatch.setattr(fixtures, "_shipped", lambda exercise: shipped if exercise == STEM else None)
    monkeypatch.setitem(sys.modules, "reference", None)
    namespace = make_engine()
    for name in PUBLIC:
        assert run_check(STEM, name, namespace).status == "passed", name


# The engine probes that confirm a graph mistake.

@pytest.mark.parametrize("mistake, code", [("overwrite", "gradient_overwritten"), ("preorder", "wrong_topological_order"),
                                           (None, None), ("tanh_of_input", None), ("relu_constant", None)])
def test_engine_probes_tell_overwrite_from_order(mistake, code):
    namespace = make_engine(*([mistake] if mistake else []))
    ctx = CheckContext(exercise=STEM, transport=InProcessTransport({STEM: namespace}),
                       settings=dict(load_rubric(STEM).settings))
    assert public.engine_mistake(ctx) == code


def test_a_graph_mistake_is_named_only_when_the_probes_agree(run_check, monkeypatch):
    monkeypatch.setattr(public, "engine_mistake", lambda ctx: None)
    outcome = run_check(STEM, "Value.shared_nodes", make_engine("overwrite"))
    assert (outcome.status, outcome.diagnosis) == ("failed", None)
