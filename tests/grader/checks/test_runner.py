"""The runner turns verdicts and failures into statuses and points."""
import pytest

from grader.checks.base import Check, Verdict
from grader.checks.runner import run_exercise
from grader.errors import StudentCodeError
from grader.rubric import parse_rubric

RUBRIC = parse_rubric("""
exercise = "exdemo"
[tests]
"f.passes" = { points = 2 }
"f.partial" = { points = 4, visibility = "hidden" }
"f.raises" = { points = 1 }
"f.hangs" = { points = 1 }
"f.buggy" = { points = 1 }
"g.missing" = { points = 3 }
""", source="test")


class FakeTransport:
    def __init__(self, defined=("f",), load_error=None):
        self.defined, self.load_error, self.requests = list(defined), load_error, []

    def request(self, header, timeout):
        self.requests.append(header)
        if header["op"] == "load":
            if self.load_error:
                raise self.load_error
            return {"defined": self.defined, "cell_errors": [{"cell": 3, "message": "NameError"}]}
        raise AssertionError("checks in this test do not call the worker")


def raise_(exc):
    raise exc


CHECKS = [
    Check("exdemo", "f.passes", lambda ctx: Verdict(True), ("f",)),
    Check("exdemo", "f.partial", lambda ctx: Verdict(False, "half right", "sign_flipped", 0.5), ("f",), hint="look at the sign"),
    Check("exdemo", "f.raises", lambda ctx: raise_(StudentCodeError("error", "ValueError: bad")), ("f",)),
    Check("exdemo", "f.hangs", lambda ctx: raise_(StudentCodeError("timeout", "took > 1 s", event="timeout")), ("f",)),
    Check("exdemo", "f.buggy", lambda ctx: 1 / 0, ("f",)),
    Check("exdemo", "g.missing", lambda ctx: Verdict(True), ("g",)),
]


def by_name(result):
    return {t.name: t for t in result.tests}


def test_statuses_points_and_events():
    run = run_exercise("exdemo", FakeTransport(), rubric=RUBRIC, checks=CHECKS, source="exdemo.py")
    result, errors = run.result, run.events
    t = by_name(result)
    assert (t["f.passes"].status, t["f.passes"].score) == ("passed", 2.0)
    assert (t["f.partial"].status, t["f.partial"].score, t["f.partial"].diagnosis) == ("failed", 2.0, "sign_flipped")
    assert t["f.partial"].visibility == "hidden" and t["f.partial"].hint == "look at the sign"
    assert (t["f.raises"].status, t["f.raises"].feedback) == ("error", "ValueError: bad")
    assert t["f.hangs"].status == "timeout"
    assert t["f.buggy"].status == "error" and "its own fault" in t["f.buggy"].feedback
    assert t["g.missing"].status == "missing" and "g is not defined" in t["g.missing"].feedback
    assert result.score == 4.0 and result.max_score == 12.0
    assert [e.kind for e in errors] == ["timeout", "crash"]
    assert "ZeroDivisionError" in errors[1].message
    assert result.cell_errors == [{"cell": 3, "message": "NameError"}]


def test_absent_exercise_scores_zero_with_every_test_listed():
    transport = FakeTransport()
    result = run_exercise("exdemo", transport, rubric=RUBRIC, checks=CHECKS, source=None).result
    assert [t.status for t in result.tests] == ["missing"] * len(CHECKS)
    assert result.max_score == RUBRIC.max_score and result.score == 0
    assert transport.requests == []  # nothing is sent for a file that is not there


def test_a_module_that_cannot_load_fails_every_test_with_the_reason():
    transport = FakeTransport(load_error=StudentCodeError("error", "SyntaxError: line 3", event="syntax"))
    run = run_exercise("exdemo", transport, rubric=RUBRIC, checks=CHECKS, source="exdemo.py")
    result, errors = run.result, run.events
    assert {t.status for t in result.tests} == {"error"}
    assert all("SyntaxError: line 3" in t.feedback for t in result.tests)
    assert [e.kind for e in errors] == ["syntax"]


def test_budget_exhausted_marks_the_rest_as_timeout():
    result = run_exercise("exdemo", FakeTransport(), rubric=RUBRIC, checks=CHECKS, source="exdemo.py", budget=-1).result
    assert {t.status for t in result.tests} == {"timeout"}


@pytest.mark.parametrize("fraction, expected", [(None, 0.0), (0.25, 1.0), (1.7, 4.0), (-1.0, 0.0)])
def test_partial_credit_is_clamped(fraction, expected):
    checks = [Check("exdemo", "f.partial", lambda ctx: Verdict(False, "x", None, fraction), ("f",))]
    result = run_exercise("exdemo", FakeTransport(), rubric=RUBRIC, checks=checks, source="exdemo.py").result
    assert result.tests[0].score == expected


def test_blocked_and_syntax_cells_become_report_events():
    class CellTransport(FakeTransport):
        def request(self, header, timeout):
            return {"defined": ["f"], "cell_errors": [
                {"index": 2, "kind": "blocked", "type": "BlockedImportError", "message": "import of torch is not allowed"},
                {"index": 5, "kind": "error", "type": "SyntaxError", "message": "SyntaxError: invalid syntax"},
                {"line": 9, "kind": "error", "type": "NameError", "message": "line 9: NameError: x"}]}

    errors = run_exercise("exdemo", CellTransport(), rubric=RUBRIC, checks=CHECKS[:1], source="exdemo.ipynb").events
    assert [(e.kind, e.exercise) for e in errors] == [("blocked", "exdemo"), ("syntax", "exdemo")]
    assert "exdemo.ipynb, cell 2" in errors[0].message and "cell 5" in errors[1].message


def test_an_event_a_check_swallowed_is_still_reported():
    from grader.results import GradingError

    class EventfulTransport(FakeTransport):
        events = []

        def request(self, header, timeout):
            if header["op"] == "call":
                self.events.append(GradingError("crash", "the worker died (segfault)", "exdemo"))
                raise StudentCodeError("error", "worker died", event="crash")
            return super().request(header, timeout)

    def swallowing(ctx):
        try:
            ctx.call("f")
        except StudentCodeError:
            return Verdict(True)  # e.g. a check that expects an exception

    run = run_exercise("exdemo", EventfulTransport(), rubric=RUBRIC,
                       checks=[Check("exdemo", "f.passes", swallowing, ("f",))], source="exdemo.py")
    result, errors = run.result, run.events
    assert result.tests[0].status == "passed"
    assert [(e.kind, e.message) for e in errors] == [("crash", "f.passes: the worker died (segfault)")]


def test_a_check_that_changes_its_settings_changes_them_for_nobody_else():
    rubric = parse_rubric('exercise = "exdemo"\n[settings]\nsizes = [3, 4]\n[tests]\n"f.passes" = { points = 1 }\n',
                          source="test")
    seen = []

    def greedy(ctx):
        seen.append(list(ctx.settings["sizes"]))
        ctx.settings["sizes"].append(5)  # a careless check; the rubric is shared across a batch
        return Verdict(True)

    check = Check("exdemo", "f.passes", greedy, ("f",))
    for _ in range(2):
        run_exercise("exdemo", FakeTransport(), rubric=rubric, checks=[check], source="exdemo.py")
    assert seen == [[3, 4], [3, 4]] and rubric.settings["sizes"] == [3, 4]


def test_a_checks_own_timeout_bounds_its_calls_and_only_its_own(monkeypatch):
    from grader.checks.base import REGISTRY, check

    class TimedTransport(FakeTransport):
        def request(self, header, timeout):
            if header["op"] == "call":
                self.requests.append((header["name"], timeout))
                return 1.0
            return super().request(header, timeout)

    monkeypatch.setitem(REGISTRY, "exdemo", {})

    @check("exdemo", "f.passes", needs=("f",), timeout=3)
    def slow_check(ctx):
        ctx.call("f")
        return Verdict(True)

    @check("exdemo", "f.partial", needs=("f",))
    def plain_check(ctx):
        ctx.call("f")
        return Verdict(True)

    transport = TimedTransport()
    checks = [REGISTRY["exdemo"]["f.passes"], REGISTRY["exdemo"]["f.partial"], REGISTRY["exdemo"]["f.passes"]]
    result = run_exercise("exdemo", transport, rubric=RUBRIC, checks=checks, source="exdemo.py", timeout=1.5).result
    assert [t.status for t in result.tests] == ["passed"] * 3
    assert [r for r in transport.requests if isinstance(r, tuple)] == [("f", 3), ("f", 1.5), ("f", 3)]
