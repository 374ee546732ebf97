"""Public checks of exercise 5 against right and deliberately wrong Tensor engines.

`make_tensor_engine(*mistakes)` is a Tensor written apart from the reference (Kahn's algorithm,
grads kept on every node, sigmoid through tanh, unbroadcast by a loop); each mistake switches in
one known slip. The hidden checks' tests use it too.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import grader.checks.ex5_autograd_tensor as public
import grader.checks.hidden.ex5_autograd_tensor  # noqa: F401 - registers the hidden checks
from grader.authoring.check_groups import CHECK_GROUPS, group_of
from grader.checks.base import REGISTRY, CheckContext
from grader.rubric import load_rubric
from grader.worker.in_process import InProcessTransport
from reference import tensor_engine

STEM = "ex5_autograd_tensor"
PUBLIC = [name for name, c in REGISTRY[STEM].items() if c.run.__module__ == public.__name__]
HIDDEN = [name for name in REGISTRY[STEM] if name not in PUBLIC]
SOLUTION = Path(__file__).resolve().parents[3] / "solutions" / f"{STEM}.py"

MISTAKES = {"no_unbroadcast", "overwrite", "reset_each_backward", "recursive", "no_raise", "naive_ce", "ce_sum",
            "relu_inplace", "matmul_transposed", "mean_no_divide", "no_requires_grad", "grad_fn_none",
            "tanh_of_input", "div_sign", "bfs_order", "ce_axis0"}


def make_tensor_engine(*mistakes: str) -> dict:
    """A namespace with Tensor, mse_loss and cross_entropy, with `mistakes` switched in."""
    unknown = set(mistakes) - MISTAKES
    if unknown:
        raise ValueError(f"unknown mistakes {unknown}")
    m = set(mistakes)

    def unbroadcast(g, shape):
        if "no_unbroadcast" in m:
            return g
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, size in enumerate(shape):
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    class Node:
        def __init__(self, name, parents, local):
            self.name, self.parents, self.local = name, parents, local

    class Tensor:
        __array_ufunc__ = None

        def __init__(self, data, requires_grad=False):
            self.data = np.array(data, dtype=np.float64)
            self.requires_grad = requires_grad
            self.grad = None
            self.grad_fn = None

        @property
        def is_leaf(self):
            return self.grad_fn is None

        @staticmethod
        def lift(x):
            return x if isinstance(x, Tensor) else Tensor(x)

        def result(self, data, parents, name, local):
            out = Tensor(data)
            if "no_requires_grad" not in m and any(p.requires_grad for p in parents):
                out.requires_grad = True
                if "grad_fn_none" not in m:
                    out.grad_fn = Node(name, parents, local)
            return out

        def __add__(self, o):
            o = Tensor.lift(o)
            return self.result(self.data + o.data, (self, o), "AddBackward", lambda g: (g, g))

        def __sub__(self, o):
            o = Tensor.lift(o)
            return self.result(self.data - o.data, (self, o), "SubBackward", lambda g: (g, -g))

        def __mul__(self, o):
            o = Tensor.lift(o)
            a, b = self.data, o.data
            return self.result(a * b, (self, o), "MulBackward", lambda g: (g * b, g * a))

        def __truediv__(self, o):
            o = Tensor.lift(o)
            a, b = self.data, o.data
            sign = 1.0 if "div_sign" in m else -1.0
            return self.result(a / b, (self, o), "DivBackward", lambda g: (g / b, sign * g * a / b ** 2))

        def __neg__(self):
            return self.result(-self.data, (self,), "NegBackward", lambda g: (-g,))

        def __pow__(self, p):
            a = self.data
            return self.result(a ** p, (self,), "PowBackward", lambda g: (g * p * a ** (p - 1),))

        def __matmul__(self, o):
            o = Tensor.lift(o)
            a, b = self.data, o.data
            if "matmul_transposed" in m:
                return self.result(a @ b, (self, o), "MmBackward", lambda g: (g @ b.T, g.T @ a))
            return self.result(a @ b, (self, o), "MmBackward", lambda g: (g @ b.T, a.T @ g))

        def __radd__(self, o):
            return Tensor.lift(o) + self

        def __rsub__(self, o):
            return Tensor.lift(o) - self

        def __rmul__(self, o):
            return Tensor.lift(o) * self

        def __rtruediv__(self, o):
            return Tensor.lift(o) / self

        def __rmatmul__(self, o):
            return Tensor.lift(o) @ self

        def sum(self, axis=None, keepdims=False):
            kept = np.sum(self.data, axis=axis, keepdims=True).shape
            shape = self.data.shape
            return self.result(self.data.sum(axis=axis, keepdims=keepdims), (self,), "SumBackward",
                               lambda g: (np.broadcast_to(np.reshape(g, kept), shape).copy(),))

        def mean(self, axis=None, keepdims=False):
            count = 1 if "mean_no_divide" in m else self.data.size // np.sum(self.data, axis=axis,
                                                                                keepdims=True).size
            return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

        def exp(self):
            e = np.exp(self.data)
            return self.result(e, (self,), "ExpBackward", lambda g: (g * e,))

        def log(self):
            a = self.data
            return self.result(np.log(a), (self,), "LogBackward", lambda g: (g / a,))

        def sigmoid(self):
            s = 0.5 * (1.0 + np.tanh(0.5 * self.data))
            return self.result(s, (self,), "SigmoidBackward", lambda g: (g * s * (1.0 - s),))

        def tanh(self):
            a, t = self.data, np.tanh(self.data)
            slope = 1.0 - a ** 2 if "tanh_of_input" in m else 1.0 - t ** 2
            return self.result(t, (self,), "TanhBackward", lambda g: (g * slope,))

        def relu(self):
            a = self.data
            if "relu_inplace" in m:
                mask = a > 0
                a[~mask] = 0.0
                return self.result(a, (self,), "ReluBackward", lambda g: (g * mask,))
            return self.result(np.where(a > 0, a, 0.0), (self,), "ReluBackward", lambda g: (g * (a > 0),))

        def backward(self, grad=None):
            if grad is None:
                if self.data.size != 1 and "no_raise" not in m:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                grad = np.ones_like(self.data)
            nodes = order(self)
            if "reset_each_backward" in m:
                for node in nodes:
                    node.grad = None
            pending = {id(self): np.array(grad, dtype=np.float64)}
            for node in nodes:
                g = pending.pop(id(node), None)
                if g is None:
                    continue
                node.grad = g if node.grad is None or "overwrite" in m or node.grad_fn is not None else node.grad + g
                if node.grad_fn is None:
                    continue
                for parent, pg in zip(node.grad_fn.parents, node.grad_fn.local(g)):
                    if parent.requires_grad:
                        pg = unbroadcast(pg, parent.data.shape)
                        seen = pending.get(id(parent))
                        pending[id(parent)] = pg if seen is None or "overwrite" in m else seen + pg

    def parents_of(t):
        return [p for p in (t.grad_fn.parents if t.grad_fn else ()) if p.requires_grad]

    def order(root):
        """Consumers before their inputs."""
        if "bfs_order" in m:  # breadth-first from the output: a node may come before a consumer
            out, seen = [root], {id(root)}
            for t in out:
                for p in parents_of(t):
                    if id(p) not in seen:
                        seen.add(id(p))
                        out.append(p)
            return out
        if "recursive" in m:
            topo, seen = [], set()

            def build(t):
                if id(t) not in seen:
                    seen.add(id(t))
                    for p in parents_of(t):
                        build(p)
                    topo.append(t)
            build(root)
            return topo[::-1]
        consumers, stack, seen = {}, [root], {id(root)}
        while stack:
            t = stack.pop()
            for p in parents_of(t):
                consumers[id(p)] = consumers.get(id(p), 0) + 1
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)
        ready, out = [root], []
        while ready:
            t = ready.pop()
            out.append(t)
            for p in parents_of(t):
                consumers[id(p)] -= 1
                if consumers[id(p)] == 0:
                    ready.append(p)
        return out

    def mse_loss(pred, target):
        return ((pred - Tensor.lift(target)) ** 2).mean()

    def cross_entropy(logits, target_onehot):
        target = Tensor.lift(target_onehot)
        shifted = logits if "naive_ce" in m else logits - logits.data.max(axis=1, keepdims=True)
        axis = 0 if "ce_axis0" in m else 1
        log_probs = shifted - shifted.exp().sum(axis=axis, keepdims=True).log()
        per_row = -(target * log_probs).sum(axis=1)
        return per_row.sum() if "ce_sum" in m else per_row.mean()

    return {"Tensor": Tensor, "mse_loss": mse_loss, "cross_entropy": cross_entropy}


def reference_engine() -> dict:
    return {"Tensor": tensor_engine.Tensor, "mse_loss": tensor_engine.mse_loss,
            "cross_entropy": tensor_engine.cross_entropy}


def solution_engine() -> dict:
    spec = importlib.util.spec_from_file_location(f"solution_{STEM}", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in ("Tensor", "mse_loss", "cross_entropy")}


CORRECT = {"reference": reference_engine, "rewritten": make_tensor_engine}
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


def test_every_check_needs_tensor_and_the_name_it_tests():
    for name, registered in REGISTRY[STEM].items():
        assert set(registered.needs) == {"Tensor", group_of(STEM, name)}, name


@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_engines_pass_every_public_check(run_check, student):
    namespace = CORRECT[student]()
    for name in PUBLIC:
        outcome = run_check(STEM, name, namespace)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


# mistake -> {check: (status, diagnosis)}
BROKEN = {
    "no_unbroadcast": {"Tensor.broadcasting": ("failed", "broadcast_grad_not_reduced")},
    "overwrite": {"Tensor.shared": ("failed", "gradient_overwritten"),
                  "Tensor.accumulation": ("failed", "gradient_overwritten"),
                  "Tensor.elementwise": ("failed", "gradient_overwritten")},  # a * a
    "reset_each_backward": {"Tensor.accumulation": ("failed", "gradient_overwritten")},
    "recursive": {"Tensor.deep_chain": ("failed", "recursion_limit")},
    "no_raise": {"Tensor.backward_needs_grad": ("failed", None)},
    "naive_ce": {"cross_entropy.large_logits": ("failed", "softmax_unstable")},
    "ce_sum": {"cross_entropy.values": ("failed", "batch_sum_not_mean")},
    "relu_inplace": {"Tensor.elementwise": ("failed", "mutates_input")},
    "matmul_transposed": {"Tensor.matmul": ("failed", "transposed")},
    "mean_no_divide": {"Tensor.reductions": ("failed", None), "mse_loss.values": ("failed", None)},
    "no_requires_grad": {"Tensor.attributes": ("failed", None)},
    "grad_fn_none": {"Tensor.attributes": ("failed", None)},
    "tanh_of_input": {"Tensor.elementwise": ("failed", "derivative_of_wrong_input"),
                      "cross_entropy.values": ("failed", None)},
    "div_sign": {"Tensor.elementwise": ("failed", "sign_flipped"), "Tensor.broadcasting": ("failed", "sign_flipped")},
    "bfs_order": {"Tensor.shared": ("failed", "wrong_topological_order")},
    "ce_axis0": {"cross_entropy.values": ("failed", "softmax_wrong_axis")},
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive softmax overflows, as it should
@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_tensor_engine(mistake)
    for name, (status, diagnosis) in BROKEN[mistake].items():
        outcome = run_check(STEM, name, namespace)
        assert (outcome.status, outcome.diagnosis) == (status, diagnosis), (name, outcome.feedback)
        assert outcome.feedback


@pytest.mark.parametrize("mistake, still_passing", [
    ("recursive", [n for n in PUBLIC if n != "Tensor.deep_chain"]),
    ("naive_ce", [n for n in PUBLIC if n != "cross_entropy.large_logits"]),
    ("reset_each_backward", [n for n in PUBLIC if n != "Tensor.accumulation"]),
    ("no_raise", [n for n in PUBLIC if n != "Tensor.backward_needs_grad"]),
])
def test_narrow_mistakes_fail_only_their_check(run_check, mistake, still_passing):
    namespace = make_tensor_engine(mistake)
    for name in still_passing:
        assert run_check(STEM, name, namespace).status == "passed", name


def test_an_engine_that_cannot_run_the_graph_does_not_pass_the_raise_check(run_check):
    namespace = make_tensor_engine()

    class Tensor(namespace["Tensor"]):
        def tanh(self):
            raise NotImplementedError

    outcome = run_check(STEM, "Tensor.backward_needs_grad", {**namespace, "Tensor": Tensor})
    assert outcome.status == "error"


def test_grad_fn_names_may_use_words_or_symbols():
    case = public.attribute_case()
    reference = public.reference_runner()(case.spec)
    assert public.attribute_problem(case, reference) is None
    for name in ("Mul", "*", "MulBackward0"):
        assert public.attribute_problem(case, {**reference, "grad_fn": [None, None, name, None, "tanh", "+", "Sum"]}) \
            is None
    wrong = {**reference, "grad_fn": [None, None, "Node", None, "tanh", "+", "Sum"]}
    assert "grad_fn" in public.attribute_problem(case, wrong)


def test_changed_leaf_ignores_a_reshaped_scalar():
    spec = {"nodes": [public.leaf(np.array(2.0)), public.leaf(np.ones((2, 2)))], "backward": []}
    assert public.changed_leaf(spec, {"data": [np.array([2.0]), np.ones((2, 2))]}) is None
    assert public.changed_leaf(spec, {"data": [np.array(2.0), np.zeros((2, 2))]}) == 1


def test_public_specs_are_the_same_every_time():
    first, second = public.elementwise_cases(), public.elementwise_cases()
    assert all(np.array_equal(a.spec["nodes"][0][1], b.spec["nodes"][0][1]) for a, b in zip(first, second))


def test_public_checks_run_from_release_data_without_the_reference(run_check, monkeypatch):
    """As in the student release: fixtures come from the shipped JSON and reference is absent."""
    import json
    import sys

    from grader.checks import fixtures

    shipped = json.loads(json.dumps(fixtures.build_all(STEM)))
    monkeypatch.setattr(fixtures, "_CACHE", {})
    monkeypatch.setattr(fixtures, "_shipped", lambda exercise: shipped if exercise == STEM else None)
    monkeypatch.setitem(sys.modules, "reference", None)
    namespace = make_tensor_engine()
    for name in PUBLIC:
        assert run_check(STEM, name, namespace).status == "passed", name


# The engine probes that confirm a graph mistake.

@pytest.mark.parametrize("mistake, code", [("overwrite", "gradient_overwritten"), ("bfs_order", "wrong_topological_order"),
                                           (None, None), ("tanh_of_input", None), ("reset_each_backward", None)])
def test_engine_probes_tell_overwrite_from_order(mistake, code):
    namespace = make_tensor_engine(*([mistake] if mistake else []))
    ctx = CheckContext(exercise=STEM, transport=InProcessTransport({STEM: namespace}),
                       settings=dict(load_rubric(STEM).settings))
    assert public.engine_mistake(ctx) == code


def test_a_graph_mistake_is_named_only_when_the_probes_agree(run_check, monkeypatch):
    monkeypatch.setattr(public, "engine_mistake", lambda ctx: None)
    for mistake in ("overwrite", "bfs_order"):
        outcome = run_check(STEM, "Tensor.shared", make_tensor_engine(mistake))
        assert (outcome.status, outcome.diagnosis) == ("failed", None), mistake
