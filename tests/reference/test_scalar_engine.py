"""The scalar engine against the lecture's traces, finite differences and micrograd's README."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.scalar_engine import Value, sigmoid_trace


def central_difference(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# The lecture's five-step trace of L = sigmoid(w x + b).

TRACE_CASES = [(2.0, 1.0, 0.5), (0.5, 0.5, 0.0), (-1.5, 2.0, 0.3), (0.0, 4.0, -2.0), (3.0, -1.0, 1.0)]


@pytest.mark.parametrize("w, x, b", TRACE_CASES)
def test_sigmoid_trace_forward_is_the_five_steps(w, x, b):
    t = sigmoid_trace(w, x, b)
    assert t["z1"] == pytest.approx(w * x)
    assert t["z2"] == pytest.approx(w * x + b)
    assert t["z3"] == pytest.approx(-(w * x + b))
    assert t["z4"] == pytest.approx(math.exp(-(w * x + b)))
    assert t["L"] == pytest.approx(sigmoid(w * x + b))


@pytest.mark.parametrize("w, x, b", TRACE_CASES)
def test_sigmoid_trace_backward_matches_the_lecture_table(w, x, b):
    t = sigmoid_trace(w, x, b)
    L, z4 = t["L"], t["z4"]
    assert t["dL_dz4"] == pytest.approx(-L ** 2)
    assert t["dL_dz3"] == pytest.approx(-L ** 2 * z4)  # the table's second row
    assert t["dL_dz2"] == pytest.approx(L ** 2 * z4)
    assert t["dL_db"] == pytest.approx(L ** 2 * z4)
    assert t["dL_dw"] == pytest.approx(L ** 2 * z4 * x)


@pytest.mark.parametrize("w, x, b", TRACE_CASES)
def test_sigmoid_trace_gradient_is_sigmoid_prime_times_input(w, x, b):
    # An independent route: dL/dw = sigma'(z) x = L (1 - L) x, and by finite differences.
    t = sigmoid_trace(w, x, b)
    assert t["dL_dw"] == pytest.approx(t["L"] * (1 - t["L"]) * x)
    numeric_dw = central_difference(lambda v: sigmoid(v * x + b), w)
    numeric_db = central_difference(lambda v: sigmoid(w * x + v), b)
    assert t["dL_dw"] == pytest.approx(numeric_dw, rel=1e-6, abs=1e-9)
    assert t["dL_db"] == pytest.approx(numeric_db, rel=1e-6, abs=1e-9)


def test_sigmoid_trace_returns_python_floats_for_the_ten_keys():
    t = sigmoid_trace(2.0, 1.0, 0.5)
    assert set(t) == {"z1", "z2", "z3", "z4", "L", "dL_dz4", "dL_dz3", "dL_dz2", "dL_db", "dL_dw"}
    assert all(type(v) is float for v in t.values())


# The lecture's L = (w x + b - y)^2 message passing, and its PyTorch snippet.

@pytest.mark.parametrize("w, x, b, y", [(2.0, 1.0, 0.5, 0.0), (0.5, -2.0, 1.0, 3.0), (-1.0, 0.5, 0.25, -0.5)])
def test_squared_error_trace(w, x, b, y):
    wv, xv, bv = Value(w), Value(x), Value(b)
    z1 = wv * xv
    z2 = z1 + bv
    z3 = z2 - y
    L = z3 ** 2
    L.backward()
    r = w * x + b - y
    assert L.data == pytest.approx(r ** 2)
    assert (z3.grad, z2.grad, z1.grad, bv.grad) == pytest.approx((2 * r,) * 4)
    assert wv.grad == pytest.approx(2 * r * x)
    assert xv.grad == pytest.approx(2 * r * w)


def test_lecture_pytorch_snippet_gives_w_grad_5():
    x, w, b = Value(1.0), Value(2.0), Value(0.5)
    z = w * x + b
    loss = z ** 2
    loss.backward()
    assert w.grad == 5.0


# micrograd's README expression, with the numbers its README prints (4 decimals).

def test_micrograd_readme_example():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=5e-5)
    assert a.grad == pytest.approx(138.8338, abs=5e-5)
    assert b.grad == pytest.approx(645.5773, abs=5e-5)


# Each operation against plain math and finite differences.

UNARY = [
    ("neg", lambda v: -v, lambda x: -x),
    ("exp", lambda v: v.exp(), math.exp),
    ("log", lambda v: v.log(), math.log),
    ("sigmoid", lambda v: v.sigmoid(), sigmoid),
    ("tanh", lambda v: v.tanh(), math.tanh),
    ("relu", lambda v: v.relu(), lambda x: max(0.0, x)),
    ("square", lambda v: v ** 2, lambda x: x ** 2),
    ("cube", lambda v: v ** 3, lambda x: x ** 3),
    ("rsqrt", lambda v: v ** -0.5, lambda x: x ** -0.5),
    ("radd", lambda v: 2 + v, lambda x: 2 + x),
    ("rsub", lambda v: 1 - v, lambda x: 1 - x),
    ("rmul", lambda v: 3 * v, lambda x: 3 * x),
    ("rtruediv", lambda v: 2 / v, lambda x: 2 / x),
    ("sub_number", lambda v: v - 0.5, lambda x: x - 0.5),
    ("div_number", lambda v: v / 4, lambda x: x / 4),
]


@pytest.mark.parametrize("name, op, reference", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("x", [0.3, 1.7, -0.8])
def test_unary_operation_value_and_gradient(name, op, reference, x):
    if name in ("log", "rsqrt") and x <= 0:
        x = -x
    v = Value(x)
    out = op(v)
    out.backward()
    assert out.data == pytest.approx(reference(x))
    assert v.grad == pytest.approx(central_difference(reference, x), rel=1e-6, abs=1e-8)


BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("truediv", lambda a, b: a / b),
]


@pytest.mark.parametrize("name, op", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a, b", [(0.3, 1.7), (-2.0, 0.5), (1.25, -0.75)])
def test_binary_operation_value_and_gradients(name, op, a, b):
    va, vb = Value(a), Value(b)
    out = op(va, vb)
    out.backward()
    assert out.data == pytest.approx(op(a, b))
    assert va.grad == pytest.approx(central_difference(lambda t: op(t, b), a), rel=1e-6, abs=1e-8)
    assert vb.grad == pytest.approx(central_difference(lambda t: op(a, t), b), rel=1e-6, abs=1e-8)


def test_relu_derivative_is_zero_at_zero():
    v = Value(0.0)
    v.relu().backward()
    assert v.grad == 0.0


@pytest.mark.parametrize("z, expected", [(1000.0, 1.0), (-1000.0, 0.0), (0.0, 0.5)])
def test_sigmoid_is_finite_for_large_inputs(z, expected):
    v = Value(z)
    out = v.sigmoid()
    out.backward()
    assert out.data == pytest.approx(expected)
    assert math.isfinite(v.grad)


# Graph shapes: sums over paths, order of the walk, depth.

def test_variable_used_twice_in_one_op_sums_both_uses():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(3.0)
    (y + y).backward()
    assert y.grad == 2.0


def test_diamond_sums_the_two_paths():
    x = Value(0.5)
    out = x.tanh() * x.exp()
    out.backward()
    expected = (1 - math.tanh(0.5) ** 2) * math.exp(0.5) + math.tanh(0.5) * math.exp(0.5)
    assert x.grad == pytest.approx(expected)


def test_shared_interior_node_waits_for_all_consumers():
    # s feeds L directly and through a three-step path; its backward must run after both.
    w, x = Value(-0.8), Value(1.5)
    s = w * x
    L = (s.tanh() * 3).exp() + s
    L.backward()

    def f(wv: float) -> float:
        sv = wv * 1.5
        return math.exp(3 * math.tanh(sv)) + sv

    ds = math.exp(3 * math.tanh(-1.2)) * 3 * (1 - math.tanh(-1.2) ** 2) + 1
    assert s.grad == pytest.approx(ds)
    assert w.grad == pytest.approx(ds * 1.5)
    assert w.grad == pytest.approx(central_difference(f, -0.8), rel=1e-6)


def test_deep_chain_of_100000_operations_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = Value(0.25)
    v = x
    for k in range(100_000):
        v = v + 0.5 if k % 2 == 0 else v * -1.0
    v.backward()
    assert x.grad == 1.0  # 50,000 sign flips
    assert v.data == 0.25  # the values cycle with period 4
    assert sys.getrecursionlimit() == limit


def test_backward_seeds_the_output_with_one_and_leaves_start_at_zero():
    x = Value(2.0)
    y = x * 3
    assert (x.grad, y.grad) == (0.0, 0.0)
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 3.0


def test_second_backward_reseeds_the_output_and_adds_to_the_inputs():
    # micrograd's behaviour: the output is set to 1 again, everything else accumulates.
    x = Value(2.0)
    y = x * 3
    y.backward()
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 6.0


def test_data_is_a_float():
    assert type(Value(3).data) is float
    assert type((Value(2) * 3).data) is float


def test_numpy_scalar_on_the_left_gives_a_value():
    v = Value(2.0)
    out = np.float64(3.0) * v
    assert isinstance(out, Value)
    out.backward()
    assert v.grad == 3.0


def test_repr_shows_data_and_grad():
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0)"


@pytest.mark.parametrize("make", [lambda: Value("1.0"), lambda: Value([1.0]), lambda: Value(True),
                                  lambda: Value(1.0) ** Value(2.0), lambda: Value(1.0) + "a"])
def test_bad_input_raises_type_error(make):
    with pytest.raises(TypeError):
        make()


@pytest.mark.parametrize("make", [lambda: Value(-1.0).log(), lambda: Value(0.0).log(),
                                  lambda: Value(-8.0) ** (1 / 3)])
def test_out_of_domain_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), c=st.floats(0.5, 3))
def test_polynomial_gradients_match_calculus(a, b, c):
    # f = a^2 b + b / c - a c, so df/da = 2ab - c, df/db = a^2 + 1/c, df/dc = -b/c^2 - a.
    va, vb, vc = Value(a), Value(b), Value(c)
    f = va ** 2 * vb + vb / vc - va * vc
    f.backward()
    assert va.grad == pytest.approx(2 * a * b - c, abs=1e-9)
    assert vb.grad == pytest.approx(a ** 2 + 1 / c, abs=1e-9)
    assert vc.grad == pytest.approx(-b / c ** 2 - a, abs=1e-9)
