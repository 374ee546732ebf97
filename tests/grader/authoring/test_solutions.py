"""The solution modules do what the contract and the lecture say.

Light property tests: the lecture's numbers (with the tolerance their rounding implies),
finite differences against every gradient, the numerical extremes the contract names.
"""
from __future__ import annotations

import ast
import math
import time
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import personal_case
from grader.authoring import EXERCISES

from .conftest import SOLUTIONS, source_notebook

FAST = settings(max_examples=40, deadline=None)
moderate = st.floats(-4.0, 4.0, allow_nan=False)
inner_weight = st.floats(-2.0, 2.0, allow_nan=False)


def numerical_gradient(f, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at every entry of x (x is restored after each)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + step
        up = f()
        x[index] = saved - step
        down = f()
        x[index] = saved
        grad[index] = (up - down) / (2 * step)
    return grad


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.py")), ids=lambda p: p.name)
def test_solution_modules_import_only_numpy_math_and_sibling_exercises(path):
    allowed = {"numpy", "math", "numbers", "__future__", *EXERCISES}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= allowed, f"{path.name} line {node.lineno} imports {roots - allowed}"


# --- exercise 1 ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args, lecture, tolerance", [
    ("sigmoid", (0.75,), 0.679, 5e-4),
    ("sigmoid_grad", (0.75,), 0.218, 5e-4),
    ("bce", (np.array([0.796]), np.array([1.0])), 0.228, 5e-4),
    ("softmax", (np.array([1.0, 2.0, 3.0]),), [0.090, 0.245, 0.665], 5e-4),
    ("softmax_jacobian", (np.zeros(2),), [[0.25, -0.25], [-0.25, 0.25]], 1e-12),
])
def test_ex1_lecture_numbers(solution_modules, name, args, lecture, tolerance):
    value = getattr(solution_modules["ex1_activations_losses"], name)(*args)
    np.testing.assert_allclose(value, lecture, atol=tolerance, rtol=0)


def test_ex1_stays_finite_and_right_at_the_extremes(solution_modules):
    ex1 = solution_modules["ex1_activations_losses"]
    z = np.array([[-1000.0, 0.0, 1000.0]])
    y = np.array([[0.0, 0.0, 1.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        np.testing.assert_array_equal(ex1.sigmoid(z), [[0.0, 0.5, 1.0]])
        np.testing.assert_allclose(ex1.softmax(z), [[0.0, 0.0, 1.0]])
        np.testing.assert_allclose(ex1.sigmoid_bce_delta(z, y), [[0.0, 0.5, 0.0]] / np.float64(3))
        np.testing.assert_allclose(ex1.softmax_cce_delta(z, y), [[0.0, 0.0, 0.0]], atol=1e-300)
        assert ex1.bce(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
        assert ex1.cce(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])) == 0.0
        assert ex1.bce(np.array([0.0]), np.array([1.0])) == pytest.approx(100.0)
        assert np.isfinite(ex1.bce_grad(np.array([0.0, 1.0]), np.array([1.0, 0.0]))).all()


@FAST
@given(st.lists(moderate, min_size=3, max_size=3), st.lists(st.sampled_from([0.0, 1.0]),
                                                              min_size=3, max_size=3))
def test_ex1_fused_deltas_equal_the_two_step_chain_rule(solution_modules, z, y):
    ex1 = solution_modules["ex1_activations_losses"]
    z, y = np.array([z]), np.array([y])
    two_steps = ex1.bce_grad(ex1.sigmoid(z), y) * ex1.sigmoid_grad(z)
    np.testing.assert_allclose(ex1.sigmoid_bce_delta(z, y), two_steps, rtol=1e-6, atol=1e-12)
    onehot = np.eye(3)[[int(np.argmax(y))]]
    through_jacobian = np.einsum("bi,bij->bj", ex1.cce_grad(ex1.softmax(z), onehot),
                                 ex1.softmax_jacobian(z))
    np.testing.assert_allclose(ex1.softmax_cce_delta(z, onehot), through_jacobian,
                               rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh", "relu"])
def test_ex1_activation_derivatives_match_finite_differences(solution_modules, activation):
    ex1 = solution_modules["ex1_activations_losses"]
    z = np.array([[-2.5, -0.3, 0.4, 3.0]])
    numeric = numerical_gradient(lambda: getattr(ex1, activation)(z).sum(), z)
    np.testing.assert_allclose(getattr(ex1, activation + "_grad")(z), numeric, rtol=1e-6, atol=1e-9)
    assert ex1.relu_grad(np.zeros(1)) == 0.0  # the contract's choice at the kink


@pytest.mark.parametrize("loss", ["mse", "mae", "bce", "cce"])
def test_ex1_loss_gradients_match_finite_differences(solution_modules, loss):
    ex1 = solution_modules["ex1_activations_losses"]
    rng = np.random.default_rng(3)
    y_hat = rng.uniform(0.1, 0.9, size=(4, 3))
    y = np.eye(3)[rng.integers(0, 3, size=4)] if loss == "cce" else rng.uniform(0, 1, (4, 3))
    before = (y_hat.copy(), y.copy())
    numeric = numerical_gradient(lambda: getattr(ex1, loss)(y_hat, y), y_hat)
    gradient = getattr(ex1, loss + "_grad")(y_hat, y)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-9)
    np.testing.assert_array_equal(y_hat, before[0])
    np.testing.assert_array_equal(y, before[1])


# --- exercise 2 ------------------------------------------------------------------------------

LECTURE_X, LECTURE_V, LECTURE_W = np.array([0.5, 1.0]), np.full((2, 2), 0.5), np.array([1.0, 1.0])


@pytest.mark.parametrize("key, lecture, tolerance", [
    ("z", [0.75, 0.75], 1e-12),
    ("h", [0.679, 0.679], 5e-4),
    ("z_out", 1.358, 1e-3),           # the lecture adds two rounded h
    ("y_hat", 0.796, 1e-3),           # sigma of a rounded z_out
    ("loss", 0.2288, 5e-5),           # the contract's unrounded value
    ("delta_out", -0.204, 1e-3),
    ("grad_w", [-0.139, -0.139], 5e-4),
    ("delta_hidden", [-0.0446, -0.0446], 5e-5),
    ("grad_V", [[-0.022, -0.022], [-0.044, -0.044]], 1e-3),
])
def test_ex2_reproduces_the_lecture(solution_modules, key, lecture, tolerance):
    result = solution_modules["ex2_hand_calculation"].forward_backward_221(
        LECTURE_X, LECTURE_V, LECTURE_W, 1)
    np.testing.assert_allclose(result[key], lecture, atol=tolerance, rtol=0)


@FAST
@given(st.lists(st.floats(0.1, 1.0), min_size=2, max_size=2),
       st.lists(inner_weight, min_size=4, max_size=4),
       st.lists(inner_weight, min_size=2, max_size=2), st.sampled_from([0, 1]))
def test_ex2_gradients_match_finite_differences(solution_modules, x, v, w, y):
    ex2 = solution_modules["ex2_hand_calculation"]
    x, V, w = np.array(x), np.array(v).reshape(2, 2), np.array(w)
    result = ex2.forward_backward_221(x, V, w, y)
    loss = lambda: ex2.forward_backward_221(x, V, w, y)["loss"]  # noqa: E731
    np.testing.assert_allclose(result["grad_V"], numerical_gradient(loss, V), atol=1e-7)
    np.testing.assert_allclose(result["grad_w"], numerical_gradient(loss, w), atol=1e-7)


def _round3(value: float) -> float:
    """Round half up, as a student does by hand."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def _hand_chain(x, V, w, y, rounded):
    """The 2-2-1 chain on plain floats, rounding each step to 3 decimals when `rounded`."""
    r = _round3 if rounded else (lambda value: value)
    sigma = lambda t: 1.0 / (1.0 + math.exp(-t))  # noqa: E731
    z = [r(x[0] * V[0][j] + x[1] * V[1][j]) for j in range(2)]
    h = [r(sigma(t)) for t in z]
    z_out = r(w[0] * h[0] + w[1] * h[1])
    y_hat = r(sigma(z_out))
    loss = r(-math.log(y_hat) if y == 1 else -math.log(1.0 - y_hat))
    delta_out = r(y_hat - y)
    slope = [r(hj * (1.0 - hj)) for hj in h]
    delta_hidden = [r(delta_out * w[j] * slope[j]) for j in range(2)]
    return {"z": z, "h": h, "z_out": z_out, "y_hat": y_hat, "loss": loss, "delta_out": delta_out,
            "grad_w": [r(delta_out * hj) for hj in h], "delta_hidden": delta_hidden,
            "grad_V": [[r(delta_hidden[j] * x[i]) for j in range(2)] for i in range(2)]}


def test_ex2_hand_answers_are_right_for_the_solutions_id(solution_modules):
    x, V, w, y = personal_case("solutions")
    x, V, w = x.tolist(), V.tolist(), w.tolist()
    rounded = _hand_chain(x, V, w, y, rounded=True)
    exact = _hand_chain(x, V, w, y, rounded=False)
    answers = solution_modules["ex2_hand_calculation"].HAND_ANSWERS
    assert set(answers) == set(exact)
    for key, answer in answers.items():
        answer = np.asarray(answer, dtype=np.float64)
        matches_rounded = np.abs(answer - np.asarray(rounded[key])) < 1e-9
        matches_exact = np.abs(answer - np.vectorize(_round3)(exact[key])) < 1e-9
        assert np.all(matches_rounded | matches_exact), (key, answer, rounded[key], exact[key])


# --- exercise 3 ------------------------------------------------------------------------------

@pytest.mark.parametrize("loss, output",
                         [("cce", "softmax"), ("bce", "sigmoid"), ("mse", "identity")])
@pytest.mark.parametrize("hidden", ["identity", "sigmoid", "tanh", "relu"])
def test_ex3_backward_matches_finite_differences(solution_modules, loss, output, hidden):
    ex1, ex3 = solution_modules["ex1_activations_losses"], solution_modules["ex3_mlp_backprop"]
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, 3))
    Y = np.eye(4)[rng.integers(0, 4, size=5)] if loss == "cce" else rng.uniform(0, 1, (5, 4))
    params = ex3.init_params([3, 5, 6, 4], seed=2)
    mean_loss = getattr(ex1, loss)
    grads = ex3.backward(params, ex3.forward(params, X, hidden, output)[1], Y, loss=loss)
    assert len(grads) == len(params)
    for (W, b), (dW, db) in zip(params, grads):
        value = lambda: mean_loss(ex3.forward(params, X, hidden, output)[0], Y)  # noqa: E731
        np.testing.assert_allclose(dW, numerical_gradient(value, W), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(db, numerical_gradient(value, b), rtol=1e-5, atol=1e-8)


def test_ex3_reproduces_the_lecture_network(solution_modules):
    ex3 = solution_modules["ex3_mlp_backprop"]
    params = [(LECTURE_V, np.zeros(2)), (LECTURE_W[:, None], np.zeros(1))]
    _, cache = ex3.forward(params, LECTURE_X[None, :], hidden="sigmoid", output="sigmoid")
    (dV, _), (dw, _) = ex3.backward(params, cache, np.array([[1.0]]), loss="bce")
    np.testing.assert_allclose(dw.ravel(), [-0.139, -0.139], atol=5e-4)
    np.testing.assert_allclose(dV, [[-0.0223, -0.0223], [-0.0446, -0.0446]], atol=5e-5)


def test_ex3_init_params_shapes_scale_and_seed(solution_modules):
    init_params = solution_modules["ex3_mlp_backprop"].init_params
    params = init_params([200, 300, 1], seed=4)
    assert [(W.shape, b.shape) for W, b in params] == [((200, 300), (300,)), ((300, 1), (1,))]
    assert params[0][0].std() == pytest.approx(math.sqrt(2 / 500), rel=0.03)
    assert not params[0][1].any()
    np.testing.assert_array_equal(init_params([3, 2], seed=4)[0][0],
                                  init_params([3, 2], seed=4)[0][0])
    assert not np.array_equal(init_params([3, 2], seed=4)[0][0], init_params([3, 2], seed=5)[0][0])


def test_ex3_backward_refuses_a_loss_that_does_not_pair_with_the_output(solution_modules):
    ex3 = solution_modules["ex3_mlp_backprop"]
    params = ex3.init_params([2, 2])
    _, cache = ex3.forward(params, np.ones((1, 2)), output="softmax")
    with pytest.raises(ValueError, match="output='sigmoid'"):
        ex3.backward(params, cache, np.array([[0.0, 1.0]]), loss="bce")


# --- exercise 4 ------------------------------------------------------------------------------

def test_ex4_chain_of_5000_operations(solution_modules):
    Value = solution_modules["ex4_autograd_scalar"].Value
    x = Value(0.5)
    node = x
    for _ in range(5000):
        node = node * 1.0 + 0.0
    node.backward()
    assert node.data == 0.5 and x.grad == 1.0


def test_ex4_a_node_on_several_paths_sums_them(solution_modules):
    Value = solution_modules["ex4_autograd_scalar"].Value
    a = Value(3.0)
    (a * a + a).backward()
    assert a.grad == 7.0


@FAST
@given(moderate, moderate, moderate)
def test_ex4_sigmoid_trace_equals_the_lecture_table(solution_modules, w, x, b):
    t = solution_modules["ex4_autograd_scalar"].sigmoid_trace(w, x, b)
    L, z4 = t["L"], math.exp(-(w * x + b))
    expected = {"z1": w * x, "z2": w * x + b, "z3": -(w * x + b), "z4": z4,
                "L": 1 / (1 + math.exp(-(w * x + b))), "dL_dz4": -L**2, "dL_dz3": -L**2 * z4,
                "dL_dz2": L**2 * z4, "dL_db": L**2 * z4, "dL_dw": L**2 * z4 * x}
    assert t == pytest.approx(expected, rel=1e-9, abs=1e-12)


@FAST
@given(st.floats(0.2, 3.0), st.floats(0.2, 3.0))
def test_ex4_every_operation_matches_finite_differences(solution_modules, a0, b0):
    Value = solution_modules["ex4_autograd_scalar"].Value

    def f(a, b):
        return ((a * b + a / b - b**3).tanh() + (a - 2).sigmoid() + (b * b).exp().log()
                + (1.5 - a).relu() + 2 / b - (-a) * 0.5)

    a, b = Value(a0), Value(b0)
    f(a, b).backward()
    step = 1e-6
    grad_a = (f(Value(a0 + step), Value(b0)).data
              - f(Value(a0 - step), Value(b0)).data) / (2 * step)
    grad_b = (f(Value(a0), Value(b0 + step)).data
              - f(Value(a0), Value(b0 - step)).data) / (2 * step)
    if abs(a0 - 1.5) > 1e-3:  # relu has no derivative at its kink
        assert a.grad == pytest.approx(grad_a, rel=1e-5, abs=1e-6)
    assert b.grad == pytest.approx(grad_b, rel=1e-5, abs=1e-6)


# --- exercise 5 ------------------------------------------------------------------------------

def test_ex5_reproduces_the_pytorch_snippet(solution_modules):
    Tensor = solution_modules["ex5_autograd_tensor"].Tensor
    x, w, b = (Tensor(value, requires_grad=True) for value in (1.0, 2.0, 0.5))
    z = w * x + b
    loss = z**2
    loss.backward()
    assert w.grad == 5.0 and x.grad == 10.0 and b.grad == 5.0
    assert w.is_leaf and not z.is_leaf and w.grad_fn is None
    assert (loss.grad_fn.name, z.grad_fn.name) == ("PowBackward0", "AddBackward0")


def test_ex5_broadcast_gradients_are_summed_back_and_accumulate(solution_modules):
    Tensor = solution_modules["ex5_autograd_tensor"].Tensor
    A = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    bias = Tensor(np.ones(3), requires_grad=True)
    column = Tensor(np.full((4, 1), 2.0), requires_grad=True)
    ((A + bias) * column).sum().backward()
    np.testing.assert_array_equal(bias.grad, [8.0, 8.0, 8.0])
    np.testing.assert_array_equal(column.grad, (A.data + 1).sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(A.grad, np.full((4, 3), 2.0))
    ((A + bias) * column).sum().backward()
    np.testing.assert_array_equal(bias.grad, [16.0, 16.0, 16.0])


def test_ex5_backward_needs_grad_for_a_tensor_of_many_elements(solution_modules):
    Tensor = solution_modules["ex5_autograd_tensor"].Tensor
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="single-element"):
        (t * 3).backward()
    (t * 3).backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(t.grad, [3.0, -3.0])


@pytest.mark.parametrize("axis, keepdims",
                         [(None, False), (0, False), (1, True), (-1, False), ((0, 1), True)])
def test_ex5_reductions_and_matmul_match_finite_differences(solution_modules, axis, keepdims):
    Tensor = solution_modules["ex5_autograd_tensor"].Tensor
    rng = np.random.default_rng(5)
    a0, b0 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    weights = rng.normal(size=np.empty((3, 2)).sum(axis=axis, keepdims=keepdims).shape)

    def value(a, b):
        product = (a @ b).tanh() * 0.5 + (a @ b).sigmoid() - (a @ b).relu() / 3
        return (product.sum(axis=axis, keepdims=keepdims) * weights
                + product.exp().mean(axis=axis, keepdims=keepdims)).sum()

    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    value(a, b).backward()
    for tensor, array in [(a, a0), (b, b0)]:
        numeric = numerical_gradient(lambda: value(Tensor(a0), Tensor(b0)).item(), array)
        np.testing.assert_allclose(tensor.grad, numeric, rtol=1e-5, atol=1e-7)


def test_ex5_cross_entropy_is_stable_and_its_gradient_is_the_fused_delta(solution_modules):
    ex5 = solution_modules["ex5_autograd_tensor"]
    logits = ex5.Tensor([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], requires_grad=True)
    targets = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    loss = ex5.cross_entropy(logits, targets)
    loss.backward()
    row_two = -math.log(math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3)))
    assert loss.item() == pytest.approx((1000.0 + row_two) / 2)
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (softmax - targets) / 2, atol=1e-15)
    pred = ex5.Tensor([1.0, 2.0, 4.0], requires_grad=True)
    mse = ex5.mse_loss(pred, np.array([1.0, 1.0, 1.0]))
    mse.backward()
    assert mse.item() == pytest.approx(10 / 3)
    np.testing.assert_allclose(pred.grad, [0.0, 2 / 3, 2.0])


# --- exercise 6 ------------------------------------------------------------------------------

def test_ex6_sgd_step_returns_new_arrays(solution_modules):
    sgd_step = solution_modules["ex6_gradient_descent"].sgd_step
    params = [(np.ones((2, 3)), np.zeros(3))]
    grads = [(np.full((2, 3), 2.0), np.ones(3))]
    (W, b), = sgd_step(params, grads, 0.25)
    np.testing.assert_array_equal(W, np.full((2, 3), 0.5))
    np.testing.assert_array_equal(b, np.full(3, -0.25))
    np.testing.assert_array_equal(params[0][0], np.ones((2, 3)))


def _notebook_dataset():
    """make_spirals and the split, run from the notebook's own cell."""
    cell = next(c for c in source_notebook("ex6_gradient_descent").cells
                if c.cell_type == "code" and "def make_spirals" in c.source)
    namespace = {"np": np, "forward": None, "print": lambda *args: None}
    exec(compile(cell.source, "make_spirals", "exec"), namespace)  # noqa: S102 - our notebook
    return namespace["X_train"], namespace["Y_train"], namespace["X_test"], namespace["Y_test"]


def test_ex6_train_defaults_reach_90_percent_held_out_in_seconds(solution_modules):
    ex3, ex6 = solution_modules["ex3_mlp_backprop"], solution_modules["ex6_gradient_descent"]
    X_train, Y_train, X_test, Y_test = _notebook_dataset()
    started = time.perf_counter()
    params, losses = ex6.train(X_train, Y_train, [2, 32, 3])
    assert time.perf_counter() - started < 5.0
    assert len(losses) == 300 and np.isfinite(losses).all() and losses[-1] < losses[0] / 4
    Y_hat, _ = ex3.forward(params, X_test, hidden="tanh", output="softmax")
    assert np.mean(Y_hat.argmax(axis=1) == Y_test.argmax(axis=1)) >= 0.9
