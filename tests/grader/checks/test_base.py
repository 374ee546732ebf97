"""The check context: seeds, and not calling a function again after it hung."""
import pytest

from grader.checks.base import CheckContext, Verdict, seed_for
from grader.errors import StudentCodeError


class HangingTransport:
    def __init__(self):
        self.sent = []

    def request(self, header, timeout):
        self.sent.append((header["name"], timeout))
        if header["name"] == "backward":
            raise StudentCodeError("timeout", "backward took longer than 1 s", event="timeout")
        return 1.0


def test_a_function_that_timed_out_is_not_called_again():
    transport = HangingTransport()
    ctx = CheckContext(exercise="ex3_mlp_backprop", transport=transport, timeout=1.0)
    with pytest.raises(StudentCodeError) as first:
        ctx.call("backward")
    assert first.value.event == "timeout"
    with pytest.raises(StudentCodeError) as second:
        ctx.call("backward")
    assert second.value.status == "timeout" and second.value.event is None  # one event, not one per call
    assert "earlier check" in second.value.message
    assert ctx.call("forward", timeout=3.0) == 1.0
    assert transport.sent == [("backward", 1.0), ("forward", 3.0)]


def test_rng_depends_on_seed_exercise_and_test_name():
    ctx = CheckContext(exercise="e", transport=HangingTransport(), seed=1, test_name="a.values")
    same = CheckContext(exercise="e", transport=HangingTransport(), seed=1, test_name="a.values")
    other = CheckContext(exercise="e", transport=HangingTransport(), seed=1, test_name="a.grad")
    assert ctx.rng.normal() == same.rng.normal() != other.rng.normal()
    assert seed_for(1, "e", "a") != seed_for(2, "e", "a")


@pytest.mark.parametrize("verdict, credit", [(Verdict(True), 1.0), (Verdict(False), 0.0),
                                             (Verdict(False, fraction=0.4), 0.4), (Verdict(True, fraction=2.0), 1.0)])
def test_verdict_credit(verdict, credit):
    assert verdict.credit == credit
