"""Which file is which exercise: names, choices between candidates, where the files live."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.submission.exercises import (
    EXERCISES,
    exercise_for_name,
    exercise_roots,
    exercise_within_name,
    find_exercise_files,
    match_files,
    suggestion_for,
)

from .factories import EX1, EX2, EX3, write


def test_the_six_stems_of_the_contract_in_order():
    assert EXERCISES == ("ex1_activations_losses", "ex2_hand_calculation", "ex3_mlp_backprop",
                         "ex4_autograd_scalar", "ex5_autograd_tensor", "ex6_gradient_descent")


@pytest.mark.parametrize("name, stem", [
    ("ex1_activations_losses.ipynb", EX1),
    ("ex1_activations_losses.py", EX1),
    ("Ex1_Activations_Losses.IPYNB", EX1),
    ("ex3_mlp_backprop (1).ipynb", EX3),  # a browser's second download
    ("ex3_mlp_backprop(2).py", EX3),
    ("ex3_mlp_backprop - Copy.ipynb", EX3),  # Windows
    ("ex3_mlp_backprop - Copy (2).ipynb", EX3),
    ("ex3_mlp_backprop copy.ipynb", EX3),  # macOS
    ("ex3_mlp_backprop copy 2.ipynb", EX3),
    ("ex3_mlp_backprop-Copy1.ipynb", EX3),  # Jupyter's Duplicate
    ("ex3_mlp_backprop (1) (2).ipynb", EX3),
])
def test_names_that_stand_for_an_exercise(name, stem):
    assert exercise_for_name(name) == stem


@pytest.mark.parametrize("name", [
    "ex3_mlp_backprop.txt", "ex3_mlp_backprop.ipynb.txt", "ex3_mlp_backprop", "ex3_mlp_backprop_v2.ipynb",
    "ex7_extra.ipynb", "ex1_activation_losses.ipynb", "notes.py", "ex3_mlp_backprop final.ipynb",
    "ex3_mlp_backprop.nbconvert.ipynb", "my ex3_mlp_backprop.ipynb",
])
def test_names_that_do_not(name):
    assert exercise_for_name(name) is None


@pytest.mark.parametrize("name, stem", [
    ("alice_ex3_mlp_backprop.ipynb", EX3),
    ("Smith_12345_ex2_hand_calculation.py", EX2),
    ("ex1_activations_losses_ex3_mlp_backprop.py", None),  # two stems: which?
    ("alice.ipynb", None),
    ("alice_ex3_mlp_backprop.zip", None),
])
def test_a_stem_inside_a_longer_name(name, stem):
    assert exercise_within_name(name) == stem


def test_a_near_miss_gets_a_suggestion():
    assert "ex1_activations_losses.ipynb" in suggestion_for("ex1_activation_losses.ipynb")
    assert suggestion_for("notes.txt") == ""


@given(stem=st.sampled_from(EXERCISES), ext=st.sampled_from([".ipynb", ".py"]),
       flips=st.lists(st.booleans(), min_size=30, max_size=30))
def test_case_never_matters(stem, ext, flips):
    name = "".join(c.upper() if flip else c for c, flip in zip(stem + ext, flips))
    assert exercise_for_name(name) == stem


def test_match_files_maps_stems_to_paths_and_lists_the_rest(tmp_path):
    write(tmp_path / f"{EX1}.ipynb", "{}")
    write(tmp_path / f"{EX2}.py", "x = 1")
    write(tmp_path / "notes.txt", "todo")
    (tmp_path / "data").mkdir()
    write(tmp_path / ".DS_Store", "junk")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    found = find_exercise_files(tmp_path)
    assert found.matched == {EX1: tmp_path / f"{EX1}.ipynb", EX2: tmp_path / f"{EX2}.py"}
    assert found.ignored == [tmp_path / "data", tmp_path / "notes.txt"]  # hidden ones unlisted
    assert found.notes == []
    assert match_files(tmp_path) == found.matched


def test_a_notebook_beats_a_module_and_the_choice_is_noted(tmp_path):
    write(tmp_path / f"{EX3}.py", "x = 1")
    write(tmp_path / f"{EX3}.ipynb", "{}")
    found = find_exercise_files(tmp_path)
    assert found.matched == {EX3: tmp_path / f"{EX3}.ipynb"}
    (note,) = found.notes
    assert f"graded {EX3}.ipynb" in note and f"ignored {EX3}.py" in note
    assert "keep only the file you want graded" in note


def test_an_exact_name_beats_a_copy(tmp_path):
    write(tmp_path / f"{EX3} (1).ipynb", "{}")
    write(tmp_path / f"{EX3}.ipynb", "{}")
    write(tmp_path / "EX3_MLP_BACKPROP.ipynb", "{}")
    found = find_exercise_files(tmp_path)
    assert found.matched[EX3].name == f"{EX3}.ipynb"
    assert f"{EX3} (1).ipynb" in found.notes[0] and "EX3_MLP_BACKPROP.ipynb" in found.notes[0]


def test_a_folder_named_like_an_exercise_is_not_one(tmp_path):
    (tmp_path / f"{EX1}.py").mkdir()
    assert match_files(tmp_path) == {}


def test_a_link_is_matched_but_never_followed(tmp_path):
    outside = write(tmp_path / "outside" / "secret.py", "x = 1")
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink(outside, sub / f"{EX1}.py")
    os.symlink(tmp_path / "outside", sub / "linked")
    os.symlink(tmp_path / "outside", sub / f"{EX2}.ipynb")  # a link to a folder, named as a file
    found = find_exercise_files(sub)
    assert found.matched == {EX1: sub / f"{EX1}.py", EX2: sub / f"{EX2}.ipynb"}
    assert exercise_roots(tmp_path / "sub") == [sub]


def test_exercise_roots(tmp_path):
    direct = tmp_path / "direct"
    write(direct / f"{EX1}.py", "")
    write(direct / "inner" / f"{EX2}.py", "")
    assert exercise_roots(direct) == [direct]

    nested = tmp_path / "nested"
    write(nested / "hw" / f"{EX1}.py", "")
    (nested / "other").mkdir()
    assert exercise_roots(nested) == [nested / "hw"]

    several = tmp_path / "several"
    write(several / "a" / f"{EX1}.py", "")
    write(several / "b" / f"{EX1}.py", "")
    assert exercise_roots(several) == [several / "a", several / "b"]

    deep = tmp_path / "deep"
    write(deep / "a" / "b" / f"{EX1}.py", "")
    assert exercise_roots(deep) == []


def test_a_linked_folder_is_not_a_root(tmp_path):
    real = tmp_path / "real"
    write(real / f"{EX1}.py", "")
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink(real, sub / "hw")
    assert exercise_roots(sub) == []
    assert Path(sub / "hw").is_dir()  # the link itself works: it is deliberately not followed
