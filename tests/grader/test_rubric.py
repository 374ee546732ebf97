import pytest

from grader.rubric import RubricError, parse_rubric

GOOD = """
exercise = "ex9_demo"
title = "Demo"
[settings]
rtol = 1e-6
[tests]
"a.values" = { points = 2 }
"a.hidden" = { points = 1.5, visibility = "hidden" }
"""


def test_parse_reads_points_visibility_and_settings():
    rubric = parse_rubric(GOOD, source="demo.toml")
    assert rubric.exercise == "ex9_demo" and rubric.title == "Demo"
    assert rubric.tests["a.values"].points == 2.0 and rubric.tests["a.values"].visibility == "visible"
    assert rubric.tests["a.hidden"].visibility == "hidden"
    assert rubric.max_score == 3.5
    assert rubric.settings == {"rtol": 1e-6}
    assert list(rubric.public().tests) == ["a.values"]


@pytest.mark.parametrize("text, message", [
    ("title = 'x'\n[tests]\na = { points = 1 }", "needs a top-level `exercise"),
    ("exercise = 'e'\n[tests]\na = { visibility = 'visible' }", "needs `{ points"),
    ("exercise = 'e'\n[tests]\na = { points = -1 }", "points must be a number >= 0"),
    ("exercise = 'e'\n[tests]\na = { points = 1, visibility = 'secret' }", "visibility must be one of"),
    ("exercise = 'e'\n[tests]\n", "is empty"),
    ("exercise = = 'e'", "not valid TOML"),
])
def test_malformed_rubrics_say_what_to_fix(text, message):
    with pytest.raises(RubricError, match=message) as info:
        parse_rubric(text, source="bad.toml")
    assert "bad.toml" in str(info.value)
