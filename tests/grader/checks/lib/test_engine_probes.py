"""The engine probes' procedure, on answers given directly: which graph mistake they confirm."""
from __future__ import annotations

from typing import Any

from grader.checks.base import Outcome
from grader.checks.lib.engine_probes import probe_engine
from grader.checks.lib.graph_cases import GraphCase
from grader.errors import StudentCodeError

OVERWRITE = GraphCase("x * x", {"nodes": [["leaf", 3.0], ["op", "mul", 0, 0]], "backward": [1]}, ("x", "x * x"))
ORDER = GraphCase("diamond", {"nodes": [["leaf", 1.0]], "backward": [0]}, ("x",))
# x * x at x = 3: the right grad is 6, each use contributes 3
PROBES = {"x * x": {"grad": [6.0, 1.0], "edges": {"0": [3.0, 3.0]}}}


class Answers:
    """A context whose graph program gives `runs` in order and whose "probes" fixture is PROBES."""

    def __init__(self, *runs: Any):
        self.runs = runs
        self.asked: list[str] = []

    def program_all(self, kind: str, specs: list) -> list[Outcome]:
        self.asked.append(kind)
        return [run if isinstance(run, Outcome) else Outcome(value=run) for run in self.runs]

    def fixture(self, name: str) -> dict:
        assert name == "probes"
        return PROBES


def probe(ctx: Answers, order_failed: bool = False) -> Any:
    return probe_engine(ctx, "value_graph", [OVERWRITE], [ORDER], readable=lambda run, spec: isinstance(run, dict),
                        order_failed=lambda case, run: order_failed, same=lambda a, b: abs(a - b) < 1e-9)


def test_one_use_kept_is_gradient_overwritten():
    ctx = Answers({"grad": [3.0, 1.0]}, {"grad": [1.0]})
    assert probe(ctx) == "gradient_overwritten" and ctx.asked == ["value_graph"]


def test_an_order_probe_failing_alone_is_wrong_topological_order():
    assert probe(Answers({"grad": [6.0, 1.0]}, {"grad": [1.0]}), order_failed=True) == "wrong_topological_order"


def test_right_probes_confirm_nothing():
    assert probe(Answers({"grad": [6.0, 1.0]}, {"grad": [1.0]})) is None


def test_a_probe_that_raised_or_cannot_be_read_gives_no_evidence():
    raised = Outcome(error=StudentCodeError("error", "boom"))
    assert probe(Answers({"grad": [3.0, 1.0]}, raised), order_failed=True) is None
    assert probe(Answers({"grad": [3.0, 1.0]}, "not a result"), order_failed=True) is None
