"""The `da6401-a1` solution against the reference, its optimizers by hand, its scripts; the skeleton is empty.

The solution is imported as the package `ann` with its `src/` on sys.path, as the grader
imports a student's repository; networks are built from Namespaces with all-different sizes.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.da6401_a1.reference.gradcheck import relative_error
from grader.assignments.da6401_a1.reference.losses import loss_value
from tests.assignments.da6401_a1.importing import SKELETON, SOLUTION, imported, on_path
from tests.assignments.da6401_a1.networks import (
    SIZES, make_case, namespace, reference_weights, student_gradients, to_student,
)
from tests.assignments.da6401_a1.trajectories import run

ACTIVATIONS = ["sigmoid", "tanh", "relu"]
FORMS = ["labels", "one_hot"]
COURSE_FILES = ["src/ann/activations.py", "src/ann/neural_layer.py", "src/ann/neural_network.py",
                "src/ann/objective_functions.py", "src/ann/optimizers.py", "src/train.py", "src/inference.py",
                "src/utils/data_loader.py"]


@pytest.fixture(scope="module")
def ann():
    with imported(SOLUTION / "src") as package:
        yield package


def built(ann, case, **options):
    """A solution network with the case's layer sizes and the reference's parameters."""
    sizes = (case.weights[0].shape[0], *[W.shape[1] for W in case.weights])
    net = ann.NeuralNetwork(namespace(sizes, **options))
    to_student(net, case.weights, case.biases)
    return net


# ---------------------------------------------------------------- forward and backward against the reference

@pytest.mark.parametrize("sizes", [SIZES, (6, 2, 5), (4, 6, 3, 5, 2), (5, 3)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_returns_the_reference_logits(ann, sizes, activation):
    case = make_case(sizes, batch=5, seed=len(sizes))
    net = built(ann, case, activation=activation)
    logits = net.forward(case.X)
    assert logits.shape == (5, sizes[-1]) and logits.dtype == np.float64
    np.testing.assert_allclose(logits, case.reference_logits(activation), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error", "mse"])
@pytest.mark.parametrize("sizes,batch", [(SIZES, 6), ((4, 6, 3, 5, 2), 1), ((6, 2, 5), 3)])
def test_backward_returns_the_reference_gradients_output_layer_first(ann, sizes, batch, loss, activation, form):
    case = make_case(sizes, batch=batch, seed=batch)
    net = built(ann, case, activation=activation, loss=loss)
    y = case.targets(form)
    grad_Ws, grad_bs = net.backward(y, net.forward(case.X))
    want_Ws, want_bs = case.reference_gradients(loss, activation, form)
    assert len(grad_Ws) == len(grad_bs) == len(case.weights)
    for got, want in zip(list(grad_Ws) + list(grad_bs), want_Ws[::-1] + want_bs[::-1]):
        assert got.shape == want.shape
        assert relative_error(got, want) < 1e-12
    for layer, got_W, got_b in zip(reversed(net.layers), grad_Ws, grad_bs):
        np.testing.assert_array_equal(layer.grad_W, got_W)
        np.testing.assert_array_equal(layer.grad_b, got_b)


def test_a_second_backward_is_for_the_second_forward(ann):
    first, second = make_case(seed=1), make_case(seed=2)
    net = built(ann, first)
    net.backward(first.labels, net.forward(first.X))
    to_student(net, second.weights, second.biases)
    got = student_gradients(net, second, second.labels, net.forward(second.X))
    want = second.reference_gradients("cross_entropy", "tanh")
    for a, b in zip(got[0] + got[1], want[0] + want[1]):
        assert relative_error(a, b) < 1e-12


def test_hidden_size_as_one_int_means_every_hidden_layer(ann):
    for hidden in (4, [4]):
        net = ann.NeuralNetwork(namespace((7, 4, 4, 4, 3), num_layers=3, hidden_size=hidden))
        assert [net.get_weights()[f"W{l}"].shape for l in range(4)] == [(7, 4), (4, 4), (4, 4), (4, 3)]


def test_defaults_are_mnist_sized(ann):
    args = namespace(num_layers=1, hidden_size=[8])
    del args.input_size, args.output_size
    weights = ann.NeuralNetwork(args).get_weights()
    assert sorted(weights) == ["W0", "W1", "b0", "b1"]
    assert weights["W0"].shape == (784, 8) and weights["W1"].shape == (8, 10) and weights["b1"].shape == (10,)


@pytest.mark.parametrize("weight_init", ["random", "xavier"])
def test_weight_init_schemes(ann, weight_init):
    W = ann.NeuralNetwork(namespace((300, 200, 3), num_layers=1, hidden_size=[200],
                                    weight_init=weight_init)).get_weights()["W0"]
    expected_std = 0.01 if weight_init == "random" else np.sqrt(2.0 / 500)  # Glorot: Var = 2 / (n_in + n_out)
    assert W.std() == pytest.approx(expected_std, rel=0.05)


def test_weights_survive_np_save_and_load(ann, tmp_path):
    case = make_case()
    net = built(ann, case)
    np.save(tmp_path / "best_model.npy", net.get_weights())
    other = ann.NeuralNetwork(namespace())
    other.set_weights(np.load(tmp_path / "best_model.npy", allow_pickle=True))
    np.testing.assert_array_equal(other.forward(case.X), net.forward(case.X))
    with pytest.raises(ValueError, match="W0"):
        other.set_weights({**net.get_weights(), "W0": case.weights[0].T})


# ---------------------------------------------------------------- optimizers: three steps on a fixed gradient

# With a gradient g that never changes, learning rate eta, beta = beta1 = 0.9, beta2 = 0.999, eps:
#   sgd       W_k = W_{k-1} - eta g
#   momentum  v_k = beta v_{k-1} + eta g = eta g (1 + beta + ... + beta^{k-1});  W_k = W_{k-1} - v_k
#   nag       the same as momentum: g is the same at the look-ahead point as anywhere else
#   rmsprop   s_k = beta s_{k-1} + (1 - beta) g^2 = (1 - beta^k) g^2;  W_k = W_{k-1} - eta g / (sqrt(s_k) + eps)
#   adam      m_k = (1 - beta1^k) g and v_k = (1 - beta2^k) g^2, so m_hat = g and v_hat = g^2:
#             W_k = W_{k-1} - eta g / (|g| + eps), the same step every time
#   nadam     W_k = W_{k-1} - eta (beta1 g + (1 - beta1) g / (1 - beta1^k)) / (|g| + eps)
ETA, BETA, EPS = 0.1, 0.9, 1e-8


def hand_step(optimizer: str, k: int, g: np.ndarray) -> np.ndarray:
    """W_{k-1} - W_k, the k-th step (k = 1, 2, 3) under the constant gradient g."""
    if optimizer == "sgd":
        return ETA * g
    if optimizer in ("momentum", "nag"):
        return ETA * g * sum(BETA ** j for j in range(k))
    if optimizer == "rmsprop":
        return ETA * g / (np.sqrt(1 - BETA ** k) * np.abs(g) + EPS)
    if optimizer == "adam":
        return ETA * g / (np.abs(g) + EPS)
    return ETA * (BETA * g + (1 - BETA) * g / (1 - BETA ** k)) / (np.abs(g) + EPS)


def fixed_gradients(net, rng):
    """Set a gradient on every layer by hand, and return them input layer first."""
    gradients = []
    for layer in net.layers:
        layer.grad_W, layer.grad_b = rng.standard_normal(layer.W.shape), rng.standard_normal(layer.b.shape)
        gradients.append((layer.grad_W.copy(), layer.grad_b.copy()))
    return gradients


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nag", "rmsprop", "adam", "nadam"])
def test_three_steps_on_a_fixed_gradient_match_the_hand_derivation(ann, optimizer):
    rng = np.random.default_rng(12)
    case = make_case()
    net = built(ann, case, optimizer=optimizer, learning_rate=ETA)
    expected = [(W.copy(), b.copy()) for W, b in zip(case.weights, case.biases)]
    gradients = fixed_gradients(net, rng)
    for k in (1, 2, 3):
        net.optimizer.look_ahead(net.layers)  # as train does; only NAG moves
        for layer, (g_W, g_b) in zip(net.layers, gradients):
            layer.grad_W, layer.grad_b = g_W, g_b
        net.update_weights()
        expected = [(W - hand_step(optimizer, k, g_W), b - hand_step(optimizer, k, g_b))
                    for (W, b), (g_W, g_b) in zip(expected, gradients)]
        got_Ws, got_bs = reference_weights(net, case)
        for l, (W, b) in enumerate(expected):
            np.testing.assert_allclose(got_Ws[l], W, rtol=1e-12, atol=1e-12, err_msg=f"step {k}, W{l}")
            np.testing.assert_allclose(got_bs[l], b, rtol=1e-12, atol=1e-12, err_msg=f"step {k}, b{l}")


def test_hyperparameters_are_read_from_the_namespace(ann):
    net = ann.NeuralNetwork(namespace(optimizer="adam", beta1=0.5, beta2=0.75, epsilon=1e-3))
    assert (net.optimizer.beta1, net.optimizer.beta2, net.optimizer.epsilon) == (0.5, 0.75, 1e-3)
    assert ann.NeuralNetwork(namespace(optimizer="nag", momentum=0.5)).optimizer.momentum == 0.5
    assert ann.NeuralNetwork(namespace(optimizer="rmsprop", beta=0.8)).optimizer.beta == 0.8
    assert ann.NeuralNetwork(namespace(optimizer="momentum")).optimizer.momentum == 0.9


def test_weight_decay_is_l2_on_weights_only(ann):
    # One sgd step with a zero loss gradient: W_1 = W_0 - eta * wd * W_0, b_1 = b_0.
    case = make_case()
    net = built(ann, case, optimizer="sgd", learning_rate=ETA, weight_decay=0.5)
    for layer in net.layers:
        layer.grad_W, layer.grad_b = np.zeros_like(layer.W), np.zeros_like(layer.b)
    net.update_weights()
    got_Ws, got_bs = reference_weights(net, case)
    for W0, b0, W1, b1 in zip(case.weights, case.biases, got_Ws, got_bs):
        np.testing.assert_allclose(W1, W0 * (1 - ETA * 0.5), rtol=1e-14)
        np.testing.assert_array_equal(b1, b0)


@pytest.mark.parametrize("optimizer,rule", [("sgd", "sgd"), ("momentum", "momentum"), ("nag", "nag_look_ahead")])
def test_full_batch_training_follows_the_hand_written_run(ann, optimizer, rule):
    case = make_case((7, 5, 3), batch=12, seed=13)
    net = built(ann, case, optimizer=optimizer, learning_rate=0.5, activation="sigmoid")
    net.train(case.X, case.labels, epochs=4, batch_size=len(case.X))
    params = [p for pair in zip(case.weights, case.biases) for p in pair]
    want = run(rule, params, case.X, case.labels, 4, "cross_entropy", "sigmoid", 0.5)
    got_Ws, got_bs = reference_weights(net, case)
    for got, expected in zip([p for pair in zip(got_Ws, got_bs) for p in pair], want):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    if rule == "nag_look_ahead":  # the comparison can tell NAG from momentum
        momentum = run("momentum", params, case.X, case.labels, 4, "cross_entropy", "sigmoid", 0.5)
        assert max(relative_error(a, b) for a, b in zip(want, momentum)) > 1e-4


# ---------------------------------------------------------------- training learns

def separable_data(n_per_class=20, seed=14):
    """Three Gaussian clusters in 7 dimensions, far apart: (X (60, 7), labels (60,))."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * np.eye(3, 7)
    X = np.concatenate([centre + 0.5 * rng.standard_normal((n_per_class, 7)) for centre in centres])
    return X, np.repeat(np.arange(3), n_per_class)


@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error"])
@pytest.mark.parametrize("optimizer,learning_rate", [("sgd", 0.5), ("momentum", 0.1), ("nag", 0.1),
                                                     ("rmsprop", 0.01), ("adam", 0.01), ("nadam", 0.01)])
def test_training_lowers_the_loss_on_separable_data(ann, optimizer, learning_rate, loss):
    X, labels = separable_data()
    net = ann.NeuralNetwork(namespace(optimizer=optimizer, learning_rate=learning_rate, loss=loss))
    before = net.evaluate(X, labels)
    history = net.train(X, labels, epochs=15, batch_size=8)
    after = net.evaluate(X, labels)
    assert len(history) == 15
    assert after["loss"] < 0.7 * before["loss"]
    assert after["accuracy"] > 0.9
    assert set(after) == {"loss", "accuracy", "precision", "recall", "f1"}


def test_evaluate_reports_the_loss_on_softmax_and_macro_metrics(ann):
    case = make_case(batch=9, seed=15)
    net = built(ann, case, loss="mse")
    metrics = net.evaluate(case.X, np.eye(3)[case.labels])
    assert metrics["loss"] == pytest.approx(loss_value("mse", case.reference_logits("tanh"), case.labels), rel=1e-12)
    predicted = case.reference_logits("tanh").argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == case.labels))
    assert 0.0 <= metrics["f1"] <= 1.0


# ---------------------------------------------------------------- the scripts, with a stand-in keras

def fake_keras_source(n_train=80, n_test=20):
    """A keras package whose datasets return small random images in keras's shapes and dtypes."""
    dataset = f'''
import numpy as np

def load_data():
    rng = np.random.default_rng(0)
    def part(n):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = rng.integers(0, 50, size=(n, 28, 28)).astype(np.uint8)
        images[np.arange(n), labels, :] = 255  # a bright row says the class
        return images, labels
    return part({n_train}), part({n_test})
'''
    return {"keras/__init__.py": "", "keras/datasets/__init__.py": "", "keras/datasets/mnist.py": dataset,
            "keras/datasets/fashion_mnist.py": dataset}


@pytest.fixture
def fake_keras(tmp_path, monkeypatch):
    root = tmp_path / "site"
    for name, text in fake_keras_source().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "keras" or m.startswith("keras.")]:
        monkeypatch.delitem(sys.modules, name)
    yield root
    for name in [m for m in sys.modules if m == "keras" or m.startswith("keras.")]:
        del sys.modules[name]


TRAIN_ARGS = ["-d", "mnist", "-e", "3", "-b", "16", "-l", "cross_entropy", "-o", "adam", "-lr", "0.01",
              "-nhl", "2", "-sz", "16", "8", "-a", "relu", "-w_i", "xavier"]


def test_train_and_inference_scripts_save_and_reload_the_best_model(ann, fake_keras, tmp_path):
    train, inference = importlib.import_module("train"), importlib.import_module("inference")
    config = train.main(TRAIN_ARGS + ["--save_dir", str(tmp_path)])
    saved = json.loads((tmp_path / "best_config.json").read_text())
    assert saved["hidden_size"] == [16, 8] and saved["optimizer"] == "adam" and saved["best_epoch"] == config["best_epoch"]
    weights = np.load(tmp_path / "best_model.npy", allow_pickle=True).item()
    assert {name: weights[name].shape for name in ("W0", "W1", "W2")} == {"W0": (784, 16), "W1": (16, 8), "W2": (8, 10)}
    report = inference.main(["--model_path", str(tmp_path / "best_model.npy"),
                             "--config_path", str(tmp_path / "best_config.json")])
    assert report["logits"].shape == (20, 10)
    assert report["accuracy"] == pytest.approx(config["test"]["accuracy"])
    assert {"loss", "accuracy", "f1", "precision", "recall"} <= set(report)


def test_train_script_runs_from_the_repository_root(fake_keras, tmp_path):
    result = subprocess.run([sys.executable, "src/train.py", *TRAIN_ARGS, "-e", "1", "--save_dir", str(tmp_path)],
                            cwd=SOLUTION, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(fake_keras), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "best_model.npy").is_file() and (tmp_path / "best_config.json").is_file()


def test_the_package_imports_nothing_beyond_numpy_and_the_standard_library():
    # keras may be imported inside the data loader's functions and wandb inside train's; nowhere at top level.
    allowed = {"numpy", "argparse", "json", "os", "sys", "ann", "utils"}
    for path in (SOLUTION / "src").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name} at top level"
    result = subprocess.run([sys.executable, "-c", "import ann, sys; print(sorted(m for m in sys.modules "
                             "if m.split('.')[0] in ('keras', 'tensorflow', 'wandb', 'torch', 'sklearn')))"],
                            cwd=SOLUTION / "src", capture_output=True, text=True, timeout=60,
                            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- the skeleton holds no solution

def skeleton_network_module():
    spec = importlib.util.spec_from_file_location("da6401_skeleton_network", SKELETON / "src/ann/neural_network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_skeleton_has_the_course_files_and_the_solution_has_them_too():
    for name in COURSE_FILES + ["src/ann/__init__.py", "src/utils/__init__.py", "README.md"]:
        assert (SKELETON / name).is_file(), name
        assert (SOLUTION / name).is_file(), name


def test_skeleton_network_raises_not_implemented_everywhere():
    NeuralNetwork = skeleton_network_module().NeuralNetwork
    with pytest.raises(NotImplementedError):
        NeuralNetwork(namespace())
    net = object.__new__(NeuralNetwork)
    calls = {"forward": (np.zeros((1, 7)),), "backward": (np.zeros(1), np.zeros((1, 3))), "update_weights": (),
             "train": (np.zeros((1, 7)), np.zeros(1), 1, 1), "evaluate": (np.zeros((1, 7)), np.zeros(1)),
             "get_weights": (), "set_weights": ({},)}
    for name, args in calls.items():
        with pytest.raises(NotImplementedError):
            getattr(net, name)(*args)


def test_skeleton_network_source_holds_signatures_and_docstrings_only():
    source = (SKELETON / "src/ann/neural_network.py").read_text()
    assert "np.exp" not in source and "@" not in source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            docstring, *rest = node.body
            assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant), node.name
            assert len(rest) == 1 and isinstance(rest[0], ast.Raise), node.name
            assert ast.unparse(rest[0].exc) == "NotImplementedError", node.name


@pytest.mark.parametrize("name", [name for name in COURSE_FILES if name != "src/ann/neural_network.py"]
                         + ["src/ann/__init__.py", "src/utils/__init__.py"])
def test_other_skeleton_files_are_a_docstring_saying_what_goes_there(name):
    tree = ast.parse((SKELETON / name).read_text())
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
    assert len(ast.get_docstring(tree)) > 40


def test_skeleton_imports_as_a_package():
    with on_path(SKELETON / "src"):  # forgets any other ann first
        module = importlib.import_module("ann.neural_network")
        assert Path(module.__file__).is_relative_to(SKELETON)
        assert isinstance(module, types.ModuleType)
