"""What each diagnosis tells the student: one sentence naming the mistake, with the lecture's formula.

A failed check's feedback says what is wrong and where (the function, tensor or layer); the
sentence here is appended when the evidence names the mistake. The general sentence is written
for an MLP's backward (matrices, a batch of B rows); an exercise may word it for its own
functions. No sentence shows an input, an expected value or reference code.
"""
from __future__ import annotations

from typing import Optional

from grader.diagnosis.codes import CODES
from grader.diagnosis.scale import ScaleMatch

GENERAL: dict[str, str] = {
    "sign_flipped": "The sign is flipped: the output error is Y_hat - Y (prediction minus target), "
                    "and each gradient follows from it with a plus sign.",
    "batch_mean_twice": "The batch mean is taken twice, once in the loss gradient (delta_L already "
                        "carries the 1/B) and again in the layer: dW_l = A_{l-1}.T @ delta_l and "
                        "db_l = delta_l.sum(axis=0) add no second 1/B.",
    "batch_sum_not_mean": "The gradient is of the summed loss: the loss is a mean over the batch, so "
                          "delta_L carries a 1/B (for softmax + cce, delta_L = (Y_hat - Y) / B).",
    "transposed": "It is the transpose of the right one: dW_l = A_{l-1}.T @ delta_l has W_l's shape "
                  "(n_in, n_out).",
    "missing_activation_derivative": "The act'(Z_l) factor is left out of the hidden deltas: "
                                     "delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l).",
    "activation_instead_of_derivative": "act(Z_l) is used where act'(Z_l) belongs: "
                                        "delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), "
                                        "e.g. sigma'(z) = sigma(z) (1 - sigma(z)).",
    "derivative_of_wrong_input": "act' is applied to the wrong input: act'(Z_l) takes the pre-activation "
                                 "Z_l, and the short forms sigma'(Z) = A (1 - A), tanh'(Z) = 1 - A^2 take "
                                 "A = act(Z), not Z (nor act'(A)).",
    "relu_derivative_constant": "relu'(z) is 1 where z > 0 and 0 elsewhere, not 1 everywhere.",
    "mse_with_ce_delta": "For mse the output delta is 2 (Y_hat - Y) / (B n_L); the form Y_hat - Y belongs "
                         "to sigmoid + bce and softmax + cce only (the lecture's 'magic simplification').",
    "layer_order_reversed": "The layers come last first: return them in the order of params "
                            "(index 0 = the first layer).",
    "log_base_2": "It is off by a factor ln 2: the loss uses log2 where the natural log belongs (np.log), "
                  "so the loss and its gradient disagree.",
    "softmax_unstable": "exp overflows for large logits: subtract each row's maximum before exp, "
                        "softmax(z) = softmax(z - max(z)).",
    "softmax_wrong_axis": "softmax is normalised over the wrong axis: each row, one example, must sum to 1 "
                          "(axis=-1, keepdims=True).",
    "log_of_zero": "It is inf or nan where a probability is exactly 0 or 1: clip y_hat to [eps, 1 - eps] "
                   "before the log or the division.",
    "mutates_input": "The function changed an argument in place: compute new arrays (x = x - ..., "
                     "not x -= ...).",
    "gradient_overwritten": "A gradient is assigned where it must be added: a node used on several paths "
                            "sums the gradients of all of them (grad += ..., never grad = ...).",
    "wrong_topological_order": "A node passed its gradient on before all of its consumers had added theirs: "
                               "build a topological order first and visit it in reverse.",
    "broadcast_grad_not_reduced": "A broadcast operand's gradient keeps the broadcast shape: sum it over "
                                  "the stretched axes, back to the operand's own shape.",
    "recursion_limit": "The graph walk is recursive and hits Python's recursion limit on a chain of "
                       "thousands of operations: build the topological order with a loop and an "
                       "explicit stack.",
    "hardcoded_answer": "It returns the lecture's numbers whatever the input: compute every value from "
                        "the arguments.",
    "activation_applied_twice": "An activation is applied twice: each layer computes A_l = act(Z_l) once, "
                                "hidden layers with `hidden` and the last layer with `output` only.",
}

_LOCAL_DERIVATIVES = "tanh'(x) = 1 - t^2 with t = tanh(x), sigmoid'(x) = s (1 - s) with s = sigmoid(x), " \
                     "relu'(x) = 1 where x > 0, else 0"

# Wording for one exercise's functions, where the general sentence does not fit.
BY_EXERCISE: dict[str, dict[str, str]] = {
    "ex1_activations_losses": {
        "sign_flipped": "It is exactly minus the right answer: the sign is flipped (y_hat - y, not y - y_hat).",
        "batch_sum_not_mean": "It is N times the right answer: the loss is a mean, so divide by the number of "
                              "elements N (by the number of rows B for cce).",
        "batch_mean_twice": "It is 1/N of the right answer: the mean is taken twice.",
        "mse_with_ce_delta": "It is the cross-entropy form y_hat - y: the derivative of the mean squared error "
                             "is 2 (y_hat - y) / N, with the 2 from the square.",
        "transposed": "It is the transpose of the right answer: keep the input's (rows, columns) order.",
        "derivative_of_wrong_input": "The formula is applied to the wrong input: the argument is the "
                                     "pre-activation z, so compute the activation of z first "
                                     "(sigma'(z) = s (1 - s) with s = sigma(z), tanh'(z) = 1 - tanh(z)^2).",
        "activation_instead_of_derivative": "It returns the activation itself, not its derivative.",
        "hardcoded_answer": "It returns the lecture's numbers for a different input: compute from the arguments.",
    },
    "ex2_hand_calculation": {
        "sign_flipped": "The gradients have the opposite sign: delta_out = y_hat - y.",
        "transposed": "grad_V is transposed: grad_V[i, j] = dL/dv_ij = delta_j * x_i (row i belongs to input i).",
        "missing_activation_derivative": "delta_hidden leaves out sigma'(z_j): "
                                         "delta_j = delta_out * w_j * h_j (1 - h_j).",
        "activation_instead_of_derivative": "delta_hidden uses h_j where sigma'(z_j) = h_j (1 - h_j) belongs: "
                                            "delta_j = delta_out * w_j * h_j (1 - h_j).",
        "derivative_of_wrong_input": "sigma' is applied to the wrong input: sigma'(z_j) = h_j (1 - h_j), "
                                     "not sigma'(h_j) and not z_j (1 - z_j).",
        "log_base_2": "The loss uses log2: L = -[y ln(y_hat) + (1 - y) ln(1 - y_hat)] with the natural log, "
                      "so the loss and its gradients disagree by a factor ln 2.",
    },
    "ex4_autograd_scalar": {
        "sign_flipped": "The gradients have the opposite sign: check the sign of each local derivative "
                        "(d(a - b)/db = -1) and seed the output's grad with +1.",
        "gradient_overwritten": "A node used by several operations must sum their gradients: write "
                                "`self.grad += ...` in every backward closure, never `=`.",
        "wrong_topological_order": "A node's backward ran before all of its consumers had added their "
                                   "gradients: build a topological order first, then visit it in reverse.",
        "hardcoded_answer": "The answer does not change with the input: compute it from w, x and b.",
        "derivative_of_wrong_input": f"The local derivative is taken of the wrong value: {_LOCAL_DERIVATIVES}.",
        "activation_instead_of_derivative": "The local derivative is the operation's output, not its "
                                            f"derivative: {_LOCAL_DERIVATIVES}.",
        "missing_activation_derivative": "The local derivative is left out: the input's grad is "
                                         "out.grad * d out / d x.",
        "relu_derivative_constant": "relu's local derivative is 1 where x > 0 and 0 elsewhere, not 1 everywhere.",
    },
    "ex5_autograd_tensor": {
        "sign_flipped": "The gradient has the opposite sign: check the local derivative's sign "
                        "(d(a - b)/db = -1, d(a / b)/db = -a / b^2).",
        "transposed": "It is the transpose of the right one: for C = A @ B, dA = dC @ B.T and dB = A.T @ dC.",
        "gradient_overwritten": "Gradients must be added into .grad (+=), for a tensor used twice and across "
                                "backward calls, not assigned.",
        "softmax_unstable": "cross_entropy must subtract each row's maximum before exp (logsumexp), so logits "
                            "of 1000 stay finite.",
        "softmax_wrong_axis": "cross_entropy must normalise each row (one example) over the classes: "
                              "the log-sum-exp runs over axis=-1.",
        "batch_sum_not_mean": "The loss must be a mean over the batch, not a sum.",
        "mutates_input": "An operation changed an input tensor's .data in place: compute new arrays.",
        "derivative_of_wrong_input": f"The local derivative is taken of the wrong value: {_LOCAL_DERIVATIVES}.",
        "activation_instead_of_derivative": "The local derivative is the operation's output, not its "
                                            f"derivative: {_LOCAL_DERIVATIVES}.",
        "missing_activation_derivative": "The local derivative is left out: the input's gradient is "
                                         "the upstream gradient times d out / d x.",
        "relu_derivative_constant": "relu's local derivative is 1 where x > 0 and 0 elsewhere, not 1 everywhere.",
    },
    "ex6_gradient_descent": {
        "sign_flipped": "It steps uphill: gradient descent moves against the gradient, W <- W - lr * dW.",
        "layer_order_reversed": "The layers come last first: keep the order of params (index 0 = first layer).",
    },
}


def mistake_text(code: str, exercise: Optional[str] = None) -> str:
    """The sentence for `code`, worded for `exercise` where it has its own."""
    if code not in CODES:
        raise ValueError(f"{code!r} is not a diagnosis code (known: {', '.join(CODES)})")
    return BY_EXERCISE.get(exercise or "", {}).get(code, GENERAL[code])


def with_mistake_text(feedback: str, code: Optional[str], exercise: Optional[str] = None) -> str:
    """`feedback` followed by the mistake's sentence (unchanged when `code` is None)."""
    return f"{feedback} {mistake_text(code, exercise)}" if code else feedback


def scale_phrase(what: str, match: ScaleMatch, plural: bool = False) -> str:
    """'<what> is 1/B = 1/5 times the right value.' for a scale factor the answer matched."""
    verb, values = ("are", "values") if plural else ("is", "value")
    return f"{what} {verb} {match.factor.label} times the right {values}."
