"""The catalog of deliberately broken submissions, and of correct ones written differently.

Each mutation changes `solutions/<stem>.py` in one place, the way students' code goes wrong
again and again, and names the diagnosis the grader must give. `touches` lists the check
groups the change may make fail (the mutated function, and the functions that call it);
every other test of the exercise must still pass. `allowed` lists other codes a failing test
may carry, where one slip is two known mistakes at once (for ReLU, leaving out act'(Z) is the
same as relu' = 1). `CORRECT` holds right implementations written apart from the solution:
full marks, and no diagnosis anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

EX1, EX2, EX3 = "ex1_activations_losses", "ex2_hand_calculation", "ex3_mlp_backprop"
EX4, EX5, EX6 = "ex4_autograd_scalar", "ex5_autograd_tensor", "ex6_gradient_descent"


@dataclass(frozen=True)
class Mutation:
    """One change to one solution module, and what grading it must show."""

    id: str
    exercise: str
    expected: Optional[str]  # the diagnosis a failed test must carry; None: correct code, full marks
    patches: tuple[tuple[str, str], ...] = ()  # (old, new): exact text, matching exactly once
    definitions: tuple[str, ...] = ()  # whole top-level functions or classes, replacing theirs by name
    touches: tuple[str, ...] = ()  # check groups allowed to fail
    allowed: tuple[str, ...] = ()  # other codes a failed test may carry
    notebook: bool = False  # submit the mutated module as a notebook


# ---------------------------------------------------------------- exercise 1

SIGMOID_GRAD = '''    s = sigmoid(z)
    return s * (1.0 - s)'''
SOFTMAX_MAX = "exps = np.exp(z - z.max(axis=-1, keepdims=True))"
SOFTMAX_SUM = "return exps / exps.sum(axis=-1, keepdims=True)"
SOFTMAX_USERS = ("softmax", "softmax_jacobian", "softmax_cce_delta")

EX1_MISTAKES = [
    Mutation("ex1-sigmoid-grad-of-activation", EX1, "derivative_of_wrong_input",
             patches=((SIGMOID_GRAD, "    s = _as_array(z)  # z taken for sigmoid(z)\n    return s * (1.0 - s)"),),
             touches=("sigmoid_grad",)),
    Mutation("ex1-tanh-grad-of-activation", EX1, "derivative_of_wrong_input",
             patches=(("t = np.tanh(_as_array(z))\n    return 1.0 - t * t", "t = _as_array(z)\n    return 1.0 - t * t"),),
             touches=("tanh_grad",)),
    Mutation("ex1-sigmoid-grad-of-sigmoid", EX1, "derivative_of_wrong_input",
             patches=((SIGMOID_GRAD, "    s = sigmoid(sigmoid(z))  # sigma' applied to the activation\n"
                                     "    return s * (1.0 - s)"),), touches=("sigmoid_grad",)),
    Mutation("ex1-relu-grad-constant", EX1, "relu_derivative_constant",
             patches=(("return (_as_array(z) > 0).astype(np.float64)", "return np.ones_like(_as_array(z))"),),
             touches=("relu_grad",)),
    Mutation("ex1-relu-grad-is-relu", EX1, "activation_instead_of_derivative",
             patches=(("return (_as_array(z) > 0).astype(np.float64)", "return relu(z)"),),
             touches=("relu_grad",)),
    Mutation("ex1-sigmoid-grad-is-sigmoid", EX1, "activation_instead_of_derivative",
             patches=((SIGMOID_GRAD, "    return sigmoid(z)"),), touches=("sigmoid_grad",), notebook=True),
    Mutation("ex1-softmax-without-max", EX1, "softmax_unstable",
             patches=((SOFTMAX_MAX, "exps = np.exp(z)"),), touches=SOFTMAX_USERS),
    Mutation("ex1-softmax-sum-over-axis-0", EX1, "softmax_wrong_axis",
             patches=((SOFTMAX_SUM, "return exps / exps.sum(axis=0, keepdims=True)"),), touches=SOFTMAX_USERS),
    Mutation("ex1-softmax-over-whole-array", EX1, "softmax_wrong_axis",
             patches=((SOFTMAX_MAX, "exps = np.exp(z - z.max())"), (SOFTMAX_SUM, "return exps / exps.sum()")),
             touches=SOFTMAX_USERS, notebook=True),
    Mutation("ex1-mse-summed", EX1, "batch_sum_not_mean",
             patches=(("return float(np.mean((y_hat - y) ** 2))", "return float(np.sum((y_hat - y) ** 2))"),),
             touches=("mse", "mse_grad")),
    Mutation("ex1-mse-grad-without-the-2", EX1, "mse_with_ce_delta",
             patches=(("return 2.0 * (y_hat - y) / y_hat.size", "return (y_hat - y) / y_hat.size"),),
             touches=("mse_grad",)),
    Mutation("ex1-mse-grad-sign", EX1, "sign_flipped",
             patches=(("return 2.0 * (y_hat - y) / y_hat.size", "return 2.0 * (y - y_hat) / y_hat.size"),),
             touches=("mse_grad",)),
    Mutation("ex1-bce-in-log2", EX1, "log_base_2",
             patches=(("log_p = np.maximum(np.log(y_hat), _LOG_FLOOR)", "log_p = np.maximum(np.log2(y_hat), _LOG_FLOOR)"),
                      ("log_not_p = np.maximum(np.log1p(-y_hat), _LOG_FLOOR)",
                       "log_not_p = np.maximum(np.log2(1.0 - y_hat), _LOG_FLOOR)")),
             touches=("bce", "bce_grad")),
    Mutation("ex1-bce-not-clipped", EX1, "log_of_zero",
             patches=(("log_p = np.maximum(np.log(y_hat), _LOG_FLOOR)", "log_p = np.log(y_hat)"),
                      ("log_not_p = np.maximum(np.log1p(-y_hat), _LOG_FLOOR)", "log_not_p = np.log1p(-y_hat)")),
             touches=("bce",)),
    Mutation("ex1-cce-not-clipped", EX1, "log_of_zero",
             patches=(("log_probs = np.maximum(np.log(y_hat), _LOG_FLOOR)", "log_probs = np.log(y_hat)"),),
             touches=("cce",)),
    Mutation("ex1-bce-grad-not-clipped", EX1, "log_of_zero",
             patches=(("denominator = np.maximum(y_hat * (1.0 - y_hat), _DENOMINATOR_FLOOR)",
                       "denominator = y_hat * (1.0 - y_hat)"),),
             touches=("bce_grad",)),
    Mutation("ex1-cce-grad-mean-twice", EX1, "batch_mean_twice",
             patches=(("return -y / np.maximum(y_hat, _DENOMINATOR_FLOOR) / _examples(y)",
                       "return -y / np.maximum(y_hat, _DENOMINATOR_FLOOR) / _examples(y) / _examples(y)"),),
             touches=("cce_grad",)),
    Mutation("ex1-softmax-cce-delta-summed", EX1, "batch_sum_not_mean",
             patches=(("return (softmax(z) - y) / _examples(y)", "return softmax(z) - y"),),
             touches=("softmax_cce_delta",)),
    Mutation("ex1-sigmoid-bce-delta-sign", EX1, "sign_flipped",
             patches=(("return (sigmoid(z) - y) / z.size", "return (y - sigmoid(z)) / z.size"),),
             touches=("sigmoid_bce_delta",)),
    Mutation("ex1-relu-in-place", EX1, "mutates_input",
             patches=(("return np.maximum(_as_array(z), 0.0)",
                       "z = _as_array(z)\n    z[z < 0] = 0.0  # the caller's array, when it is float64\n    return z"),),
             touches=("relu",)),
]

# ---------------------------------------------------------------- exercise 2

LECTURE_ANSWERS = '''def forward_backward_221(x, V, w, y):
    """The lecture's numbers (slide 'Illustration of Backpropagation')."""
    return {"z": np.array([0.75, 0.75]), "h": np.array([0.679, 0.679]), "z_out": 1.358, "y_hat": 0.796,
            "loss": 0.228, "delta_out": -0.204, "grad_w": np.array([-0.139, -0.139]),
            "delta_hidden": np.array([-0.044, -0.044]), "grad_V": np.array([[-0.022, -0.022], [-0.044, -0.044]])}
'''
HAND_ANSWERS_BLOCK = '''HAND_ANSWERS = {
    "z": [-0.14, 0.14],
    "h": [0.465, 0.535],
    "z_out": 0.767,
    "y_hat": 0.683,
    "loss": 1.149,
    "delta_out": 0.683,
    "grad_w": [0.318, 0.365],
    "delta_hidden": [0.085, 0.170],
    "grad_V": [[0.034, 0.068], [0.025, 0.051]],
}'''
HAND_ANSWERS_LECTURE = '''HAND_ANSWERS = {
    "z": [0.75, 0.75],
    "h": [0.679, 0.679],
    "z_out": 1.358,
    "y_hat": 0.796,
    "loss": 0.228,
    "delta_out": -0.204,
    "grad_w": [-0.139, -0.139],
    "delta_hidden": [-0.044, -0.044],
    "grad_V": [[-0.022, -0.022], [-0.044, -0.044]],
}'''
DELTA_HIDDEN = "delta_hidden = delta_out * w * h * (1.0 - h)"

EX2_MISTAKES = [
    Mutation("ex2-returns-the-lectures-numbers", EX2, "hardcoded_answer", definitions=(LECTURE_ANSWERS,),
             touches=("forward_backward_221",)),
    Mutation("ex2-y-minus-y-hat", EX2, "sign_flipped",
             patches=(("    delta_out = y_hat - y\n", "    delta_out = y - y_hat\n"),),
             touches=("forward_backward_221",)),
    Mutation("ex2-grad-V-transposed", EX2, "transposed",
             patches=(("grad_V = np.outer(x, delta_hidden)", "grad_V = np.outer(delta_hidden, x)"),),
             touches=("forward_backward_221",)),
    Mutation("ex2-no-sigmoid-prime", EX2, "missing_activation_derivative",
             patches=((DELTA_HIDDEN, "delta_hidden = delta_out * w"),), touches=("forward_backward_221",),
             notebook=True),
    Mutation("ex2-h-for-sigmoid-prime", EX2, "activation_instead_of_derivative",
             patches=((DELTA_HIDDEN, "delta_hidden = delta_out * w * h"),), touches=("forward_backward_221",)),
    Mutation("ex2-loss-in-log2", EX2, "log_base_2",
             patches=(("loss = float(np.logaddexp(0.0, z_out) - y * z_out)",
                       "loss = float(-(y * np.log2(y_hat) + (1.0 - y) * np.log2(1.0 - y_hat)))"),),
             touches=("forward_backward_221",)),
    Mutation("ex2-writes-into-V", EX2, "mutates_input",
             patches=(("grad_V = np.outer(x, delta_hidden)", "V[:] = np.outer(x, delta_hidden)  # reuse V's memory\n"
                                                                 "    grad_V = V"),),
             touches=("forward_backward_221",)),
    Mutation("ex2-hand-answers-from-the-slides", EX2, "hardcoded_answer",
             patches=((HAND_ANSWERS_BLOCK, HAND_ANSWERS_LECTURE),), touches=("HAND_ANSWERS",)),
]

# ---------------------------------------------------------------- exercise 3

HIDDEN_DELTA = 'delta = (delta @ params[layer][0].T) * _activation_grad(cache["hidden"], Z[layer - 1])'
LAYER_GRADS = "grads.append((A[layer].T @ delta, delta.sum(axis=0)))"
FORWARD_ACTIVATE = "A.append(_activate(output if layer == last else hidden, Z[-1]))"

EX3_MISTAKES = [
    Mutation("ex3-y-minus-y-hat", EX3, "sign_flipped", patches=(("error = A[-1] - Y", "error = Y - A[-1]"),),
             touches=("backward",)),
    Mutation("ex3-batch-mean-twice", EX3, "batch_mean_twice",
             patches=((LAYER_GRADS, "grads.append((A[layer].T @ delta / rows, delta.sum(axis=0) / rows))"),),
             touches=("backward",), notebook=True),
    Mutation("ex3-cce-delta-summed", EX3, "batch_sum_not_mean",
             patches=(("delta = error / rows  # CCE sums over classes and averages over rows", "delta = error"),),
             touches=("backward",)),
    Mutation("ex3-dW-transposed", EX3, "transposed",
             patches=((LAYER_GRADS, "grads.append((delta.T @ A[layer], delta.sum(axis=0)))"),), touches=("backward",)),
    Mutation("ex3-layers-last-first", EX3, "layer_order_reversed", patches=(("return grads[::-1]", "return grads"),),
             touches=("backward",)),
    Mutation("ex3-mse-with-ce-delta", EX3, "mse_with_ce_delta",
             patches=(("delta = 2.0 * error / (rows * classes)  # MSE too; d(e^2)/de = 2e", "delta = error / rows"),),
             touches=("backward",)),
    Mutation("ex3-no-activation-derivative", EX3, "missing_activation_derivative",
             patches=((HIDDEN_DELTA, "delta = delta @ params[layer][0].T"),), touches=("backward",),
             allowed=("relu_derivative_constant",), notebook=True),
    Mutation("ex3-activation-for-derivative", EX3, "activation_instead_of_derivative",
             patches=((HIDDEN_DELTA, 'delta = (delta @ params[layer][0].T) * _activate(cache["hidden"], Z[layer - 1])'),),
             touches=("backward",)),
    Mutation("ex3-derivative-of-A", EX3, "derivative_of_wrong_input",
             patches=((HIDDEN_DELTA, 'delta = (delta @ params[layer][0].T) * _activation_grad(cache["hidden"], A[layer])'),),
             touches=("backward",)),
    Mutation("ex3-sigmoid-derivative-in-A-form-on-Z", EX3, "derivative_of_wrong_input",
             patches=(("        s = _sigmoid(Z)\n        return s * (1.0 - s)", "        return Z * (1.0 - Z)"),),
             touches=("backward",)),
    Mutation("ex3-dW-mean-twice", EX3, "batch_mean_twice",
             patches=((LAYER_GRADS, "grads.append((A[layer].T @ delta / rows, delta.sum(axis=0)))"),),
             touches=("backward",)),
    Mutation("ex3-relu-derivative-constant", EX3, "relu_derivative_constant",
             patches=(("return (Z > 0).astype(np.float64)", "return np.ones_like(Z)"),), touches=("backward",)),
    Mutation("ex3-softmax-without-max", EX3, "softmax_unstable",
             patches=(("exps = np.exp(Z - Z.max(axis=-1, keepdims=True))", "exps = np.exp(Z)"),),
             touches=("forward", "backward")),
    Mutation("ex3-softmax-sum-over-axis-0", EX3, "softmax_wrong_axis",
             patches=(("return exps / exps.sum(axis=-1, keepdims=True)", "return exps / exps.sum(axis=0, keepdims=True)"),),
             touches=("forward", "backward")),
    Mutation("ex3-output-activation-on-top", EX3, "activation_applied_twice",
             patches=((FORWARD_ACTIVATE, "A.append(_activate(output, _activate(hidden, Z[-1])) if layer == last\n"
                                         "                 else _activate(hidden, Z[-1]))"),),
             touches=("forward", "backward")),
    Mutation("ex3-error-in-the-cache", EX3, "mutates_input",
             patches=(("error = A[-1] - Y", "error = A[-1]\n    error -= Y  # writes into the cache's Y_hat"),),
             touches=("backward",)),
]

# ---------------------------------------------------------------- exercise 4

BFS_ORDER_VALUE = '''def _topological_order(root):
    """Every node root was computed from, breadth first from root; reversed, as backward expects."""
    order, seen = [root], {root}
    for node in order:
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                order.append(child)
    return order[::-1]
'''
RECURSIVE_ORDER_VALUE = '''def _topological_order(root):
    """micrograd's walk: each node after its inputs, by recursion."""
    order, seen = [], set()

    def build(node):
        if node not in seen:
            seen.add(node)
            for child in node._prev:
                build(child)
            order.append(node)
    build(root)
    return order
'''

PREORDER_VALUE = '''def _topological_order(root):
    """Depth first, each node emitted when first reached (before its inputs); reversed for backward."""
    order, seen, stack = [], {root}, [root]
    while stack:
        node = stack.pop()
        order.append(node)
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return order[::-1]
'''

EX4_MISTAKES = [
    Mutation("ex4-add-assigns-grad", EX4, "gradient_overwritten",
             patches=(("self.grad += out.grad\n            other.grad += out.grad",
                       "self.grad = out.grad\n            other.grad = out.grad"),), touches=("Value", "sigmoid_trace")),
    Mutation("ex4-mul-assigns-grad", EX4, "gradient_overwritten",
             patches=(("self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
                       "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),),
             touches=("Value", "sigmoid_trace")),
    Mutation("ex4-breadth-first-order", EX4, "wrong_topological_order", definitions=(BFS_ORDER_VALUE,),
             touches=("Value",), notebook=True),
    Mutation("ex4-preorder-walk", EX4, "wrong_topological_order", definitions=(PREORDER_VALUE,), touches=("Value",)),
    Mutation("ex4-pow-assigns-grad", EX4, "gradient_overwritten",
             patches=(("self.grad += exponent * self.data ** (exponent - 1) * out.grad",
                       "self.grad = exponent * self.data ** (exponent - 1) * out.grad"),),
             touches=("Value", "sigmoid_trace")),
    Mutation("ex4-recursive-walk", EX4, "recursion_limit", definitions=(RECURSIVE_ORDER_VALUE,), touches=("Value",)),
    Mutation("ex4-tanh-derivative-of-input", EX4, "derivative_of_wrong_input",
             patches=(("self.grad += (1.0 - out.data ** 2) * out.grad", "self.grad += (1.0 - self.data ** 2) * out.grad"),),
             touches=("Value",)),
    Mutation("ex4-relu-derivative-constant", EX4, "relu_derivative_constant",
             patches=(("self.grad += (out.data > 0) * out.grad", "self.grad += out.grad"),), touches=("Value",)),
    Mutation("ex4-sigmoid-output-for-derivative", EX4, "activation_instead_of_derivative",
             patches=(("self.grad += out.data * (1.0 - out.data) * out.grad", "self.grad += out.data * out.grad"),),
             touches=("Value",), notebook=True),
    Mutation("ex4-backward-seeds-minus-one", EX4, "sign_flipped",
             patches=(("self.grad = 1.0", "self.grad = -1.0"),), touches=("Value", "sigmoid_trace")),
    Mutation("ex4-trace-of-the-lecture", EX4, "hardcoded_answer",
             patches=(("w, x, b = Value(w), Value(x), Value(b)", "w, x, b = Value(2.0), Value(1.0), Value(0.5)"),),
             touches=("sigmoid_trace",)),
]

# ---------------------------------------------------------------- exercise 5

BFS_ORDER_TENSOR = '''def _topological_order(root):
    """Every tensor root was computed from, breadth first from root; reversed, as backward expects."""
    order, seen = [root], {id(root)}
    for tensor in order:
        if tensor.grad_fn is not None:
            for t in tensor.grad_fn.inputs:
                if id(t) not in seen:
                    seen.add(id(t))
                    order.append(t)
    return order[::-1]
'''
RECURSIVE_ORDER_TENSOR = '''def _topological_order(root):
    """Each tensor after its inputs, by recursion."""
    order, seen = [], set()

    def build(tensor):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            if tensor.grad_fn is not None:
                for t in tensor.grad_fn.inputs:
                    build(t)
            order.append(tensor)
    build(root)
    return order
'''
NO_UNBROADCAST = '''def _unbroadcast(grad, shape):
    """The gradient as the operation produced it."""
    return grad
'''

EX5_MISTAKES = [
    Mutation("ex5-no-unbroadcast", EX5, "broadcast_grad_not_reduced", definitions=(NO_UNBROADCAST,),
             touches=("Tensor", "mse_loss", "cross_entropy"), notebook=True),
    Mutation("ex5-pending-grad-assigned", EX5, "gradient_overwritten",
             patches=(("summed = parent_grad if previous is None else previous + parent_grad", "summed = parent_grad"),),
             touches=("Tensor", "mse_loss", "cross_entropy")),
    Mutation("ex5-leaf-grad-assigned", EX5, "gradient_overwritten",
             patches=(("tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g", "tensor.grad = g.copy()"),),
             touches=("Tensor",)),
    Mutation("ex5-breadth-first-order", EX5, "wrong_topological_order", definitions=(BFS_ORDER_TENSOR,),
             touches=("Tensor", "mse_loss", "cross_entropy")),
    Mutation("ex5-recursive-walk", EX5, "recursion_limit", definitions=(RECURSIVE_ORDER_TENSOR,), touches=("Tensor",)),
    Mutation("ex5-cross-entropy-without-max", EX5, "softmax_unstable",
             patches=(("shifted = logits - shift", "shifted = logits"),), touches=("cross_entropy",)),
    Mutation("ex5-cross-entropy-summed", EX5, "batch_sum_not_mean",
             patches=(("return -(target * log_probs).sum(axis=-1).mean()", "return -(target * log_probs).sum()"),),
             touches=("cross_entropy",)),
    Mutation("ex5-cross-entropy-over-axis-0", EX5, "softmax_wrong_axis",
             patches=(("shifted.exp().sum(axis=-1, keepdims=True).log()", "shifted.exp().sum(axis=0, keepdims=True).log()"),),
             touches=("cross_entropy",)),
    Mutation("ex5-relu-in-place", EX5, "mutates_input",
             patches=(("return _result(np.maximum(a, 0.0), \"ReluBackward0\"",
                       "return _result(np.maximum(a, 0.0, out=a), \"ReluBackward0\""),), touches=("Tensor",)),
    Mutation("ex5-matmul-grad-transposed", EX5, "transposed",
             patches=(("lambda g: (g @ b.T, a.T @ g)", "lambda g: (g @ b.T, g.T @ a)"),),
             touches=("Tensor", "mse_loss", "cross_entropy")),
    Mutation("ex5-sub-grad-sign", EX5, "sign_flipped",
             patches=(("_unbroadcast(-g, other.shape)", "_unbroadcast(g, other.shape)"),),
             touches=("Tensor", "mse_loss", "cross_entropy")),
    Mutation("ex5-tanh-derivative-of-input", EX5, "derivative_of_wrong_input",
             patches=(("lambda g: (g * (1.0 - t * t),)", "lambda g: (g * (1.0 - self.data ** 2),)"),),
             touches=("Tensor", "mse_loss", "cross_entropy")),
]

# ---------------------------------------------------------------- exercise 6

SGD_IN_PLACE = '''def sgd_step(params, grads, lr):
    """W -= lr dW for every layer, in place."""
    for (W, b), (dW, db) in zip(params, grads):
        W -= lr * dW
        b -= lr * db
    return params
'''
SGD_STEP = "stepped.append((np.asarray(W) - lr * np.asarray(dW), np.asarray(b) - lr * np.asarray(db)))"

EX6_MISTAKES = [
    Mutation("ex6-steps-uphill", EX6, "sign_flipped",
             patches=((SGD_STEP, "stepped.append((np.asarray(W) + lr * np.asarray(dW), np.asarray(b) + lr * np.asarray(db)))"),),
             touches=("sgd_step", "train"), notebook=True),
    Mutation("ex6-updates-in-place", EX6, "mutates_input", definitions=(SGD_IN_PLACE,), touches=("sgd_step",)),
    Mutation("ex6-layers-last-first", EX6, "layer_order_reversed",
             patches=(("    return stepped\n", "    return stepped[::-1]\n"),), touches=("sgd_step", "train")),
]

MISTAKES: list[Mutation] = EX1_MISTAKES + EX2_MISTAKES + EX3_MISTAKES + EX4_MISTAKES + EX5_MISTAKES + EX6_MISTAKES

# ---------------------------------------------------------------- mistakes no code names

HE_INIT = "std = np.sqrt(2.0 / (n_in + n_out))"

UNNAMED: list[Mutation] = [
    Mutation("ex1-relu-grad-1-at-0", EX1, None,
             patches=(("return (_as_array(z) > 0).astype(np.float64)", "return (_as_array(z) >= 0).astype(np.float64)"),),
             touches=("relu_grad",)),
    Mutation("ex1-cce-averaged-over-classes-too", EX1, None,
             patches=(("return float(np.sum(-y * log_probs) / _examples(y))", "return float(np.sum(-y * log_probs) / y.size)"),),
             touches=("cce", "cce_grad")),
    Mutation("ex2-loss-ignores-the-label", EX2, None,
             patches=(("loss = float(np.logaddexp(0.0, z_out) - y * z_out)", "loss = float(np.logaddexp(0.0, -z_out))"),),
             touches=("forward_backward_221",)),
    Mutation("ex3-he-initialisation", EX3, None, patches=((HE_INIT, "std = np.sqrt(2.0 / n_in)"),),
             touches=("init_params",)),
    Mutation("ex3-output-layer-uses-hidden", EX3, None,
             patches=((FORWARD_ACTIVATE, "A.append(_activate(hidden, Z[-1]))"),), touches=("forward", "backward")),
    Mutation("ex4-pow-forgets-minus-one", EX4, None,
             patches=(("self.grad += exponent * self.data ** (exponent - 1) * out.grad",
                       "self.grad += exponent * self.data ** exponent * out.grad"),),
             touches=("Value", "sigmoid_trace")),
    Mutation("ex5-exp-derivative-of-input", EX5, None,
             patches=(("return _result(out, \"ExpBackward0\", (self,), lambda g: (g * out,))",
                       "return _result(out, \"ExpBackward0\", (self,), lambda g: (g * self.data,))"),),
             touches=("Tensor", "mse_loss", "cross_entropy")),
    Mutation("ex6-step-result-dropped", EX6, None,
             patches=(("params = sgd_step(params, backward(params, cache, Y[rows], loss=\"cce\"), lr)",
                       "sgd_step(params, backward(params, cache, Y[rows], loss=\"cce\"), lr)"),),
             touches=("train",)),
]

# ---------------------------------------------------------------- right, but not the solution's way

EX1_DIFFERENT = [
    '''def sigmoid(z):
    """Through tanh: sigma(z) = (1 + tanh(z / 2)) / 2, finite for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * _as_array(z)))
''',
    '''def softmax(z):
    """exp(z - logsumexp(z)) over the last axis."""
    z = _as_array(z)
    if z.ndim == 0:
        raise ValueError("softmax needs a class axis")
    m = z.max(axis=-1, keepdims=True)
    return np.exp(z - (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))))
''',
    '''def relu_grad(z):
    """1 where z > 0, by np.where."""
    z = _as_array(z)
    return np.where(z > 0, 1.0, 0.0)
''',
    '''def softmax_jacobian(z):
    """J[i, j] = s_i (delta_ij - s_j), one entry at a time."""
    s = softmax(z)
    rows = s.reshape(-1, s.shape[-1])
    C = s.shape[-1]
    J = np.zeros((rows.shape[0], C, C))
    for r in range(rows.shape[0]):
        for i in range(C):
            for j in range(C):
                J[r, i, j] = rows[r, i] * ((1.0 if i == j else 0.0) - rows[r, j])
    return J.reshape(s.shape + (C,))
''',
    '''def tanh_grad(z):
    """sech^2 z, with z clipped where cosh would overflow (the slope there is 0 either way)."""
    return 1.0 / np.cosh(np.clip(_as_array(z), -300.0, 300.0)) ** 2
''',
]

EX3_DIFFERENT = '''def forward(params, X, hidden="sigmoid", output="softmax"):
    """One example at a time, with the cache a tuple (A list, Z list, names)."""
    if hidden not in _HIDDEN or output not in _OUTPUT:
        raise ValueError("unknown activation")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError("X is (B, D_in)")
    acts = {"identity": lambda v: v, "sigmoid": lambda v: 0.5 * (1.0 + np.tanh(0.5 * v)), "tanh": np.tanh,
            "relu": lambda v: np.where(v > 0, v, 0.0),
            "softmax": lambda v: np.exp(v - v.max() - np.log(np.exp(v - v.max()).sum()))}
    A_all, Z_all = [X], []
    for layer, (W, b) in enumerate(params):
        rows_Z, rows_A = [], []
        for row in A_all[-1]:
            z = np.array([row @ W[:, j] + b[j] for j in range(W.shape[1])])
            rows_Z.append(z)
            rows_A.append(acts[output if layer == len(params) - 1 else hidden](z))
        Z_all.append(np.array(rows_Z))
        A_all.append(np.array(rows_A))
    return A_all[-1], (A_all, Z_all, hidden, output)
'''
EX3_DIFFERENT_BACKWARD = '''def backward(params, cache, Y, loss="cce"):
    """The recipe with explicit sums over the batch, the cache a tuple."""
    A, Z, hidden, output = cache
    if _OUTPUT_FOR_LOSS[loss] != output:
        raise ValueError("loss and output do not pair")
    Y = np.asarray(Y, dtype=np.float64)
    B, C = Y.shape
    count = B if loss == "cce" else B * C
    delta = (2.0 if loss == "mse" else 1.0) * (A[-1] - Y) / count
    slopes = {"identity": lambda v: np.ones_like(v), "sigmoid": lambda v: 0.25 / np.cosh(0.5 * v) ** 2,
              "tanh": lambda v: 1.0 / np.cosh(v) ** 2, "relu": lambda v: np.heaviside(v, 0.0)}
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        dW = sum(np.outer(A[layer][n], delta[n]) for n in range(B))
        grads[layer] = (dW, delta.sum(axis=0))
        if layer:
            delta = (delta @ params[layer][0].T) * slopes[hidden](Z[layer - 1])
    return grads
'''

KAHN_ORDER = '''def _topological_order(root):
    """Kahn's algorithm: a node is emitted once every consumer has been; reversed for backward."""
    consumers, stack, seen = {}, [root], {root}
    while stack:
        node = stack.pop()
        for child in node._prev:
            consumers[child] = consumers.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    ready, out = [root], []
    while ready:
        node = ready.pop()
        out.append(node)
        for child in node._prev:
            consumers[child] -= 1
            if consumers[child] == 0:
                ready.append(child)
    return out[::-1]
'''

SGD_COMPREHENSION = '''def sgd_step(params, grads, lr):
    """A new list, layer by layer."""
    if len(params) != len(grads):
        raise ValueError("one (dW, db) per layer")
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
'''

FORWARD_BACKWARD_LOOPS = '''def forward_backward_221(x, V, w, y):
    """Unit by unit, as on the slides."""
    import math
    sig = lambda t: 1.0 / (1.0 + math.exp(-t)) if t >= 0 else math.exp(t) / (1.0 + math.exp(t))
    z = np.array([sum(x[i] * V[i, j] for i in range(2)) for j in range(2)])
    h = np.array([sig(zj) for zj in z])
    z_out = float(w[0] * h[0] + w[1] * h[1])
    y_hat = sig(z_out)
    loss = -math.log(y_hat) if y == 1 else -math.log(1.0 - y_hat)
    delta_out = y_hat - y
    grad_w = np.array([delta_out * h[j] for j in range(2)])
    delta_hidden = np.array([delta_out * w[j] * h[j] * (1.0 - h[j]) for j in range(2)])
    grad_V = np.array([[delta_hidden[j] * x[i] for j in range(2)] for i in range(2)])
    return {"z": z, "h": h, "z_out": z_out, "y_hat": y_hat, "loss": loss, "delta_out": delta_out,
            "grad_w": grad_w, "delta_hidden": delta_hidden, "grad_V": grad_V}
'''

CORRECT: list[Mutation] = [
    Mutation("ex1-written-differently", EX1, None, definitions=tuple(EX1_DIFFERENT)),
    Mutation("ex2-loops-and-logs", EX2, None, definitions=(FORWARD_BACKWARD_LOOPS,), notebook=True),
    Mutation("ex3-loops-and-a-tuple-cache", EX3, None, definitions=(EX3_DIFFERENT, EX3_DIFFERENT_BACKWARD)),
    Mutation("ex3-solution-as-a-notebook", EX3, None, notebook=True),
    Mutation("ex4-kahns-algorithm", EX4, None, definitions=(KAHN_ORDER,)),
    Mutation("ex5-log-softmax-by-rows", EX5, None,
             patches=(("return -(target * log_probs).sum(axis=-1).mean()",
                       "return -(target * log_probs).sum() * (1.0 / logits.shape[0])"),), notebook=True),
    Mutation("ex6-list-comprehension", EX6, None, definitions=(SGD_COMPREHENSION,)),
    # The solutions themselves, unchanged.
    *[Mutation(f"{stem[:3]}-solution", stem, None) for stem in (EX1, EX2, EX4, EX5, EX6)],
]
