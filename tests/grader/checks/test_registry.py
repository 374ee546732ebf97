"""Which checks run: the rubric's order and visibility, and the rubric parsed once per text."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.checks.registry import checks_for, rubric_for
from grader.rubric import RubricError, load_rubric

STEMS = ("ex1_activations_losses", "ex3_mlp_backprop", "ex6_gradient_descent")
RUBRICS = Path(__file__).resolve().parents[3] / "grader" / "rubric"


@pytest.mark.parametrize("stem", STEMS)
def test_rubric_for_is_load_rubric_parsed_once(stem):
    assert rubric_for(stem) == load_rubric(stem)
    assert rubric_for(stem) is rubric_for(stem)  # a batch parses each rubric once, not per student


def test_an_edited_rubric_takes_effect_at_once(tmp_path):
    stem = STEMS[0]
    shutil.copy(RUBRICS / f"{stem}.toml", tmp_path)
    first = rubric_for(stem, tmp_path)
    path = tmp_path / f"{stem}.toml"
    test = next(iter(first.tests))
    path.write_text(path.read_text("utf-8").replace(f'"{test}" = {{ points = ', f'"{test}" = {{ points = 1 + '),
                    "utf-8")
    with pytest.raises(RubricError):
        rubric_for(stem, tmp_path)  # a broken edit is reported, never hidden by the cache
    path.write_text((RUBRICS / f"{stem}.toml").read_text("utf-8").replace("[tests]", "[tests]\n", 1), "utf-8")
    assert rubric_for(stem, tmp_path) == first


def test_checks_follow_the_rubric_and_hide_hidden_ones():
    rubric, checks = checks_for(STEMS[1], hidden=False)
    assert [c.name for c in checks] == [n for n, item in rubric.tests.items() if item.visibility == "visible"]
    _, every = checks_for(STEMS[1], hidden=True)
    assert [c.name for c in every] == list(rubric.tests)
