import pytest

from grader.rubric import (
    Requirement,
    RubricError,
    check_requirements,
    load_rubric,
    parse_rubric,
    resolve_requirement,
)
from grader.submission.exercises import EXERCISES

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


# ---------------------------------------------------------------- requires

REQUIRING = """
exercise = "ex9_demo"
[tests]
"a.values" = { points = 2 }
"a.no_mutation" = { points = 1, visibility = "hidden", requires = ["a.values"] }
"a.chain" = { points = 1, requires = ["a.values", "ex8_other:b.values"] }
"""


def test_requires_names_tests_of_this_exercise_or_another():
    rubric = parse_rubric(REQUIRING, source="demo.toml")
    assert rubric.tests["a.values"].requires == ()
    assert rubric.tests["a.no_mutation"].requires == ("a.values",)
    assert [resolve_requirement(r, "ex9_demo") for r in rubric.tests["a.chain"].requires] == [
        Requirement("ex9_demo", "a.values"), Requirement("ex8_other", "b.values")]
    other = parse_rubric("exercise = 'ex8_other'\n[tests]\n'b.values' = { points = 1 }", source="other.toml")
    check_requirements({"ex9_demo": rubric, "ex8_other": other})
    with pytest.raises(RubricError, match="'ex8_other:b.values', which no rubric defines"):
        check_requirements({"ex9_demo": rubric})


def test_the_public_rubric_keeps_only_requirements_on_tests_it_keeps():
    text = REQUIRING + '"a.hidden_dep" = { points = 1, requires = ["a.no_mutation", "a.values"] }\n'
    public = parse_rubric(text, source="demo.toml").public()
    assert "a.no_mutation" not in public.tests
    assert public.tests["a.hidden_dep"].requires == ("a.values",)


@pytest.mark.parametrize("line, message", [
    ('"a.x" = { points = 1, requires = ["a.nothing"] }', "requires 'a.nothing', which is not a test of e"),
    ('"a.x" = { points = 1, requires = "a.values" }', "requires must be a list of test names"),
    ('"a.x" = { points = 1, requires = [1] }', "requires must be a list of test names"),
    ('"a.x" = { points = 1, requires = [":a.values"] }', 'write "<exercise>:<test>"'),
    ('"a.x" = { points = 1, requires = ["a.x"] }', "requires itself"),
])
def test_malformed_requirements_are_rubric_errors(line, message):
    text = f"exercise = 'e'\n[tests]\n'a.values' = {{ points = 1 }}\n{line}\n"
    with pytest.raises(RubricError, match=message):
        parse_rubric(text, source="bad.toml")


def test_a_cycle_of_requirements_is_a_rubric_error():
    text = ("exercise = 'e'\n[tests]\n'a' = { points = 1, requires = ['b'] }\n"
            "'b' = { points = 1, requires = ['c'] }\n'c' = { points = 1, requires = ['a'] }\n")
    with pytest.raises(RubricError, match="which requires it in turn"):
        check_requirements({"e": parse_rubric(text, source="cycle.toml")})


def test_every_shipped_rubric_requires_only_known_tests_of_the_same_visibility_or_visible_ones():
    rubrics = {stem: load_rubric(stem) for stem in EXERCISES}
    check_requirements(rubrics)  # unknown names and cycles raise
    for stem, rubric in rubrics.items():
        for name, item in rubric.tests.items():
            for entry in item.requires:
                required = resolve_requirement(entry, stem)
                # a visible test gated by a hidden one would pass the self-check and fail at grading
                if item.visibility == "visible":
                    assert rubrics[required.exercise].tests[required.test].visibility == "visible", (stem, name)


def test_properties_follow_the_values_of_the_same_function():
    rubric = load_rubric("ex1_activations_losses")
    properties = [n for n in rubric.tests if n.endswith((".no_mutation", ".robust"))]
    assert len(properties) == 28
    for name in properties:
        assert rubric.tests[name].requires == (f"{name.split('.')[0]}.values",)
