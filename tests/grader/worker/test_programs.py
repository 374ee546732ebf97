"""The graph programs: on the reference engines they reproduce direct computations, and a
deliberately broken engine gives an answer that differs from the reference's."""
from __future__ import annotations

import inspect
import math
import sys
import types

import numpy as np
import pytest

import reference.scalar_engine as scalar_engine
import reference.tensor_engine as tensor_engine
from grader.checks import graph_specs
from grader.worker.inside.programs import SpecError, run_program, run_tensor_graph, run_value_graph
from reference.scalar_engine import Value
from reference.tensor_engine import Tensor


# Value graphs on the reference engine.

def test_micrograd_example_gives_the_readme_numbers():
    out = run_value_graph(Value, graph_specs.micrograd_example_spec())
    assert out["data"][26] == pytest.approx(24.7041, abs=5e-5)
    assert out["grad"][0] == pytest.approx(138.8338, abs=5e-5)
    assert out["grad"][1] == pytest.approx(645.5773, abs=5e-5)


def test_micrograd_example_keeps_the_readmes_reflected_operations():
    # 1 + c, 3 * d and 10.0 / f: the README exercises __radd__, __rmul__ and __rtruediv__.
    nodes = graph_specs.micrograd_example_spec()["nodes"]
    reflected = {n[1] for n in nodes if n[0] == "op" and isinstance(n[2], dict)}
    assert reflected == {"add", "mul", "truediv"}


def test_value_graph_reproduces_the_same_graph_built_directly():
    w, x = Value(-0.8), Value(1.5)
    s = w * x
    a = s.tanh()
    b = a * 3.0
    c = b.exp()
    L = c + s
    L.backward()
    direct = [w, x, s, a, b, c, L]
    out = run_value_graph(Value, graph_specs.shared_node_spec())
    assert out["data"] == [n.data for n in direct]
    assert out["grad"] == [n.grad for n in direct]


@pytest.mark.parametrize("spec, node, expected_grad", [
    (graph_specs.diamond_spec(), 0, (1 - math.tanh(0.5) ** 2 + math.tanh(0.5)) * math.exp(0.5)),
    (graph_specs.reused_variable_spec(), 0, 8.0),
    (graph_specs.chain_spec(7), 0, -1.0),
    (graph_specs.chain_spec(8), 0, 1.0),
])
def test_value_graph_gradients_in_closed_form(spec, node, expected_grad):
    assert run_value_graph(Value, spec)["grad"][node] == pytest.approx(expected_grad)


def test_deep_chain_runs_on_the_reference():
    out = run_value_graph(Value, graph_specs.chain_spec(20_000))
    assert out["grad"][0] == 1.0 and out["data"][-1] == 0.25


class RecordingValue:
    """A minimal engine that records which operator methods the interpreter calls."""

    calls: list[str] = []

    def __init__(self, data):
        self.data, self.grad = float(data), 0.0

    def backward(self):
        self.grad = 1.0


def _recording(name, fn):
    def method(self, other):
        RecordingValue.calls.append(name)
        return RecordingValue(fn(self.data, other))
    return method


for _name, _fn in [("__add__", lambda s, o: s + o), ("__radd__", lambda s, o: o + s),
                   ("__sub__", lambda s, o: s - o), ("__rsub__", lambda s, o: o - s),
                   ("__mul__", lambda s, o: s * o), ("__rmul__", lambda s, o: o * s),
                   ("__truediv__", lambda s, o: s / o), ("__rtruediv__", lambda s, o: o / s),
                   ("__pow__", lambda s, o: s ** o)]:
    setattr(RecordingValue, _name, _recording(_name, _fn))


@pytest.mark.parametrize("op, const_first, method, expected", [
    ("add", True, "__radd__", 2 + 0.5), ("sub", True, "__rsub__", 2 - 0.5),
    ("mul", True, "__rmul__", 2 * 0.5), ("truediv", True, "__rtruediv__", 2 / 0.5),
    ("add", False, "__add__", 0.5 + 2), ("sub", False, "__sub__", 0.5 - 2),
    ("mul", False, "__mul__", 0.5 * 2), ("truediv", False, "__truediv__", 0.5 / 2),
    ("pow", False, "__pow__", 0.5 ** 2),
])
def test_a_constant_on_the_left_uses_the_reflected_operator(op, const_first, method, expected):
    operands = [{"const": 2}, 0] if const_first else [0, {"const": 2}]
    RecordingValue.calls = []
    out = run_value_graph(RecordingValue, {"nodes": [["leaf", 0.5], ["op", op, *operands]], "backward": [1]})
    assert RecordingValue.calls == [method]
    assert out["data"][1] == pytest.approx(expected)


@pytest.mark.parametrize("zero, expected", [(False, 6.0), (True, 3.0)])
def test_zero_grad_between_resets_grads_before_each_backward(zero, expected):
    spec = {"nodes": [["leaf", 2.0], ["op", "mul", 0, {"const": 3.0}]], "backward": [1, 1],
            "zero_grad_between": zero}
    assert run_value_graph(Value, spec)["grad"][0] == expected


def test_value_graph_answers_are_python_floats():
    out = run_value_graph(Value, graph_specs.diamond_spec())
    assert set(out) == {"data", "grad"}
    assert all(type(v) is float for v in out["data"] + out["grad"])


# Tensor graphs on the reference engine.

def test_mlp_spec_matches_hand_written_backprop():
    spec = graph_specs.tensor_mlp_spec(seed=3)
    X, W1, b1, W2, b2 = (node[1] for node in spec["nodes"][:5])
    Y = spec["nodes"][10][3]["const"]
    A1 = np.tanh(X @ W1 + b1)
    Z2 = A1 @ W2 + b2
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    delta2 = (P - Y) / len(X)  # the lecture's y_hat - y, for the batch mean
    delta1 = (delta2 @ W2.T) * (1 - A1 ** 2)

    out = run_tensor_graph(tensor_engine, spec)
    assert out["data"][10] == pytest.approx(-(Y * np.log(P)).sum(axis=1).mean())
    expected_grads = {1: X.T @ delta1, 2: delta1.sum(axis=0), 3: A1.T @ delta2, 4: delta2.sum(axis=0)}
    for node, expected in expected_grads.items():
        np.testing.assert_allclose(out["grad"][node], expected, atol=1e-12)
    assert out["grad"][0] is None  # X needs no gradient


def test_mse_mlp_spec_loss_is_the_mean_square():
    spec = graph_specs.tensor_mlp_spec(seed=1, loss="mse")
    out = run_tensor_graph(tensor_engine, spec)
    target = spec["nodes"][10][3]["const"]
    assert out["data"][10] == pytest.approx(((out["data"][9] - target) ** 2).mean())


def test_broadcast_spec_gradients_have_the_operand_shapes_and_values():
    spec = graph_specs.tensor_broadcast_spec(seed=5)
    M, row, k, col, v = (node[1] for node in spec["nodes"][:5])
    T = 1 - np.tanh((M + row + 2.0) * k + col * row - v) ** 2
    expected = [T * k,
                (T * k).sum(axis=0, keepdims=True) + (T * col).sum(axis=0, keepdims=True),
                (T * (M + row + 2.0)).sum(),
                (T * row).sum(axis=1, keepdims=True),
                -T.sum(axis=0)]
    out = run_tensor_graph(tensor_engine, spec)
    for node, want in enumerate(expected):
        assert out["grad"][node].shape == np.shape(want)
        np.testing.assert_allclose(out["grad"][node], want, atol=1e-12)


def test_tensor_graph_reports_grad_fn_is_leaf_and_requires_grad():
    spec = {"nodes": [["leaf", np.ones((2, 2)), True], ["leaf", np.ones(2), False],
                      ["op", "mul", 0, 1], ["op", "add", 1, {"const": 1.0}],
                      ["op", "sum", 2, {"axis": [0, 1]}]],
            "backward": [[4, None]]}
    out = run_tensor_graph(tensor_engine, spec)
    assert out["grad_fn"] == [None, None, "MulBackward", None, "SumBackward"]
    assert out["is_leaf"] == [True, True, False, True, False]
    assert out["requires_grad"] == [True, False, True, False, True]
    assert [g is None for g in out["grad"]] == [False, True, True, True, True]


def test_accumulation_and_explicit_grad_specs():
    out = run_tensor_graph(tensor_engine, graph_specs.tensor_accumulation_spec())
    W = graph_specs.tensor_accumulation_spec()["nodes"][0][1]
    np.testing.assert_allclose(out["grad"][0], 4 * W)

    spec = graph_specs.tensor_explicit_grad_spec(seed=2)
    x, G = spec["nodes"][0][1], spec["backward"][0][1]
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(run_tensor_graph(tensor_engine, spec)["grad"][0], G * 2 * s * (1 - s))


def test_large_logits_spec_stays_finite():
    out = run_tensor_graph(tensor_engine, graph_specs.tensor_large_logits_spec())
    assert np.isfinite(out["data"][1]) and np.all(np.isfinite(out["grad"][0]))
    # Row 1 is right by a huge margin (loss 0); row 2 prefers class 2 over its class 1 by 1.
    assert out["data"][1] == pytest.approx(math.log(1 + math.e) / 2)


def test_tensor_answers_are_fresh_plain_arrays():
    spec = {"nodes": [["leaf", np.ones((2, 2)), True]], "backward": [[0, np.full((2, 2), 3.0)]]}
    built = []

    class KeepTensor(Tensor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    out = run_tensor_graph({"Tensor": KeepTensor}, spec)
    assert type(out["data"][0]) is np.ndarray and out["data"][0].dtype == np.float64
    assert not np.shares_memory(out["data"][0], built[0].data)
    assert not np.shares_memory(out["grad"][0], built[0].grad)
    assert all(type(b) is bool for b in out["is_leaf"] + out["requires_grad"])


def test_an_array_on_the_left_reaches_the_reflected_method():
    spec = {"nodes": [["leaf", np.ones((2, 3)), True], ["op", "sub", {"const": np.full((2, 3), 5.0)}, 0],
                      ["op", "matmul", {"const": np.eye(2)}, 1], ["op", "sum", 2]],
            "backward": [[3, None]]}
    out = run_tensor_graph(tensor_engine, spec)
    np.testing.assert_array_equal(out["data"][1], np.full((2, 3), 4.0))
    np.testing.assert_array_equal(out["grad"][0], -np.ones((2, 3)))


def test_loss_functions_receive_constants_as_tensors():
    seen = []

    def spy_mse(pred, target):
        seen.append(type(target))
        return tensor_engine.mse_loss(pred, target)

    spec = {"nodes": [["leaf", np.ones(3), True], ["op", "mse_loss", 0, {"const": np.zeros(3)}]],
            "backward": [[1, None]]}
    out = run_tensor_graph({"Tensor": Tensor, "mse_loss": spy_mse}, spec)
    assert seen == [Tensor]
    np.testing.assert_allclose(out["grad"][0], np.full(3, 2 / 3))


def test_the_same_answers_for_a_module_a_dict_and_run_program():
    spec = graph_specs.tensor_mlp_spec(seed=4)
    from_module = run_tensor_graph(tensor_engine, spec)
    from_dict = run_program("tensor_graph", vars(tensor_engine), spec)
    for a, b in zip(from_module["grad"], from_dict["grad"]):
        assert (a is None and b is None) or np.array_equal(a, b)
    value_spec = graph_specs.micrograd_example_spec()
    assert run_program("value_graph", scalar_engine, value_spec) == run_value_graph(Value, value_spec)


# What the interpreter makes of an odd engine.

def test_missing_names_raise_name_error():
    with pytest.raises(NameError, match="Tensor"):
        run_tensor_graph({}, graph_specs.tensor_accumulation_spec())
    with pytest.raises(NameError, match="cross_entropy"):
        run_tensor_graph({"Tensor": Tensor}, graph_specs.tensor_large_logits_spec())
    with pytest.raises(NameError, match="Value"):
        run_program("value_graph", {}, graph_specs.diamond_spec())


def test_an_op_returning_another_type_is_a_type_error_naming_the_node():
    class FloatyValue(Value):
        def tanh(self):
            return math.tanh(self.data)

    with pytest.raises(TypeError, match="node 1: op 'tanh' returned float"):
        run_value_graph(FloatyValue, graph_specs.diamond_spec())


def test_data_that_is_not_a_number_is_a_type_error():
    class NestedValue(Value):
        def __init__(self, data, *args, **kwargs):
            super().__init__(data, *args, **kwargs)
            self.data = Value(data)  # the classic Value(Value(x)) slip

    with pytest.raises(TypeError, match=r"node 0 \.data is a Value"):
        run_value_graph(NestedValue, {"nodes": [["leaf", 1.0]], "backward": []})


class TorchishFn:
    """PyTorch's grad_fn has a name() method, not a name attribute."""

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


class NamelessFn:
    pass


class TorchishTensor:
    """A minimal engine with PyTorch's habits: .grad is a tensor, grad_fn.name is a method."""

    def __init__(self, data, requires_grad=False):
        self.data = np.array(data, dtype=float)
        self.requires_grad, self.is_leaf, self.grad, self.grad_fn = requires_grad, True, None, None

    def __mul__(self, factor):
        out = TorchishTensor(self.data * factor, requires_grad=True)
        out.is_leaf, out.grad_fn, out.source = False, TorchishFn("MulBackward0"), (self, factor)
        return out

    def exp(self):
        out = TorchishTensor(np.exp(self.data), requires_grad=True)
        out.is_leaf, out.grad_fn = False, NamelessFn()
        return out

    def backward(self, grad):
        leaf, factor = self.source
        leaf.grad = TorchishTensor(grad * factor)


def test_pytorch_habits_are_read_leniently():
    spec = {"nodes": [["leaf", np.ones(2), True], ["op", "mul", 0, {"const": 2.0}], ["op", "exp", 0]],
            "backward": [[1, np.ones(2)]]}
    out = run_tensor_graph({"Tensor": TorchishTensor}, spec)
    assert out["grad_fn"] == [None, "MulBackward0", "NamelessFn"]
    np.testing.assert_array_equal(out["grad"][0], [2.0, 2.0])


def test_an_engine_that_writes_into_its_inputs_leaves_the_spec_alone():
    class InPlaceTensor(Tensor):
        def __init__(self, data, requires_grad=False):
            super().__init__(data, requires_grad)
            if isinstance(data, np.ndarray):
                data[...] = -1.0

        def __add__(self, other):
            if isinstance(other, np.ndarray):
                other[...] = -1.0
            return self  # only the writes matter here

        def backward(self, grad=None):
            if grad is not None:
                grad[...] = -1.0

    spec = {"nodes": [["leaf", np.ones(2), True], ["op", "add", 0, {"const": np.ones(2)}]],
            "backward": [[1, np.ones(2)]]}
    run_tensor_graph({"Tensor": InPlaceTensor}, spec)
    for array in (spec["nodes"][0][1], spec["nodes"][1][3]["const"], spec["backward"][0][1]):
        np.testing.assert_array_equal(array, np.ones(2))


def test_missing_attributes_are_none():
    class Bare:
        def __init__(self, data, requires_grad=False):
            self.data = np.asarray(data, dtype=float)
            self.grad = None
            self.requires_grad = np.True_  # not a Python bool

    out = run_tensor_graph({"Tensor": Bare}, {"nodes": [["leaf", [1.0], False]], "backward": []})
    assert out["is_leaf"] == [None] and out["grad_fn"] == [None]
    assert out["requires_grad"] == [True] and type(out["requires_grad"][0]) is bool


# Malformed specs: a SpecError before any engine code runs.

class ExplodingEngine:
    """Fails the test if the interpreter builds anything."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("the engine ran although the spec is malformed")


LEAF = ["leaf", 1.0]
TLEAF = ["leaf", np.ones(2), True]

BAD_VALUE_SPECS = [
    ("not a dict", [LEAF]),
    ("no nodes", {"nodes": [], "backward": []}),
    ("missing backward", {"nodes": [LEAF]}),
    ("unknown key", {"nodes": [LEAF], "backward": [], "zero_grads": True}),
    ("node not a list", {"nodes": ["leaf"], "backward": []}),
    ("unknown node kind", {"nodes": [["input", 1.0]], "backward": []}),
    ("leaf without number", {"nodes": [["leaf"]], "backward": []}),
    ("leaf with a string", {"nodes": [["leaf", "1"]], "backward": []}),
    ("unknown op", {"nodes": [LEAF, ["op", "sqrt", 0]], "backward": []}),
    ("tensor op on values", {"nodes": [LEAF, ["op", "matmul", 0, 0]], "backward": []}),
    ("forward reference", {"nodes": [LEAF, ["op", "add", 0, 2], LEAF], "backward": []}),
    ("self reference", {"nodes": [LEAF, ["op", "add", 0, 1]], "backward": []}),
    ("bool index", {"nodes": [LEAF, ["op", "neg", True]], "backward": []}),
    ("too few operands", {"nodes": [LEAF, ["op", "add", 0]], "backward": []}),
    ("too many operands", {"nodes": [LEAF, ["op", "exp", 0, 0]], "backward": []}),
    ("constants only", {"nodes": [LEAF, ["op", "add", {"const": 1}, {"const": 2}]], "backward": []}),
    ("unary of a constant", {"nodes": [LEAF, ["op", "exp", {"const": 1}]], "backward": []}),
    ("node exponent", {"nodes": [LEAF, ["op", "pow", 0, 0]], "backward": []}),
    ("constant base", {"nodes": [LEAF, ["op", "pow", {"const": 2}, 0]], "backward": []}),
    ("bad constant", {"nodes": [LEAF, ["op", "add", 0, {"const": [1, 2]}]], "backward": []}),
    ("const with extra key", {"nodes": [LEAF, ["op", "add", 0, {"const": 1, "x": 2}]], "backward": []}),
    ("kwargs on a Value op", {"nodes": [LEAF, ["op", "neg", 0, {"axis": 0}]], "backward": []}),
    ("backward out of range", {"nodes": [LEAF], "backward": [1]}),
    ("backward not a list", {"nodes": [LEAF], "backward": 0}),
    ("zero_grad_between not a bool", {"nodes": [LEAF], "backward": [0], "zero_grad_between": 1}),
]


@pytest.mark.parametrize("name, spec", BAD_VALUE_SPECS, ids=[b[0] for b in BAD_VALUE_SPECS])
def test_malformed_value_specs_raise_spec_error(name, spec):
    with pytest.raises(SpecError):
        run_value_graph(ExplodingEngine, spec)


BAD_TENSOR_SPECS = [
    ("value leaf", {"nodes": [["leaf", 1.0]], "backward": []}),
    ("requires_grad not a bool", {"nodes": [["leaf", [1.0], 1]], "backward": []}),
    ("leaf of strings", {"nodes": [["leaf", ["a"], True]], "backward": []}),
    ("ragged leaf", {"nodes": [["leaf", [[1.0], [1.0, 2.0]], True]], "backward": []}),
    ("kwargs on add", {"nodes": [TLEAF, ["op", "add", 0, 0, {"axis": 0}]], "backward": []}),
    ("unknown kwarg", {"nodes": [TLEAF, ["op", "sum", 0, {"dim": 0}]], "backward": []}),
    ("float axis", {"nodes": [TLEAF, ["op", "sum", 0, {"axis": 0.5}]], "backward": []}),
    ("keepdims not a bool", {"nodes": [TLEAF, ["op", "mean", 0, {"keepdims": 1}]], "backward": []}),
    ("array exponent", {"nodes": [TLEAF, ["op", "pow", 0, {"const": np.ones(2)}]], "backward": []}),
    ("backward entry not a pair", {"nodes": [TLEAF], "backward": [0]}),
    ("backward grad of strings", {"nodes": [TLEAF], "backward": [[0, "ones"]]}),
]


@pytest.mark.parametrize("name, spec", BAD_TENSOR_SPECS, ids=[b[0] for b in BAD_TENSOR_SPECS])
def test_malformed_tensor_specs_raise_spec_error(name, spec):
    with pytest.raises(SpecError):
        run_tensor_graph({"Tensor": ExplodingEngine}, spec)


def test_spec_error_is_a_value_error_and_unknown_kinds_are_refused():
    assert issubclass(SpecError, ValueError)
    with pytest.raises(SpecError, match="kind"):
        run_program("mlp", {}, {})


def test_tuples_work_where_lists_do():
    # The worker's protocol decodes tuples as tuples.
    spec = {"nodes": (("leaf", 2.0), ("op", "mul", 0, 0)), "backward": (1,)}
    assert run_value_graph(Value, spec)["grad"] == [4.0, 1.0]


# Deliberately broken engines: each known mistake changes the answer.

def engine_variant(module: types.ModuleType, monkeypatch, replace: tuple[str, str] | None = None,
                   **overrides) -> types.ModuleType:
    """A copy of a reference engine module with one piece of source or one function changed."""
    source = inspect.getsource(module)
    if replace is not None:
        old, new = replace
        assert source.count(old) >= 1, f"the variant no longer applies: {old!r} is not in the source"
        source = source.replace(old, new)
    variant = types.ModuleType(module.__name__ + "_variant")
    monkeypatch.setitem(sys.modules, variant.__name__, variant)  # dataclasses look the module up
    exec(compile(source, module.__file__, "exec"), variant.__dict__)
    variant.__dict__.update(overrides)
    return variant


def recursive_order(root):
    """micrograd's recursive topological sort."""
    order, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            if hasattr(v, "_prev"):
                children = v._prev
            else:
                children = [t for t in v.grad_fn.inputs if t.requires_grad] if v.grad_fn else []
            for child in children:
                build(child)
            order.append(v)

    build(root)
    return order


def breadth_first_order(root):
    """Nodes in the order a queue first meets them, reversed: a consumer may come too late."""
    order, seen, queue = [], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for child in node._prev:
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return order[::-1]


def test_the_unchanged_variant_agrees_with_the_reference(monkeypatch):
    # So that every difference below comes from the one change, not from the copying.
    same = engine_variant(scalar_engine, monkeypatch)
    spec = graph_specs.micrograd_example_spec()
    assert run_value_graph(same, spec) == run_value_graph(Value, spec)


@pytest.mark.parametrize("spec", [graph_specs.diamond_spec(), graph_specs.reused_variable_spec(),
                                  graph_specs.shared_node_spec(), graph_specs.micrograd_example_spec()],
                         ids=["diamond", "reused", "shared", "micrograd"])
def test_gradient_overwritten_changes_the_answer(spec, monkeypatch):
    broken = engine_variant(scalar_engine, monkeypatch, replace=(".grad +=", ".grad ="))
    assert run_value_graph(broken, spec)["grad"] != run_value_graph(Value, spec)["grad"]


@pytest.mark.parametrize("spec", [graph_specs.shared_node_spec(), graph_specs.micrograd_example_spec()],
                         ids=["shared", "micrograd"])
def test_wrong_topological_order_changes_the_answer(spec, monkeypatch):
    broken = engine_variant(scalar_engine, monkeypatch, _topological_order=breadth_first_order)
    assert run_value_graph(broken, spec)["grad"] != run_value_graph(Value, spec)["grad"]


def test_recursive_walk_fails_on_the_contract_depth_and_the_reference_does_not(monkeypatch):
    spec = graph_specs.chain_spec(5_000)
    broken = engine_variant(scalar_engine, monkeypatch, _topological_order=recursive_order)
    shallow = graph_specs.chain_spec(100)
    assert run_value_graph(broken, shallow) == run_value_graph(Value, shallow)
    with pytest.raises(RecursionError):
        run_value_graph(broken, spec)
    assert run_value_graph(Value, spec)["grad"][0] == 1.0

    broken_tensor = engine_variant(tensor_engine, monkeypatch, _topological_order=recursive_order)
    with pytest.raises(RecursionError):
        run_tensor_graph(broken_tensor, graph_specs.tensor_chain_spec(5_000))
    run_tensor_graph(tensor_engine, graph_specs.tensor_chain_spec(5_000))


def test_unreduced_broadcast_gradient_keeps_the_wrong_shapes(monkeypatch):
    spec = graph_specs.tensor_broadcast_spec()
    broken = engine_variant(tensor_engine, monkeypatch, unbroadcast=lambda grad, shape: grad)
    got = [g.shape for g in run_tensor_graph(broken, spec)["grad"][:5]]
    want = [g.shape for g in run_tensor_graph(tensor_engine, spec)["grad"][:5]]
    assert want == [(3, 4), (1, 4), (), (3, 1), (4,)]
    assert got != want


def test_tensor_gradient_overwritten_changes_the_answer(monkeypatch):
    spec = graph_specs.tensor_mlp_spec()
    spec["nodes"].append(["op", "mul", 10, 10])  # L * L: the loss node has two uses
    spec["backward"] = [[11, None]]
    broken = engine_variant(tensor_engine, monkeypatch, replace=(
        "grads[id(parent)] = parent_grad if previous is None else previous + parent_grad",
        "grads[id(parent)] = parent_grad"))
    got, want = run_tensor_graph(broken, spec)["grad"], run_tensor_graph(tensor_engine, spec)["grad"]
    assert not np.allclose(got[1], want[1])


# The spec builders.

@pytest.mark.parametrize("depth", [0, -3, 2.5, True])
def test_chain_depth_must_be_a_positive_int(depth):
    with pytest.raises(ValueError):
        graph_specs.chain_spec(depth)
    with pytest.raises(ValueError):
        graph_specs.tensor_chain_spec(depth)


def test_mlp_spec_refuses_an_unknown_loss():
    with pytest.raises(ValueError):
        graph_specs.tensor_mlp_spec(loss="bce")


def test_tensor_builders_are_pure_functions_of_their_seed():
    builders = (graph_specs.tensor_broadcast_spec, graph_specs.tensor_mlp_spec, graph_specs.tensor_explicit_grad_spec)
    for build in builders:
        a, b, c = build(seed=1), build(seed=1), build(seed=2)
        leaves = lambda s: [n[1] for n in s["nodes"] if n[0] == "leaf"]  # noqa: E731
        assert all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))
        assert not all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(c)))
