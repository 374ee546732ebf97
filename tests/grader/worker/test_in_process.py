"""InProcessTransport: the self-check transport sees what the sandboxed grader sees."""
from __future__ import annotations

import time

import numpy as np
import pytest

from grader.checks.base import CheckContext
from grader.errors import StudentCodeError
from grader.worker.in_process import InProcessTransport


def student() -> dict:
    state = {"weights": np.ones(3)}

    def scale(x, factor=2.0):
        x *= factor  # changes its argument, which the grader must be able to see
        return x

    def weights():
        return state["weights"]

    def slow():
        time.sleep(0.05)
        return "done"

    return {"scale": scale, "weights": weights, "slow": slow, "state": state}


@pytest.fixture
def namespace():
    return student()


@pytest.fixture
def transport(namespace):
    return InProcessTransport({"ex": namespace})


def test_arguments_and_results_are_copies_as_over_the_wire(transport, namespace):
    x = np.arange(3.0)
    value = transport.request({"op": "call", "module": "ex", "name": "scale", "args": [x]}, 1.0)
    np.testing.assert_array_equal(value, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])  # the caller's array is not the student's
    got = transport.request({"op": "call", "module": "ex", "name": "weights"}, 1.0)
    got[:] = 0.0
    np.testing.assert_array_equal(namespace["state"]["weights"], np.ones(3))


def test_integer_arrays_keep_their_dtype(transport):
    value = transport.request({"op": "call", "module": "ex", "name": "scale",
                               "args": [np.arange(3)], "kwargs": {"factor": 3}}, 1.0)
    assert value.dtype == np.int64 and value.tolist() == [0, 3, 6]


def test_a_check_context_works_on_it(transport):
    ctx = CheckContext(exercise="ex", transport=transport)
    value, args_after = ctx.call_with_args("scale", np.ones(2), factor=5.0)
    np.testing.assert_array_equal(value, [5.0, 5.0])
    np.testing.assert_array_equal(args_after[0], [5.0, 5.0])
    with pytest.raises(StudentCodeError) as caught:
        ctx.call("absent")
    assert caught.value.status == "missing"


def test_timeout_is_accepted_and_not_enforced(transport):
    assert transport.request({"op": "call", "module": "ex", "name": "slow"}, 0.001) == "done"
