"""One forward case from start to verdict: build, load the weights, forward, compare, explain.

The logits must be within `rtol` (norm-relative, 1e-6) of the reference's on the same weights
and batch; a failure is explained by `forward_evidence` (a known slip's logits, or the weights
read another way by set_weights).
"""
from __future__ import annotations

from grader.assignments.da6401_a1.checks.lib.calls import build, forward, load
from grader.assignments.da6401_a1.checks.lib.cases import Case
from grader.assignments.da6401_a1.checks.lib.forward_evidence import forward_slip, loading_slip
from grader.assignments.da6401_a1.checks.lib.verdicts import mistaken
from grader.checks.base import CheckContext, Verdict, ok
from grader.checks.compare import relative_error
from grader.errors import StudentCodeError


def forward_verdict(ctx: CheckContext, case: Case, stem: str, settings: dict) -> Verdict:
    """forward(X) of a network loaded with the case's weights, against the reference's logits."""
    rtol, tol = float(settings.get("rtol", 1e-6)), float(settings.get("diagnosis_rtol", 1e-4))
    net = build(ctx, case.options(), stem)
    what = f"forward(X) on {case.label(loss=False)}"
    try:
        load(ctx, net, case.params)
        logits = forward(ctx, net, case.X)
    except StudentCodeError as exc:
        if exc.status != "error":
            raise
        slip = loading_slip(ctx, net, case, tol)
        if slip is None:
            raise
        return mistaken(f"{what}: set_weights with the weights as get_weights stores them, then forward, raised "
                        f"{exc.message}; {slip[1]}.", slip[0], stem)
    error = relative_error(logits.values, case.reference_logits())
    if error <= rtol:
        return ok()
    feedback = f"{what}: the logits have norm-relative error {error:.2e} against the reference's (tolerance {rtol:g})"
    slip = forward_slip(logits.values, case, tol) or loading_slip(ctx, net, case, tol)
    if slip is None:
        return mistaken(f"{feedback}.", None, stem)
    return mistaken(f"{feedback}." if slip[0] else f"{feedback}: {slip[1]}.", slip[0], stem)
