"""Hidden checks of exercise 4 against right and deliberately wrong engines (see make_engine)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import grader.checks.hidden.ex4_autograd_scalar as hidden
from grader.diagnosis.engine_probes import consumer_edges
from tests.grader.checks.test_ex4_autograd_scalar import CORRECT, HIDDEN, STEM, make_engine


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("student", sorted(CORRECT))
def test_correct_engines_pass_every_hidden_check(run_check, student, seed):
    namespace = CORRECT[student]()
    for name in HIDDEN:
        outcome = run_check(STEM, name, namespace, seed=seed)
        assert outcome.status == "passed", (name, outcome.feedback)
        assert outcome.diagnosis is None


# mistake -> {hidden check: (status, diagnosis)}
BROKEN = {
    "overwrite": {"Value.random_graphs": ("failed", "gradient_overwritten")},
    "preorder": {"Value.random_graphs": ("failed", "wrong_topological_order")},
    "recursive": {"Value.deep_random_chain": ("failed", "recursion_limit")},
    "no_rsub": {"Value.random_operators": ("error", None)},
    "pow_missing_minus_one": {"Value.random_operators": ("failed", None)},
    "tanh_of_input": {"Value.random_operators": ("failed", "derivative_of_wrong_input")},
    "trace_hardcoded": {"sigmoid_trace.reference": ("failed", "hardcoded_answer")},
    "trace_sign": {"sigmoid_trace.reference": ("failed", "sign_flipped")},
    "trace_forgets_x": {"sigmoid_trace.reference": ("failed", None)},
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_each_mistake_fails_its_hidden_checks_with_its_diagnosis(run_check, mistake):
    namespace = make_engine(mistake)
    for name, (status, diagnosis) in BROKEN[mistake].items():
        outcome = run_check(STEM, name, namespace)
        assert (outcome.status, outcome.diagnosis) == (status, diagnosis), (name, outcome.feedback)


@pytest.mark.parametrize("mistake", ["overwrite", "preorder", "pow_missing_minus_one", "trace_forgets_x"])
def test_hidden_feedback_shows_no_values(run_check, mistake):
    namespace = make_engine(mistake)
    failed = [run_check(STEM, name, namespace) for name in HIDDEN]
    failed = [o for o in failed if o.status == "failed"]
    assert failed
    for outcome in failed:
        assert not re.search(r"\d\.\d", outcome.feedback), outcome.feedback


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_graphs_stay_in_their_domains(seed):
    case, result = hidden.random_case(np.random.default_rng(seed))
    assert hidden.well_conditioned(case.spec, result)
    assert result["grad"][-1] == 1.0 and len(case.names) == len(case.spec["nodes"])


def test_random_graphs_share_nodes():
    rng = np.random.default_rng(1)
    shared = 0
    for _ in range(10):
        case, _ = hidden.random_case(rng)
        shared += any(len(uses) > 1 for uses in consumer_edges(case.spec).values())
    assert shared >= 8


def test_random_chain_has_unit_slopes():
    spec = hidden.random_chain_spec(np.random.default_rng(2), 300)
    assert abs(hidden.run_reference(spec)["grad"][0]) == 1.0
