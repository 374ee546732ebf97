"""`da6401-a1`: the course's Assignment 1, a NeuralNetwork repository built from its skeleton.

A submission is a student's repository (`src/ann/`, `src/train.py`, ...; see `layout.py`). Each
graded part is staged as the grader's probe (`inside/probe.py`), which imports the student's
`ann` inside the sandbox; the checks (`checks/`, hidden ones in `checks/hidden/`) compare what
comes back with the answer key in `reference/` and name the mistake (`optimizer_diagnosis.py`
for the optimizers). Two parts run the repository's files instead of its API: `a1_training`
runs `src/train.py` with the rubric's options and scores the model it saves on a private split
of generated data; `a1_model` scores the handed-in `best_model.npy` on real test data
(`data/private.py`), or says it cannot be scored on this machine. The rubric (`rubric/`) states the course's conventions where the spec
leaves them open. `solution/` scores full marks; `skeleton/` is what students start from.
"""
from __future__ import annotations

from pathlib import Path

from grader.assignments.da6401_a1.layout import repository_layout
from grader.assignments.spec import Assignment, Exercise

FOLDER = Path(__file__).resolve().parent

ALL_EXERCISES = (
    Exercise("a1_forward", "forward: logits on fixed weights, for each activation", ("NeuralNetwork", "forward")),
    Exercise("a1_gradients", "backward: gradients against the reference and central differences",
             ("NeuralNetwork", "backward")),
    Exercise("a1_optimizers", "update_weights: sgd, momentum, nag, rmsprop, adam, nadam, weight decay",
             ("NeuralNetwork", "update_weights")),
    Exercise("a1_training", "src/train.py: runs with the spec's options, saves the architecture asked for, learns",
             ("NeuralNetwork",)),
    Exercise("a1_model", "best_model.npy: the handed-in model on the private test split"),
)


def withheld_parts(folder: Path = FOLDER) -> tuple[str, ...]:
    """The parts a student release cannot check (`release.py` writes the list): () in the instructor's tree."""
    listed = folder / "withheld_parts.txt"
    return tuple(line.strip() for line in listed.read_text(encoding="utf-8").splitlines()
                 if line.strip()) if listed.is_file() else ()


# Every part here; in a student release, those it ships checks for.
EXERCISES = tuple(exercise for exercise in ALL_EXERCISES if exercise.stem not in withheld_parts())

# The student writes the gradients: frameworks that would compute them are blocked. tensorflow is
# not: `from tensorflow.keras.datasets import mnist` finds the grader's stand-in first.
FORBIDDEN_MODULES = ("torch", "jax", "jaxlib", "autograd", "tinygrad", "micrograd", "mxnet")

ASSIGNMENT = Assignment(
    name="da6401-a1",
    title="DA6401 Assignment 1: a NeuralNetwork repository (src/ann)",
    exercises=EXERCISES,
    checks_package="grader.assignments.da6401_a1.checks",
    rubric_dir=FOLDER / "rubric",
    layout=repository_layout(parts=tuple(e.stem for e in EXERCISES)),
    forbidden_modules=FORBIDDEN_MODULES,
    timeout=20.0,
    memory_mb=3072,
    exercise_budget=300.0,  # a1_training: its runs' timeouts (60 s each, 2 visible + 1 hidden) fit within it
    load_timeout=60.0,
    gradebook_name="da6401_a1",
    release="grader.assignments.da6401_a1.release:build_release",
    withheld=withheld_parts(),
)
