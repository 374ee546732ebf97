"""The `da6401-a1` mistake catalogue: every variant builds, shows the deviation its code names, and
correct variants agree with the reference.

Each variant is materialised from the solution into a temporary folder and imported as `ann`.
`failed_checks` is a small battery of what the grader checks (forward, backward in both label
forms and losses, a second backward, the six optimizers on a fixed gradient, weight decay,
full-batch NAG): every mistake fails some of it, every correct variant none.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grader.assignments.da6401_a1.reference.activations import activation_pair
from grader.assignments.da6401_a1.reference.gradcheck import relative_error
from grader.assignments.da6401_a1.reference.losses import one_hot, softmax
from grader.assignments.da6401_a1.reference.network import backpropagate, forward
from tests.assignments.da6401_a1.catalogue import (
    CORRECT, GRADIENT_MISTAKES, MISTAKES, OPTIMIZER_MISTAKES, SOLUTION, VARIANTS, PatchError, Variant, materialise,
)
from tests.assignments.da6401_a1.importing import imported
from tests.assignments.da6401_a1.networks import (
    Case, make_case, namespace, reference_weights, student_gradients, to_student,
)
from tests.assignments.da6401_a1.trajectories import run

BY_NAME = {variant.name: variant for variant in VARIANTS}
# The codes CONTRACT.md gives these mistakes: each must have a variant.
EXPECTED_CODES = {
    "batch_mean_twice", "layer_order_reversed", "transposed", "activation_applied_twice", "mse_with_ce_delta",
    "mse_grad_scale_classes", "mse_missing_softmax_jacobian", "expects_probabilities", "labels_int_only",
    "arguments_swapped", "stale_state", "float32_precision", "sign_flipped", "missing_activation_derivative",
    "nag_is_momentum", "nag_is_sgd", "momentum_ema", "adam_step_per_layer", "no_bias_correction",
    "weight_decay_ignored",
}
ACTIVATION = "tanh"
BATCH = 6
ETA, BETA = 0.1, 0.9


@contextlib.contextmanager
def variant_ann(name: str, tmp_path: Path) -> Iterator:
    """The variant's `ann` package, imported from a fresh copy."""
    root = materialise(BY_NAME[name], tmp_path / name)
    with imported(root / "src") as package:
        yield package


def network(ann, case: Case, **options):
    net = ann.NeuralNetwork(namespace(**{"activation": ACTIVATION, **options}))
    to_student(net, case.weights, case.biases)
    return net


def gradients(ann, case: Case, loss: str = "cross_entropy", form: str = "labels") -> tuple[list, list]:
    """The variant's gradients for the case, input layer first, reference orientation."""
    net = network(ann, case, loss=loss)
    return student_gradients(net, case, case.targets(form), net.forward(case.X))


def assert_all_close(got: list, want: list, rtol: float = 1e-10) -> None:
    for l, (a, b) in enumerate(zip(got, want)):
        assert np.shape(a) == np.shape(b), f"tensor {l}: shape {np.shape(a)}, expected {np.shape(b)}"
        assert relative_error(a, b) < rtol, f"tensor {l}: relative error {relative_error(a, b):.2e}"


def full_batch_run(ann, case: Case, optimizer: str, epochs: int = 4) -> list:
    net = network(ann, case, optimizer=optimizer, learning_rate=0.5)
    net.train(case.X, case.labels, epochs=epochs, batch_size=len(case.X))
    Ws, bs = reference_weights(net, case)
    return [p for pair in zip(Ws, bs) for p in pair]


def flat_parameters(case: Case) -> list:
    return [p for pair in zip(case.weights, case.biases) for p in pair]


def fixed_step_deltas(ann, case: Case, optimizer: str, steps: int = 1, **options) -> list:
    """W_{k-1} - W_k of each layer's W after `steps` updates with gradient 1 everywhere, input layer first."""
    net = network(ann, case, optimizer=optimizer, learning_rate=ETA, **options)
    before = reference_weights(net, case)[0]
    for _ in range(steps):
        net.optimizer.look_ahead(net.layers)
        for layer in net.layers:
            layer.grad_W, layer.grad_b = np.ones_like(layer.W), np.ones_like(layer.b)
        net.update_weights()
    return [W0 - W1 for W0, W1 in zip(before, reference_weights(net, case)[0])]


# ---------------------------------------------------------------- the battery

def failed_checks(ann) -> set[str]:
    """Which of the grader's kinds of check the package fails: each raises or compares, never both."""
    case, other = make_case(batch=BATCH, seed=21), make_case(batch=BATCH, seed=22)
    params = flat_parameters(case)
    checks = {}
    checks["forward"] = lambda: assert_float64_equal(network(ann, case).forward(case.X), case.reference_logits(ACTIVATION))
    for loss in ("cross_entropy", "mse"):
        for form in ("labels", "one_hot"):
            checks[f"backward:{loss}:{form}"] = lambda loss=loss, form=form: assert_gradients(ann, case, loss, form)
    checks["second_backward"] = lambda: assert_second_backward(ann, case, other)
    # Step sizes in units of eta under g = 1: momentum's grow as 1, 1 + beta, 1 + beta + beta^2; NAG's
    # are those in look-ahead form (g is the same at every point) and one further on in Bengio's form.
    hand = {"sgd": ([1.0] * 3,), "momentum": ([1.0, 1.9, 2.71],), "nag": ([1.0, 1.9, 2.71], [1.9, 2.71, 3.439]),
            "adam": ([1.0] * 3,)}
    for optimizer, accepted in hand.items():
        checks[f"step:{optimizer}"] = lambda optimizer=optimizer, accepted=accepted: either(
            *[lambda multiples=multiples: assert_fixed_steps(ann, case, optimizer, multiples) for multiples in accepted])
    checks["weight_decay"] = lambda: assert_weight_decay(ann, case)
    trained = lambda: full_batch_run(ann, case, "nag")  # noqa: E731
    checks["nag_run"] = lambda: either(*[
        lambda form=form: assert_all_close(trained(), run(form, params, case.X, case.labels, 4, "cross_entropy",
                                                          ACTIVATION, 0.5))
        for form in ("nag_look_ahead", "nag_bengio")])
    failed = set()
    for name, check in checks.items():
        try:
            check()
        except Exception:  # a comparison that fails and code that raises both fail the check
            failed.add(name)
    return failed


def either(*checks) -> None:
    """Pass when one of the checks passes (a rule the course accepts in more than one form)."""
    errors = []
    for check in checks:
        try:
            return check()
        except AssertionError as error:
            errors.append(error)
    raise AssertionError(errors)


def assert_float64_equal(got, want) -> None:
    assert np.asarray(got).dtype == np.float64
    assert relative_error(got, want) < 1e-10


def assert_gradients(ann, case: Case, loss: str, form: str) -> None:
    got_Ws, got_bs = gradients(ann, case, loss, form)
    assert all(np.asarray(g).dtype == np.float64 for g in got_Ws + got_bs)
    want_Ws, want_bs = case.reference_gradients(loss, ACTIVATION, form)
    assert_all_close(got_Ws + got_bs, want_Ws + want_bs)


def assert_second_backward(ann, first: Case, second: Case) -> None:
    net = network(ann, first)
    net.backward(first.labels, net.forward(first.X))
    to_student(net, second.weights, second.biases)
    got_Ws, got_bs = student_gradients(net, second, second.labels, net.forward(second.X))
    want_Ws, want_bs = second.reference_gradients("cross_entropy", ACTIVATION)
    assert_all_close(got_Ws + got_bs, want_Ws + want_bs)


def assert_fixed_steps(ann, case: Case, optimizer: str, multiples: list) -> None:
    # With g = 1 everywhere: sgd steps eta each time, momentum and nag eta (1, 1 + beta, 1 + beta + beta^2),
    # adam eta / (1 + eps) each time (m_hat = g and v_hat = g^2 under a constant gradient).
    for k, multiple in enumerate(multiples, start=1):
        deltas = fixed_step_deltas(ann, case, optimizer, steps=k)
        previous = fixed_step_deltas(ann, case, optimizer, steps=k - 1) if k > 1 else [0.0] * len(deltas)
        for delta, before in zip(deltas, previous):
            np.testing.assert_allclose(delta - before, ETA * multiple, rtol=1e-5)


def assert_weight_decay(ann, case: Case) -> None:
    net = network(ann, case, optimizer="sgd", learning_rate=ETA, weight_decay=0.5)
    for layer in net.layers:
        layer.grad_W, layer.grad_b = np.zeros_like(layer.W), np.zeros_like(layer.b)
    net.update_weights()
    Ws, bs = reference_weights(net, case)
    assert_all_close(Ws + bs, [W * (1 - ETA * 0.5) for W in case.weights] + case.biases, rtol=1e-6)


# ---------------------------------------------------------------- the catalogue itself

def test_names_are_unique_and_codes_cover_the_contracts():
    assert len(BY_NAME) == len(VARIANTS)
    assert {variant.diagnosis_code for variant in MISTAKES} == EXPECTED_CODES
    assert all(variant.diagnosis_code is None for variant in CORRECT)
    assert all(variant.patches and variant.description for variant in VARIANTS)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_variant_materialises_imports_and_differs_from_the_solution(name, tmp_path):
    root = materialise(BY_NAME[name], tmp_path / name)
    changed = {file for file, _, _ in BY_NAME[name].patches}
    for file in changed:
        assert (root / file).read_text() != (SOLUTION / file).read_text()
    assert not list(root.rglob("__pycache__"))
    with imported(root / "src") as ann:
        assert Path(ann.__file__).is_relative_to(root)
        assert ann.NeuralNetwork(namespace()).forward(np.zeros((2, 7))).shape == (2, 3)


def test_materialise_fails_loudly_when_a_patch_does_not_fit(tmp_path):
    missing = Variant("missing", None, (("src/ann/neural_layer.py", "no such text\n", ""),))
    with pytest.raises(PatchError, match="0 times"):
        materialise(missing, tmp_path / "missing")
    twice = Variant("twice", None, (("src/ann/neural_layer.py", "self.", "this."),))
    with pytest.raises(PatchError, match="times, not once"):
        materialise(twice, tmp_path / "twice")
    with pytest.raises(FileExistsError):
        materialise(CORRECT[0], tmp_path / "twice")


def test_the_solution_passes_the_battery():
    with imported(SOLUTION / "src") as ann:
        assert failed_checks(ann) == set()


@pytest.mark.parametrize("name", [variant.name for variant in CORRECT])
def test_correct_variants_pass_the_battery(name, tmp_path):
    with variant_ann(name, tmp_path) as ann:
        assert failed_checks(ann) == set()


# The checks each mistake must fail (it may fail others too).
MUST_FAIL = {
    "batch_mean_twice": {"backward:cross_entropy:labels"},
    "layer_order_reversed": {"backward:cross_entropy:labels"},
    "transposed": {"backward:cross_entropy:labels"},
    "activation_applied_twice": {"forward"},
    "mse_with_ce_delta": {"backward:mse:labels"},
    "mse_grad_scale_classes": {"backward:mse:labels"},
    "mse_missing_softmax_jacobian": {"backward:mse:labels"},
    "expects_probabilities": {"backward:cross_entropy:labels", "backward:mse:labels"},
    "labels_int_only": {"backward:cross_entropy:one_hot"},
    "arguments_swapped": {"backward:cross_entropy:labels", "backward:cross_entropy:one_hot"},
    "stale_state_gradient_accumulates": {"second_backward"},
    "stale_state_first_inputs_kept": {"second_backward"},
    "float32_precision": {"forward", "backward:cross_entropy:labels"},
    "sign_flipped": {"backward:cross_entropy:labels"},
    "missing_activation_derivative": {"backward:cross_entropy:labels"},
    "nag_is_momentum": {"nag_run"},
    "nag_is_sgd": {"step:nag", "nag_run"},
    "momentum_ema": {"step:momentum"},
    "adam_step_per_layer": {"step:adam"},
    "no_bias_correction": {"step:adam"},
    "weight_decay_ignored": {"weight_decay"},
    "weight_decay_on_biases": {"weight_decay"},
}


@pytest.mark.parametrize("name", [variant.name for variant in MISTAKES])
def test_every_mistake_fails_the_checks_it_must(name, tmp_path):
    with variant_ann(name, tmp_path) as ann:
        failed = failed_checks(ann)
    assert MUST_FAIL[name] <= failed, f"{name} failed only {sorted(failed)}"
    if BY_NAME[name] in GRADIENT_MISTAKES and name != "float32_precision":  # float32 rounding shows everywhere
        assert not {c for c in failed if c.startswith("step:")}, "a gradient mistake moved an optimizer"
    if BY_NAME[name] in OPTIMIZER_MISTAKES:
        assert not {c for c in failed if "backward" in c}, "an optimizer mistake changed a gradient"


# ---------------------------------------------------------------- each gradient mistake's deviation

CASE = make_case(batch=BATCH, seed=23)


def reference(loss: str = "cross_entropy", form: str = "labels") -> list:
    Ws, bs = CASE.reference_gradients(loss, ACTIVATION, form)
    return Ws + bs


def test_batch_mean_twice_scales_every_gradient_by_one_over_B(tmp_path):
    with variant_ann("batch_mean_twice", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE)
    assert_all_close(got_Ws + got_bs, [g / BATCH for g in reference()])


def test_layer_order_reversed_returns_the_input_layer_first(tmp_path):
    with variant_ann("layer_order_reversed", tmp_path) as ann:
        net = network(ann, CASE)
        grad_Ws, grad_bs = net.backward(CASE.labels, net.forward(CASE.X))
    assert_all_close(list(grad_Ws) + list(grad_bs), reference())  # input first, as the reference lists them


def test_transposed_returns_each_weight_gradient_transposed(tmp_path):
    with variant_ann("transposed", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE)
    want = reference()
    assert_all_close([g.T for g in got_Ws] + got_bs, want)
    assert all(g.shape != W.shape for g, W in zip(got_Ws, CASE.weights))


def test_activation_applied_twice_gives_the_logits_of_act_of_act(tmp_path):
    with variant_ann("activation_applied_twice", tmp_path) as ann:
        logits = network(ann, CASE).forward(CASE.X)
    act, _ = activation_pair(ACTIVATION)
    A = CASE.X
    for l, (W, b) in enumerate(zip(CASE.weights, CASE.biases)):
        A = A @ W + b if l == len(CASE.weights) - 1 else act(act(A @ W + b))
    np.testing.assert_allclose(logits, A, rtol=1e-12)
    assert relative_error(logits, CASE.reference_logits(ACTIVATION)) > 1e-3


def test_mse_with_ce_delta_gives_the_cross_entropy_gradients_under_mse(tmp_path):
    with variant_ann("mse_with_ce_delta", tmp_path) as ann:
        mse_Ws, mse_bs = gradients(ann, CASE, loss="mse")
        ce_Ws, ce_bs = gradients(ann, CASE, loss="cross_entropy")
    assert_all_close(mse_Ws + mse_bs, reference("cross_entropy"))
    assert_all_close(ce_Ws + ce_bs, reference("cross_entropy"))


def test_mse_grad_scale_classes_is_C_times_the_mse_gradient(tmp_path):
    with variant_ann("mse_grad_scale_classes", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE, loss="mean_squared_error")
    assert_all_close(got_Ws + got_bs, [CASE.classes * g for g in reference("mean_squared_error")])


def test_mse_missing_softmax_jacobian_backpropagates_dL_dp(tmp_path):
    with variant_ann("mse_missing_softmax_jacobian", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE, loss="mse")
    logits, cache = forward(CASE.weights, CASE.biases, CASE.X, ACTIVATION)
    dL_dp = 2.0 * (softmax(logits) - one_hot(CASE.labels, CASE.classes)) / logits.size
    want_Ws, want_bs = backpropagate(CASE.weights, cache, dL_dp, ACTIVATION)
    assert_all_close(got_Ws + got_bs, want_Ws + want_bs)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_expects_probabilities_is_right_only_given_the_softmax(loss, tmp_path):
    with variant_ann("expects_probabilities", tmp_path) as ann:
        net = network(ann, CASE, loss=loss)
        logits = net.forward(CASE.X)
        on_probabilities = student_gradients(net, CASE, CASE.labels, softmax(logits))
        on_logits = student_gradients(net, CASE, CASE.labels, logits)
    assert_all_close(on_probabilities[0] + on_probabilities[1], reference(loss))
    assert max(relative_error(a, b) for a, b in zip(on_logits[0] + on_logits[1], reference(loss))) > 1e-2


def test_labels_int_only_rejects_one_hot_targets(tmp_path):
    with variant_ann("labels_int_only", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE, form="labels")
        with pytest.raises(IndexError):
            gradients(ann, CASE, form="one_hot")
    assert_all_close(got_Ws + got_bs, reference())


def test_arguments_swapped_is_right_only_when_called_swapped(tmp_path):
    with variant_ann("arguments_swapped", tmp_path) as ann:
        net = network(ann, CASE)
        logits = net.forward(CASE.X)
        swapped = student_gradients(net, CASE, logits, CASE.labels)
        with pytest.raises(Exception):  # labels (B,) where logits (B, C) belong
            net.backward(CASE.labels, logits)
        as_specified = student_gradients(net, CASE, CASE.targets("one_hot"), logits)
    assert_all_close(swapped[0] + swapped[1], reference())
    assert max(relative_error(a, b) for a, b in zip(as_specified[0] + as_specified[1], reference())) > 1e-2


def second_backward(ann, first: Case, second: Case) -> tuple[list, list]:
    """Gradients of the first batch, then of the second (the same weights, other inputs and labels)."""
    net = network(ann, first)
    one = student_gradients(net, first, first.labels, net.forward(first.X))
    two = student_gradients(net, second, second.labels, net.forward(second.X))
    return one[0] + one[1], two[0] + two[1]


def other_batch(case: Case, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    return Case(case.weights, case.biases, rng.standard_normal(case.X.shape), rng.integers(0, case.classes, len(case.X)))


def test_stale_state_gradient_accumulates_adds_the_previous_backward(tmp_path):
    second = other_batch(CASE, 24)
    with variant_ann("stale_state_gradient_accumulates", tmp_path) as ann:
        one, two = second_backward(ann, CASE, second)
    second_Ws, second_bs = second.reference_gradients("cross_entropy", ACTIVATION)
    want_two = [a + b for a, b in zip(reference(), second_Ws + second_bs)]
    assert_all_close(one, reference())
    assert_all_close(two, want_two)


def test_stale_state_first_inputs_kept_uses_the_first_forwards_inputs(tmp_path):
    second = other_batch(CASE, 25)
    with variant_ann("stale_state_first_inputs_kept", tmp_path) as ann:
        one, two = second_backward(ann, CASE, second)
    want = second.reference_gradients("cross_entropy", ACTIVATION)
    assert_all_close(one, reference())
    assert relative_error(two[0], want[0][0]) > 1e-2  # dW0 = A_0^T delta with the first batch's A_0


def test_float32_precision_is_close_but_not_float64_close(tmp_path):
    with variant_ann("float32_precision", tmp_path) as ann:
        net = network(ann, CASE)
        logits = net.forward(CASE.X)
        got_Ws, got_bs = student_gradients(net, CASE, CASE.labels, logits)
    assert logits.dtype == np.float32 and all(g.dtype == np.float32 for g in got_Ws + got_bs)
    errors = [relative_error(a, b) for a, b in zip(got_Ws + got_bs, reference())]
    assert 1e-9 < max(errors) < 1e-5  # float32's rounding, far from float64's and far from a wrong formula


def test_sign_flipped_negates_the_cross_entropy_gradients(tmp_path):
    with variant_ann("sign_flipped", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE)
    assert_all_close(got_Ws + got_bs, [-g for g in reference()])


def test_missing_activation_derivative_backpropagates_through_identity(tmp_path):
    with variant_ann("missing_activation_derivative", tmp_path) as ann:
        got_Ws, got_bs = gradients(ann, CASE)
    logits, cache = forward(CASE.weights, CASE.biases, CASE.X, ACTIVATION)
    delta = (softmax(logits) - one_hot(CASE.labels, CASE.classes)) / BATCH
    want_Ws, want_bs = [None] * 3, [None] * 3
    for l in (2, 1, 0):  # the reference's recursion with act'(Z) = 1
        want_Ws[l], want_bs[l] = cache.inputs[l].T @ delta, delta.sum(axis=0)
        delta = delta @ CASE.weights[l].T
    assert_all_close(got_Ws + got_bs, want_Ws + want_bs)
    assert_all_close(got_Ws[2:] + got_bs[2:], reference()[2:3] + reference()[5:])  # the output layer is right


# ---------------------------------------------------------------- each optimizer mistake's deviation

@pytest.mark.parametrize("name,rule", [("nag_is_momentum", "momentum"), ("nag_is_sgd", "sgd")])
def test_nag_mistakes_follow_another_optimizers_run(name, rule, tmp_path):
    case = make_case((7, 5, 3), batch=12, seed=26)
    with variant_ann(name, tmp_path) as ann:
        net = ann.NeuralNetwork(namespace((7, 5, 3), optimizer="nag", learning_rate=0.5, activation=ACTIVATION))
        to_student(net, case.weights, case.biases)
        net.train(case.X, case.labels, epochs=4, batch_size=len(case.X))
        Ws, bs = reference_weights(net, case)
    got = [p for pair in zip(Ws, bs) for p in pair]
    params = flat_parameters(case)
    assert_all_close(got, run(rule, params, case.X, case.labels, 4, "cross_entropy", ACTIVATION, 0.5))
    nag = run("nag_look_ahead", params, case.X, case.labels, 4, "cross_entropy", ACTIVATION, 0.5)
    assert max(relative_error(a, b) for a, b in zip(got, nag)) > 1e-4


def test_momentum_ema_takes_a_first_step_of_one_minus_beta(tmp_path):
    with variant_ann("momentum_ema", tmp_path) as ann:
        deltas = fixed_step_deltas(ann, CASE, "momentum")
    for delta in deltas:
        np.testing.assert_allclose(delta, ETA * (1 - BETA), rtol=1e-12)


def test_adam_step_per_layer_gives_the_second_layer_time_step_two(tmp_path):
    # First update, g = 1: layer 0 sees t = 1 (m_hat = 1, v_hat = 1, step eta); layer 1 sees t = 2:
    # m = 0.1, v = 0.001, m_hat = 0.1 / (1 - 0.81), v_hat = 0.001 / (1 - 0.998001), step eta m_hat / sqrt(v_hat).
    with variant_ann("adam_step_per_layer", tmp_path) as ann:
        deltas = fixed_step_deltas(ann, CASE, "adam")
    m_hat, v_hat = 0.1 / (1 - 0.9 ** 2), 0.001 / (1 - 0.999 ** 2)
    np.testing.assert_allclose(deltas[0], ETA, rtol=1e-6)
    np.testing.assert_allclose(deltas[1], ETA * m_hat / np.sqrt(v_hat), rtol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "nadam"])
def test_no_bias_correction_takes_a_first_step_of_sqrt_10(optimizer, tmp_path):
    # First update, g = 1: m = 0.1 and v = 0.001 uncorrected, so adam steps eta 0.1 / sqrt(0.001) = eta sqrt(10);
    # nadam steps eta (0.9 * 0.1 + 0.1 * 1 / (1 - 0.9)) / sqrt(0.001) (its g term keeps its own correction).
    with variant_ann("no_bias_correction", tmp_path) as ann:
        deltas = fixed_step_deltas(ann, CASE, optimizer)
    expected = np.sqrt(10.0) if optimizer == "adam" else (0.9 * 0.1 + 1.0) / np.sqrt(0.001)
    for delta in deltas:
        np.testing.assert_allclose(delta, ETA * expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["weight_decay_ignored", "weight_decay_on_biases"])
def test_weight_decay_mistakes(name, tmp_path):
    with variant_ann(name, tmp_path) as ann:
        net = network(ann, CASE, optimizer="sgd", learning_rate=ETA, weight_decay=0.5)
        for layer in net.layers:
            layer.grad_W, layer.grad_b = np.zeros_like(layer.W), np.zeros_like(layer.b)
        net.update_weights()
        Ws, bs = reference_weights(net, CASE)
    if name == "weight_decay_ignored":
        assert_all_close(Ws, CASE.weights, rtol=1e-15)
    else:
        assert_all_close(Ws + bs, [p * (1 - ETA * 0.5) for p in CASE.weights + CASE.biases], rtol=1e-12)


# ---------------------------------------------------------------- correct variants, written differently

@pytest.mark.parametrize("name,W_shape,b_shape", [
    ("weights_n_out_by_n_in", (5, 7), (5,)), ("bias_row_1_by_n", (7, 5), (1, 5)),
    ("column_vectors_n_by_1_bias", (5, 7), (5, 1)),
])
def test_orientation_variants_really_store_their_orientation(name, W_shape, b_shape, tmp_path):
    with variant_ann(name, tmp_path) as ann:
        net = network(ann, CASE)
        stored = net.get_weights()
        grad_Ws, grad_bs = net.backward(CASE.labels, net.forward(CASE.X))
    assert stored["W0"].shape == W_shape and stored["b0"].shape == b_shape
    assert grad_Ws[-1].shape == W_shape and grad_bs[-1].shape == b_shape  # gradients shaped like the parameters


def test_nag_bengio_form_follows_the_bengio_run_not_the_look_ahead_one(tmp_path):
    case = make_case((7, 5, 3), batch=12, seed=27)
    params = flat_parameters(case)
    with variant_ann("nag_bengio_form", tmp_path) as ann:
        net = ann.NeuralNetwork(namespace((7, 5, 3), optimizer="nag", learning_rate=0.5, activation=ACTIVATION))
        to_student(net, case.weights, case.biases)
        net.train(case.X, case.labels, epochs=4, batch_size=len(case.X))
        Ws, bs = reference_weights(net, case)
    got = [p for pair in zip(Ws, bs) for p in pair]
    assert_all_close(got, run("nag_bengio", params, case.X, case.labels, 4, "cross_entropy", ACTIVATION, 0.5))
    look_ahead = run("nag_look_ahead", params, case.X, case.labels, 4, "cross_entropy", ACTIVATION, 0.5)
    assert max(relative_error(a, b) for a, b in zip(got, look_ahead)) > 1e-4  # a grader must accept both
