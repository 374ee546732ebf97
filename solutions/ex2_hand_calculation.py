"""Exercise 2: Backpropagation by hand in a 2-2-1 network (solution).

Generated from `ex2_hand_calculation.ipynb`: edit the notebook, then run
`python -m grader.authoring.generate`. A copy that drifts from the notebook fails the tests.
"""
import numpy as np


def _sigmoid(t):
    """sigma(t) = 1 / (1 + exp(-t)), without overflow for any t (given)."""
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forward_backward_221(x: np.ndarray, V: np.ndarray, w: np.ndarray, y: int) -> dict:
    """One forward and one backward pass of the lecture's 2-2-1 network.

    x: (2,) inputs; V: (2, 2), V[i, j] = v_ij joins input i to hidden unit j;
    w: (2,) hidden-to-output weights; y: the label, 0 or 1.
    Sigmoid hidden and output units, BCE loss, no biases.

    Forward:  z_j = sum_i x_i v_ij,  h = sigma(z),  z_out = sum_j w_j h_j,  y_hat = sigma(z_out),
              loss = -[y log y_hat + (1 - y) log(1 - y_hat)].
    Backward: delta_out = y_hat - y,  dL/dw_j = delta_out h_j,
              delta_j = delta_out w_j h_j (1 - h_j),  dL/dv_ij = delta_j x_i.

    Returns {"z": (2,), "h": (2,), "z_out", "y_hat", "loss", "delta_out": floats,
             "grad_w": (2,), "delta_hidden": (2,), "grad_V": (2, 2)}.
    """
    x, V, w = (np.asarray(a, dtype=np.float64) for a in (x, V, w))
    if x.shape != (2,) or V.shape != (2, 2) or w.shape != (2,):
        raise ValueError(f"expected x (2,), V (2, 2), w (2,); got {x.shape}, {V.shape}, {w.shape}")
    if y not in (0, 1):
        raise ValueError(f"y is the label and must be 0 or 1, not {y!r}")
    y = float(y)
    z = x @ V  # z_j = sum_i x_i v_ij
    h = _sigmoid(z)
    z_out = float(h @ w)
    y_hat = float(_sigmoid(z_out))
    loss = float(np.logaddexp(0.0, z_out) - y * z_out)  # the BCE, from the logit
    delta_out = y_hat - y
    grad_w = delta_out * h
    delta_hidden = delta_out * w * h * (1.0 - h)
    grad_V = np.outer(x, delta_hidden)  # grad_V[i, j] = x_i delta_j
    return {"z": z, "h": h, "z_out": z_out, "y_hat": y_hat, "loss": loss, "delta_out": delta_out,
            "grad_w": grad_w, "delta_hidden": delta_hidden, "grad_V": grad_V}


# Your student id, exactly as your instructor knows you.
STUDENT_ID = "your student id"
STUDENT_ID = "solutions"


# HAND_ANSWERS: your personal case worked by hand to 3 decimals, as literal numbers.
HAND_ANSWERS = {
    "z": [None, None],                      # z1, z2
    "h": [None, None],                      # h1, h2
    "z_out": None,
    "y_hat": None,
    "loss": None,
    "delta_out": None,
    "grad_w": [None, None],                 # dL/dw1, dL/dw2
    "delta_hidden": [None, None],           # delta_1, delta_2
    "grad_V": [[None, None], [None, None]], # [[dL/dv11, dL/dv12], [dL/dv21, dL/dv22]]
}
# Worked for the student id "solutions": x = (0.4, 0.3), v11 = 0.1, v12 = 0.2, v21 = -0.6,
# v22 = 0.2, w = (0.5, 1.0), y = 0, rounded to 3 decimals at each step. Two steps land halfway:
# z_out = 0.5 * 0.465 + 1.0 * 0.535 = 0.7675 (exact chain: 0.76747, so 0.767) and
# dL/dv21 = 0.085 * 0.3 = 0.0255 (exact chain: 0.02549, so 0.025).
HAND_ANSWERS = {
    "z": [-0.14, 0.14],
    "h": [0.465, 0.535],
    "z_out": 0.767,
    "y_hat": 0.683,
    "loss": 1.149,
    "delta_out": 0.683,
    "grad_w": [0.318, 0.365],
    "delta_hidden": [0.085, 0.170],
    "grad_V": [[0.034, 0.068], [0.025, 0.051]],
}
