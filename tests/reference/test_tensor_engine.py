"""The tensor engine against finite differences, closed-form gradients, the scalar engine and torch."""
from __future__ import annotations

import math
import operator
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reference.scalar_engine import Value
from reference.tensor_engine import GradFn, Tensor, cross_entropy, mse_loss, unbroadcast, zero_grad


def numeric_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at every element of x (x is left as it was)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + h
            up = f(x)
            x[idx] = old - h
            down = f(x)
        finally:
            x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def check_gradients(op, *arrays: np.ndarray, seed: int = 0) -> None:
    """Compare the engine's gradients of sum(op(...) * G), G random, with central differences."""
    rng = np.random.default_rng(seed)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = op(*tensors)
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)

    for k, a in enumerate(arrays):
        def f(x, k=k):
            inputs = [Tensor(x) if j == k else Tensor(arrays[j]) for j in range(len(arrays))]
            return float((op(*inputs).data * upstream).sum())

        expected = numeric_gradient(f, np.array(a, dtype=np.float64))
        assert tensors[k].grad.shape == np.shape(a), f"input {k}"
        np.testing.assert_allclose(tensors[k].grad, expected, rtol=1e-5, atol=1e-7, err_msg=f"input {k}")


RNG = np.random.default_rng(2024)
M34 = RNG.normal(size=(3, 4))
N34 = RNG.normal(size=(3, 4))
ROW = RNG.normal(size=(1, 4))
COL = RNG.normal(size=(3, 1))
VEC = RNG.normal(size=(4,))
POS34 = RNG.uniform(0.5, 2.0, size=(3, 4))
SCALAR = np.array(0.7)

ELEMENTWISE = [
    ("add", operator.add, (M34, N34)),
    ("add row vector", operator.add, (M34, ROW)),
    ("add (C,) vector", operator.add, (VEC, M34)),
    ("add 0-d", operator.add, (SCALAR, M34)),
    ("sub", operator.sub, (M34, N34)),
    ("sub broadcast", operator.sub, (COL, M34)),
    ("mul", operator.mul, (M34, N34)),
    ("mul (B,1)*(1,C)", operator.mul, (COL, ROW)),
    ("truediv", operator.truediv, (M34, POS34)),
    ("truediv broadcast", operator.truediv, (ROW, POS34)),
    ("neg", operator.neg, (M34,)),
    ("pow 2", lambda t: t ** 2, (M34,)),
    ("pow -1.5", lambda t: t ** -1.5, (POS34,)),
    ("exp", lambda t: t.exp(), (M34,)),
    ("log", lambda t: t.log(), (POS34,)),
    ("sigmoid", lambda t: t.sigmoid(), (M34 * 3,)),
    ("tanh", lambda t: t.tanh(), (M34,)),
    ("relu", lambda t: t.relu(), (M34,)),
    ("matmul", operator.matmul, (M34, N34.T)),
    ("sum", lambda t: t.sum(), (M34,)),
    ("sum axis 0", lambda t: t.sum(axis=0), (M34,)),
    ("sum axis -1 keepdims", lambda t: t.sum(axis=-1, keepdims=True), (M34,)),
    ("sum axis (0, 1)", lambda t: t.sum(axis=(0, 1)), (M34,)),
    ("mean", lambda t: t.mean(), (M34,)),
    ("mean axis 1", lambda t: t.mean(axis=1), (M34,)),
    ("mean axis 0 keepdims", lambda t: t.mean(axis=0, keepdims=True), (M34,)),
    ("mse_loss", mse_loss, (M34, N34)),
    ("cross_entropy", lambda z: cross_entropy(z, np.eye(4)[[0, 3, 1]]), (M34 * 2,)),
    ("composite", lambda a, b: ((a @ b).tanh() * 2 - 1).mean(axis=0).sum(), (M34, N34.T)),
]


@pytest.mark.parametrize("name, op, arrays", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_operation_gradients_match_finite_differences(name, op, arrays):
    check_gradients(op, *arrays)


@pytest.mark.parametrize("name, op, arrays", ELEMENTWISE[:19], ids=[e[0] for e in ELEMENTWISE[:19]])
def test_forward_values_are_numpys(name, op, arrays):
    numpy_ops = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0),
                 "sigmoid": lambda a: 1 / (1 + np.exp(-a))}
    fn = numpy_ops.get(name, op)
    np.testing.assert_allclose(op(*[Tensor(a) for a in arrays]).data, fn(*arrays), rtol=1e-12)


# Broadcasting: gradients summed back to each operand's shape.

def test_row_vector_plus_matrix_gradient_is_column_sums():
    m, row = Tensor(M34, requires_grad=True), Tensor(ROW, requires_grad=True)
    upstream = RNG.normal(size=(3, 4))
    (m + row).backward(upstream)
    np.testing.assert_array_equal(m.grad, upstream)
    np.testing.assert_allclose(row.grad, upstream.sum(axis=0, keepdims=True))


def test_scalar_plus_matrix_gradient_is_the_total():
    k, m = Tensor(2.0, requires_grad=True), Tensor(M34, requires_grad=True)
    upstream = RNG.normal(size=(3, 4))
    (k * m).backward(upstream)
    assert k.grad.shape == ()
    assert k.grad == pytest.approx((upstream * M34).sum())
    np.testing.assert_allclose(m.grad, 2.0 * upstream)


def test_column_times_row_reduces_each_to_its_shape():
    col, row = Tensor(COL, requires_grad=True), Tensor(ROW, requires_grad=True)
    (col * row).sum().backward()
    assert col.grad.shape == (3, 1) and row.grad.shape == (1, 4)
    np.testing.assert_allclose(col.grad, np.full((3, 1), ROW.sum()))
    np.testing.assert_allclose(row.grad, np.full((1, 4), COL.sum()))


@pytest.mark.parametrize("grad_shape, shape, reduce", [
    ((3, 4), (3, 4), lambda g: g),
    ((3, 4), (4,), lambda g: g.sum(axis=0)),
    ((3, 4), (1, 4), lambda g: g.sum(axis=0, keepdims=True)),
    ((3, 4), (3, 1), lambda g: g.sum(axis=1, keepdims=True)),
    ((3, 4), (), lambda g: g.sum()),
    ((2, 3, 4), (3, 1), lambda g: g.sum(axis=0).sum(axis=1, keepdims=True)),
])
def test_unbroadcast_sums_the_stretched_axes(grad_shape, shape, reduce):
    grad = RNG.normal(size=grad_shape)
    out = unbroadcast(grad, shape)
    assert out.shape == shape
    np.testing.assert_allclose(out, reduce(grad))


@pytest.mark.parametrize("grad_shape, shape", [((3, 4), (3,)), ((4,), (3, 4)), ((3, 4), (2, 4))])
def test_unbroadcast_refuses_shapes_that_cannot_match(grad_shape, shape):
    with pytest.raises(ValueError):
        unbroadcast(np.ones(grad_shape), shape)


# Accumulation, backward's rules, graph bookkeeping.

def test_two_backward_calls_double_the_leaf_gradients():
    w = Tensor(M34, requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_allclose(first, 2 * M34)
    np.testing.assert_allclose(w.grad, 2 * first)


def test_zero_grad_forgets_accumulated_gradients():
    w = Tensor(M34, requires_grad=True)
    (w * 3).sum().backward()
    zero_grad([w])
    assert w.grad is None
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad, np.full((3, 4), 3.0))


def test_backward_without_grad_on_a_non_scalar_raises():
    t = Tensor(M34, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        t.backward()


def test_backward_without_grad_on_a_single_element_tensor_seeds_one():
    x = Tensor([[2.0]], requires_grad=True)
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad, [[3.0]])


def test_backward_with_a_grad_of_the_wrong_shape_raises():
    t = Tensor(M34, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="shape"):
        t.backward(np.ones((4, 3)))


def test_backward_on_a_tensor_that_needs_no_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(2.0) * 3).backward()


def test_backward_accepts_a_tensor_as_grad():
    x = Tensor(VEC, requires_grad=True)
    (x * 2).backward(Tensor(np.ones(4)))
    np.testing.assert_array_equal(x.grad, np.full(4, 2.0))


GRAD_FN_NAMES = [
    (lambda a, b: a + b, "AddBackward"), (lambda a, b: a - b, "SubBackward"),
    (lambda a, b: a * b, "MulBackward"), (lambda a, b: a / b, "DivBackward"),
    (lambda a, b: a @ Tensor(np.eye(4)), "MatMulBackward"),
    (lambda a, b: -a, "NegBackward"), (lambda a, b: a ** 2, "PowBackward"),
    (lambda a, b: a.sum(), "SumBackward"), (lambda a, b: a.mean(), "MeanBackward"),
    (lambda a, b: a.exp(), "ExpBackward"), (lambda a, b: a.log(), "LogBackward"),
    (lambda a, b: a.sigmoid(), "SigmoidBackward"), (lambda a, b: a.tanh(), "TanhBackward"),
    (lambda a, b: a.relu(), "ReluBackward"),
]


@pytest.mark.parametrize("op, name", GRAD_FN_NAMES, ids=[n for _, n in GRAD_FN_NAMES])
def test_grad_fn_names_the_operation(op, name):
    a, b = Tensor(POS34, requires_grad=True), Tensor(POS34)
    out = op(a, b)
    assert isinstance(out.grad_fn, GradFn)
    assert out.grad_fn.name == name
    assert out.requires_grad and not out.is_leaf


def test_relu_derivative_is_zero_at_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_leaves_and_results():
    x = Tensor(M34, requires_grad=True)
    c = Tensor(N34)
    y = x * c
    assert x.is_leaf and c.is_leaf and x.grad_fn is None and c.grad_fn is None
    assert y.requires_grad and not y.is_leaf
    assert (c + 1).requires_grad is False


def test_operations_without_requires_grad_build_no_graph():
    out = (Tensor(M34) * 2 + Tensor(N34)).tanh().sum()
    assert out.grad_fn is None and out.requires_grad is False and out.is_leaf


def test_gradients_stay_on_leaves_only():
    x = Tensor(M34, requires_grad=True)
    hidden = x * 2
    hidden.sum().backward()
    assert hidden.grad is None
    assert x.grad is not None


def test_constants_get_no_gradient():
    x, c = Tensor(M34, requires_grad=True), Tensor(N34)
    (x * c).sum().backward()
    assert c.grad is None


def test_data_is_a_float64_copy():
    source = np.array([[1, 2], [3, 4]])
    t = Tensor(source)
    assert t.data.dtype == np.float64
    source[0, 0] = 100
    assert t.data[0, 0] == 1.0
    values = np.array([1.0, 2.0])
    t2 = Tensor(values)
    values[0] = 9.0
    assert t2.data[0] == 1.0
    assert t.grad is None and t.requires_grad is False


@pytest.mark.parametrize("expr", [
    lambda t: 2.0 + t, lambda t: 1.0 - t, lambda t: 3 * t, lambda t: 2.0 / t,
    lambda t: np.ones((3, 4)) + t, lambda t: np.ones((3, 4)) - t, lambda t: np.full((3, 4), 2.0) * t,
    lambda t: np.ones((3, 4)) / t, lambda t: np.eye(3) @ t,
])
def test_numbers_and_arrays_on_the_left_use_the_reflected_operation(expr):
    t = Tensor(POS34, requires_grad=True)
    out = expr(t)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, expr(POS34))
    out.backward(np.ones(out.shape))
    assert t.grad.shape == (3, 4)


@pytest.mark.parametrize("make, error", [
    (lambda: Tensor(M34) ** Tensor(2.0), TypeError),
    (lambda: Tensor(M34) + "a", TypeError),
    (lambda: Tensor(Tensor(1.0)), TypeError),
    (lambda: Tensor(VEC) @ Tensor(VEC), ValueError),
    (lambda: Tensor(M34) @ Tensor(M34), ValueError),
    (lambda: mse_loss(Tensor(np.ones((3, 1))), Tensor(np.ones(3))), ValueError),
    (lambda: cross_entropy(Tensor(np.ones(3)), Tensor(np.ones(3))), ValueError),
    (lambda: Tensor(M34).item(), ValueError),
])
def test_bad_input_raises(make, error):
    with pytest.raises(error):
        make()


def test_deep_chain_of_5000_operations_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = Tensor([[0.25, -0.5], [1.0, 2.0]], requires_grad=True)
    t = x
    for k in range(5_000):
        t = t + 0.5 if k % 2 == 0 else t * -1.0
    t.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))  # 2,500 sign flips
    np.testing.assert_array_equal(t.data, x.data)  # period 4
    assert sys.getrecursionlimit() == limit


def test_shared_interior_node_and_diamond():
    w, x = Tensor(-0.8, requires_grad=True), Tensor(1.5, requires_grad=True)
    s = w * x
    ((s.tanh() * 3).exp() + s).backward()
    ds = math.exp(3 * math.tanh(-1.2)) * 3 * (1 - math.tanh(-1.2) ** 2) + 1
    assert w.grad == pytest.approx(ds * 1.5)
    assert x.grad == pytest.approx(ds * -0.8)


def test_lecture_pytorch_snippet_gives_w_grad_5():
    x = Tensor(1.0, requires_grad=True)
    w = Tensor(2.0, requires_grad=True)
    b = Tensor(0.5, requires_grad=True)
    z = w * x + b
    loss = z ** 2
    loss.backward()
    assert w.grad == 5.0
    assert loss.grad_fn.name == "PowBackward"


# The losses: the mean conventions of the contract, and stability.

def test_mse_loss_value_and_gradient():
    pred = Tensor(M34, requires_grad=True)
    loss = mse_loss(pred, N34)
    loss.backward()
    assert loss.item() == pytest.approx(((M34 - N34) ** 2).mean())
    np.testing.assert_allclose(pred.grad, 2 * (M34 - N34) / M34.size)


@pytest.mark.parametrize("scale", [1.0, 100.0, 1000.0, 1e6])
def test_cross_entropy_is_finite_and_its_gradient_is_softmax_minus_y_over_b(scale):
    logits = M34 * scale
    target = np.eye(4)[[2, 0, 3]]
    z = Tensor(logits, requires_grad=True)
    loss = cross_entropy(z, target)
    loss.backward()
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert np.isfinite(loss.item())
    assert loss.item() == pytest.approx(-(target * log_softmax).sum(axis=1).mean())
    np.testing.assert_allclose(z.grad, (np.exp(log_softmax) - target) / 3, atol=1e-12)


def test_cross_entropy_of_the_right_class_at_huge_margin_is_zero():
    loss = cross_entropy(Tensor([[1000.0, -1000.0]]), Tensor([[1.0, 0.0]]))
    assert loss.item() == 0.0


# Random expression graphs: the scalar engine, the tensor engine and finite differences agree.

UNARY_OPS = {
    "neg": (operator.neg, operator.neg),
    "exp": (lambda v: v.exp(), math.exp),
    "tanh": (lambda v: v.tanh(), math.tanh),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "relu": (lambda v: v.relu(), lambda x: max(0.0, x)),
    "square": (lambda v: v ** 2, lambda x: x ** 2),
}
BINARY_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}


@st.composite
def expression_graphs(draw):
    leaves = draw(st.lists(st.floats(-2, 2), min_size=1, max_size=3))
    ops, size = [], len(leaves)
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            ops.append((draw(st.sampled_from(sorted(UNARY_OPS))), draw(st.integers(0, size - 1)), None))
        else:
            ops.append((draw(st.sampled_from(sorted(BINARY_OPS))), draw(st.integers(0, size - 1)),
                        draw(st.integers(0, size - 1))))
        size += 1
    return leaves, ops


def evaluate(leaves, ops, lift, unary_index):
    nodes = [lift(x) for x in leaves]
    for name, i, j in ops:
        if j is None:
            nodes.append(UNARY_OPS[name][unary_index](nodes[i]))
        else:
            nodes.append(BINARY_OPS[name](nodes[i], nodes[j]))
    return nodes


def well_conditioned(leaves, ops) -> bool:
    """Away from relu's kink, from division by ~0 and from huge values, where differences mislead."""
    nodes = list(leaves)
    for name, i, j in ops:
        if (name == "relu" and abs(nodes[i]) < 1e-3) or (name == "truediv" and abs(nodes[j]) < 0.1):
            return False
        if name == "exp" and nodes[i] > 20:
            return False
        nodes.append(UNARY_OPS[name][1](nodes[i]) if j is None else BINARY_OPS[name](nodes[i], nodes[j]))
        if not math.isfinite(nodes[-1]) or abs(nodes[-1]) > 1e4:
            return False
    return True


@settings(max_examples=80, deadline=None)
@given(graph=expression_graphs())
def test_random_graphs_value_tensor_and_finite_differences_agree(graph):
    leaves, ops = graph
    assume(well_conditioned(leaves, ops))

    values = evaluate(leaves, ops, Value, 0)
    values[-1].backward()
    tensors = evaluate(leaves, ops, lambda x: Tensor(x, requires_grad=True), 0)
    tensors[-1].backward()

    def f(point):
        return evaluate(list(point), ops, float, 1)[-1]

    numeric = numeric_gradient(f, np.array(leaves, dtype=np.float64))
    for k in range(len(leaves)):
        tensor_grad = 0.0 if tensors[k].grad is None else float(tensors[k].grad)
        assert values[-1].data == pytest.approx(float(tensors[-1].data), rel=1e-12, abs=1e-12)
        assert values[k].grad == pytest.approx(tensor_grad, rel=1e-9, abs=1e-9)
        assert values[k].grad == pytest.approx(numeric[k], rel=1e-4, abs=1e-4)


# Against PyTorch itself, when it is installed.

def test_mlp_and_broadcast_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    X, W1, b1 = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4,))
    W2, b2, k = rng.normal(size=(4, 3)), rng.normal(size=(1, 3)), np.array(1.3)
    Y = np.eye(3)[[0, 2, 1, 1, 0]]

    def run(lib_tensor, ce):
        params = [lib_tensor(a) for a in (W1, b1, W2, b2, k)]
        w1, c1, w2, c2, kk = params
        hidden = (lib_tensor(X, grad=False) @ w1 + c1).tanh()
        logits = (hidden @ w2 + c2) * kk
        ce(logits).backward()
        return [p.grad for p in params]

    mine = run(lambda a, grad=True: Tensor(a, requires_grad=grad), lambda z: cross_entropy(z, Y))
    theirs = run(lambda a, grad=True: torch.tensor(a, dtype=torch.float64, requires_grad=grad),
                 lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(Y.argmax(axis=1))))
    for got, want in zip(mine, theirs):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
