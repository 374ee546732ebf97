"""Where a da6401-a1 submission keeps what is graded: the course skeleton's repository layout.

The package is `src/ann/`, beside `src/train.py`, `src/inference.py` and `src/utils/`; the
trained model and its configuration may be at the repository's root, in `src/` or in `models/`.
An older flat repository (`train.py` beside `neural_network.py`) or `ann/` without `src/` is
still graded, with a warning saying what was assumed. Every part is staged as the grader's probe
(`inside/probe.py`), which imports the student's `ann` from the staged `tree/src`.
"""
from __future__ import annotations

from pathlib import Path

from grader.submission.repository import RepositoryLayout

PARTS: tuple[str, ...] = ("a1_forward", "a1_gradients", "a1_optimizers", "a1_training", "a1_model")
PACKAGE_MODULES: tuple[str, ...] = ("activations", "neural_layer", "neural_network", "objective_functions",
                                    "optimizers")
REQUIRED: tuple[str, ...] = (*(f"src/ann/{name}.py" for name in PACKAGE_MODULES),
                             "src/train.py", "src/inference.py", "src/utils/data_loader.py")
OPTIONAL: tuple[str, ...] = ("best_model.npy", "best_config.json")
PROBE = Path(__file__).resolve().parent / "inside" / "probe.py"


def repository_layout(part_source: Path = PROBE, parts: tuple[str, ...] = PARTS) -> RepositoryLayout:
    """The course's layout; `part_source` is what each of `parts` is staged as (the probe)."""
    return RepositoryLayout(stems=parts, part_source=part_source, package="src/ann", required=REQUIRED,
                            optional=OPTIONAL, optional_places=("", "src", "models"),
                            flat_markers=("train.py", "neural_network.py"),
                            support="grader.assignments.da6401_a1.support:write_support")


LAYOUT = repository_layout()
