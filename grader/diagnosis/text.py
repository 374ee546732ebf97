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
    # da6401-a1's (CONTRACT.md, "Assignments"): a NeuralNetwork whose losses are taken on p = softmax(z).
    "mse_grad_scale_classes": "The mean squared error averages over all B x C entries, so dL/dp = 2 (p - Y) / (B C): "
                              "this gradient is C (or C/2) times that, the gradient of a loss summed over the "
                              "classes instead of averaged.",
    "mse_missing_softmax_jacobian": "Under mean squared error the loss is taken on p = softmax(z), so dL/dp must go "
                                    "back through the softmax Jacobian, dL/dz = p * (dL/dp - sum_c p_c dL/dp_c), "
                                    "not be used as dL/dz.",
    "expects_probabilities": "backward receives the logits forward returned as y_pred, not probabilities: apply the "
                             "softmax inside backward (or the loss) before the output delta.",
    "labels_int_only": "backward must accept the targets as integer labels (B,) and as one-hot rows (B, C): turn "
                       "labels into one-hot rows, and leave one-hot rows as they are.",
    "arguments_swapped": "backward takes (y_true, y_pred): the targets first, then the logits forward returned.",
    "stale_state": "A second backward must use only the last forward pass: store each forward's inputs and "
                   "pre-activations afresh (replace them, never append or accumulate) and compute new gradients "
                   "on every call.",
    "nag_is_momentum": "NAG takes its gradient at the look-ahead point w - lr beta u, or uses the Bengio form "
                       "u = beta u + g; w -= lr (g + beta u): as written it is plain momentum.",
    "nag_is_sgd": "The NAG look-ahead and its undo cancel and the velocity never builds up, which leaves plain SGD: "
                  "keep u = beta u + g and step with it.",
    "momentum_ema": "Momentum accumulates u = beta u + g and steps w -= lr u; beta u + (1 - beta) g is an "
                    "exponential average, whose steps are 1 - beta times too small.",
    "adam_step_per_layer": "The time step t counts updates of the whole network: advance it once per update, not "
                           "once per layer, so every layer is bias-corrected with the same t.",
    "no_bias_correction": "Adam and NAdam correct both moments for their zero start: m_hat = m / (1 - beta1^t) and "
                          "v_hat = v / (1 - beta2^t), with t the number of updates so far.",
    "weight_decay_ignored": "Weight decay is L2 on the weights only: add weight_decay * W to each weight's gradient "
                            "in the optimizer, and leave the biases' gradients alone.",
    "float32_precision": "The network computes in single precision, which cannot meet the gradient tolerance: keep "
                         "weights, activations and gradients in double precision (numpy's default float type).",
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


_A1_LAYERS = ("backward returns the OUTPUT layer first (index 0), while get_weights and set_weights list W0, b0, "
              "W1, ... from the input layer on.")
_A1_KEYS = ("get_weights and set_weights must list the layers from the input layer on: W0 and b0 belong to the layer "
            "that reads X.")
_A1_STORAGE = ("set_weights must take each W in the shape get_weights returns it: the grader loads the weights exactly "
               "as your get_weights stores them.")
_A1_DELTA = "the output delta is dL/dz of the batch-mean loss on p = softmax(z): (p - Y) / B for cross_entropy"

# The wording for da6401-a1's parts (grader/assignments/da6401_a1/checks), where the MLP is a
# NeuralNetwork: W stored as get_weights shows it, backward listing the output layer first.
DA6401_A1: dict[str, dict[str, str]] = {
    "a1_forward": {
        "layer_order_reversed": _A1_KEYS,
        "transposed": _A1_STORAGE,
        "activation_applied_twice": "A hidden activation is applied twice: each hidden layer computes "
                                    "A = act(A_prev @ W + b) once, and the output layer returns logits, with no "
                                    "activation.",
    },
    "a1_gradients": {
        "layer_order_reversed": f"The layers come in the wrong order: {_A1_LAYERS}",
        "transposed": "Each weight gradient has its weight's shape as get_weights stores it: for W (n_in, n_out), "
                      "dW = A_prev.T @ delta; for W stored (n_out, n_in), delta.T @ A_prev.",
        "sign_flipped": f"The sign is flipped: {_A1_DELTA}, probabilities minus targets.",
        "batch_mean_twice": "The batch mean is taken twice: the output delta (p - Y) / B already carries the 1/B, so "
                            "dW = A_prev.T @ delta and db = delta.sum(axis=0) add no second one.",
        "batch_sum_not_mean": f"The gradient is of the summed loss, not the batch mean: {_A1_DELTA}.",
        "mse_with_ce_delta": "Under mean squared error the output delta is not the cross-entropy's (p - Y) / B: it "
                             "is G = 2 (p - Y) / (B C) taken back through the softmax Jacobian, "
                             "dL/dz = p * (G - sum_c G_c p_c).",
        "missing_activation_derivative": "The act'(Z) factor is left out of the hidden deltas: "
                                         "delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l), W as (n_in, n_out).",
        "activation_instead_of_derivative": "act(Z) is used where act'(Z) belongs in the hidden deltas: "
                                            "delta_l = (delta_{l+1} @ W_{l+1}.T) * act'(Z_l).",
        "derivative_of_wrong_input": "act' is applied to the wrong input: act'(Z) takes the pre-activation Z; "
                                     "the short forms A (1 - A) and 1 - A^2 take A = act(Z).",
        "activation_applied_twice": "The forward pass applies a hidden activation twice, so backward's gradients "
                                    "are not those of the network: each hidden layer computes A = act(A_prev @ W + b) "
                                    "once.",
    },
    "a1_optimizers": {
        "layer_order_reversed": _A1_KEYS,
        "transposed": _A1_STORAGE,
        "weight_decay_ignored": "Weight decay is L2 on the weights only: the optimizer adds weight_decay * W to each "
                                "grad_W before the update, and never decays the biases.",
    },
}
_WORDING: dict[str, dict[str, str]] = {**BY_EXERCISE, **DA6401_A1}


def mistake_text(code: str, exercise: Optional[str] = None) -> str:
    """The sentence for `code`, worded for `exercise` where it has its own."""
    if code not in CODES:
        raise ValueError(f"{code!r} is not a diagnosis code (known: {', '.join(CODES)})")
    return _WORDING.get(exercise or "", {}).get(code, GENERAL[code])


def with_mistake_text(feedback: str, code: Optional[str], exercise: Optional[str] = None) -> str:
    """`feedback` followed by the mistake's sentence (unchanged when `code` is None)."""
    return f"{feedback} {mistake_text(code, exercise)}" if code else feedback


def scale_phrase(what: str, match: ScaleMatch, plural: bool = False) -> str:
    """'<what> is 1/B = 1/5 times the right value.' for a scale factor the answer matched."""
    verb, values = ("are", "values") if plural else ("is", "value")
    return f"{what} {verb} {match.factor.label} times the right {values}."
