"""Which files in a folder are which exercise, for assignments of side-by-side exercise files.

A file belongs to an exercise when its name is `NAME.ipynb` or `NAME.py` for one of the
assignment's stems (`FlatLayout.stems`; Module 2A's six are `EXERCISES`). Matching forgives what students' tools do to names, and nothing more:

- case: `Ex1_Activations_Losses.IPYNB` is exercise 1 (Windows and macOS ignore case anyway);
- a copy marker at the end of the stem: `NAME (1)` (a browser's second download), `NAME - Copy`
  and `NAME - Copy (2)` (Windows), `NAME copy` and `NAME copy 2` (macOS), `NAME-Copy1` (Jupyter's
  "Duplicate").

When several files match one exercise, one is chosen and the others are named in `notes`:
a notebook beats a module (the release ships notebooks; a `.py` next to one is usually an
export), then an exact name beats a case-insensitive one beats a copy, then the name order.

Links are never followed here: a symbolic link named like an exercise still matches (so the
caller can report it for that exercise), and a linked folder is never a place to look in.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from grader.submission.staging import StagedSubmission

# Module 2A's stems (its spec is grader/assignments/module_2a.py; its authoring tools use these).
EXERCISES: tuple[str, ...] = (
    "ex1_activations_losses",
    "ex2_hand_calculation",
    "ex3_mlp_backprop",
    "ex4_autograd_scalar",
    "ex5_autograd_tensor",
    "ex6_gradient_descent",
)

# Preference order when one exercise has both.
EXTENSIONS: tuple[str, ...] = (".ipynb", ".py")

# Folders that tools leave behind and no student means to submit; skipped without a word.
JUNK_FOLDERS: frozenset[str] = frozenset({"__MACOSX", ".ipynb_checkpoints", "__pycache__"})

_COPY_MARKER = re.compile(
    r"(?:\s*\(\d+\)"  # "NAME (1)"
    r"|\s*-\s*copy\d*(?:\s*\(\d+\))?"  # "NAME - Copy", "NAME - Copy (2)", "NAME-Copy1"
    r"|\s+copy(?:\s+\d+)?)$"  # "NAME copy", "NAME copy 2"
)

_EXACT, _CASE_ONLY, _COPY = 0, 1, 2


def is_junk(name: str) -> bool:
    """Hidden files (`.DS_Store`, `._x` from macOS) and tool folders are not part of a submission."""
    return name.startswith(".") or name in JUNK_FOLDERS


def _split_extension(file_name: str) -> tuple[str, str]:
    base, ext = os.path.splitext(file_name)
    return base, ext.lower()


@dataclass
class ExerciseFiles:
    """What one folder holds: the file chosen for each exercise, and what was passed over.

    `matched` maps stem -> path (possibly a symbolic link: the caller decides what to do);
    `notes` explain each choice between several candidates; `ignored` lists the other visible
    entries (files and folders), sorted.
    """

    matched: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def _visible_entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not is_junk(e.name)), key=lambda e: e.name)


@dataclass(frozen=True)
class FlatLayout:
    """An assignment whose exercises are files `STEM.ipynb` or `STEM.py` side by side in one folder.

    `stems`: the exercises' file stems, in the assignment's order. Every question of the form
    "which exercise is this file" or "where are this folder's exercise files" is answered here,
    for discovery (`discover.py`) and staging (`staging.py`) alike.
    """

    stems: tuple[str, ...]
    extensions: tuple[str, ...] = EXTENSIONS

    def expected_names(self) -> str:
        """The sentence every "nothing to grade" message ends with."""
        return "NAME.ipynb or NAME.py, where NAME is one of: " + ", ".join(self.stems)

    def _match(self, file_name: str) -> Optional[tuple[str, int]]:
        """(stem, how exact) for an exercise file name, or None."""
        base, ext = _split_extension(file_name)
        if ext not in self.extensions:
            return None
        if base in self.stems:
            return base, _EXACT
        folded = base.strip().casefold()
        if folded in self.stems:
            return folded, _CASE_ONLY
        while True:
            stripped = _COPY_MARKER.sub("", folded)
            if stripped == folded:
                return None
            folded = stripped
            if folded in self.stems:
                return folded, _COPY

    def exercise_for_name(self, file_name: str) -> Optional[str]:
        """The exercise a file name stands for (`"ex3_mlp_backprop (1).ipynb"` -> `"ex3_mlp_backprop"`)."""
        found = self._match(file_name)
        return found[0] if found else None

    def exercise_within_name(self, file_name: str) -> Optional[str]:
        """The one exercise stem inside a longer `.ipynb`/`.py` name, as LMS downloads name files.

        `"alice_ex3_mlp_backprop.ipynb"` -> `"ex3_mlp_backprop"`. None when the name holds no stem
        or more than one. Only used for a single file handed to the grader on its own.
        """
        base, ext = _split_extension(file_name)
        if ext not in self.extensions:
            return None
        folded = base.casefold()
        inside = [stem for stem in self.stems if stem in folded]
        return inside[0] if len(inside) == 1 else None

    def suggestion_for(self, file_name: str) -> str:
        """' (did you mean NAME?)' for a near-miss like `ex1_activation_losses.ipynb`, else ''."""
        base, ext = _split_extension(file_name)
        if ext not in self.extensions:
            return ""
        close = get_close_matches(base.casefold(), self.stems, n=1, cutoff=0.8)
        return f" (did you mean {close[0]}{ext}?)" if close else ""

    def find_exercise_files(self, folder: Path) -> ExerciseFiles:
        """Match the entries directly inside `folder` to exercises (see the module docstring)."""
        candidates: dict[str, list[tuple[int, int, str, Path]]] = {}
        result = ExerciseFiles()
        for entry in _visible_entries(folder):
            found = self._match(entry.name)
            # A folder named like an exercise file is not one; a link is kept for the caller.
            if found is None or entry.is_dir(follow_symlinks=False):
                result.ignored.append(Path(entry.path))
                continue
            stem, exactness = found
            extension_rank = self.extensions.index(_split_extension(entry.name)[1])
            candidates.setdefault(stem, []).append((extension_rank, exactness, entry.name, Path(entry.path)))
        for stem in self.stems:
            if stem not in candidates:
                continue
            ranked = sorted(candidates[stem])
            chosen = ranked[0][3]
            result.matched[stem] = chosen
            if len(ranked) > 1:
                others = ", ".join(name for _, _, name, _ in ranked[1:])
                result.notes.append(
                    f"{stem}: graded {chosen.name} and ignored {others}; "
                    "keep only the file you want graded for each exercise")
        return result

    def match_files(self, folder: Path) -> dict[str, Path]:
        """stem -> the file graded for it, for the entries directly inside `folder`."""
        return self.find_exercise_files(folder).matched

    def has_exercise_files(self, folder: Path) -> bool:
        return bool(self.match_files(folder))

    def exercise_roots(self, folder: Path) -> list[Path]:
        """Where a submission folder keeps its exercise files.

        `[folder]` when it holds exercise files itself; otherwise its subfolders that do (a zip of
        a folder, or nbgrader's `<student>/<assignment>/`). One root is a submission; none is
        nothing to grade; several is ambiguous for a submission and a batch for discovery.
        """
        if self.has_exercise_files(folder):
            return [folder]
        return [Path(e.path) for e in _visible_entries(folder)
                if e.is_dir(follow_symlinks=False) and self.has_exercise_files(Path(e.path))]

    # What staging asks of a layout (see layout.py). The flat rules live in staging.py, which
    # imports this module, hence the imports at call time.

    def extract_limits(self) -> dict[str, Any]:
        """Zips of exercise files are unpacked with `unpack.safe_extract`'s own limits."""
        return {}

    def stage_root(self, folder: Path, label: str, dest: Path, staged: StagedSubmission, *,
                   left_out: Optional[dict[str, str]] = None,
                   deadline: Optional[float] = None) -> tuple[Path, list[Path]]:
        """Stage the exercise files of `folder` (or of its one subfolder holding them)."""
        from grader.submission.staging import stage_flat_folder

        return stage_flat_folder(folder, label, dest, staged, self, left_out, deadline)

    def graded_files(self, folder: Path) -> tuple[Path, list[Path]]:
        """The exercise folder of `folder` and the files matched to exercises in it."""
        from grader.submission.staging import flat_graded_files

        return flat_graded_files(folder, self)


# Module 2A's layout, and its questions as plain functions (the names its tools and tests use).
MODULE_2A_LAYOUT = FlatLayout(EXERCISES)
expected_names = MODULE_2A_LAYOUT.expected_names
exercise_for_name = MODULE_2A_LAYOUT.exercise_for_name
exercise_within_name = MODULE_2A_LAYOUT.exercise_within_name
suggestion_for = MODULE_2A_LAYOUT.suggestion_for
find_exercise_files = MODULE_2A_LAYOUT.find_exercise_files
match_files = MODULE_2A_LAYOUT.match_files
has_exercise_files = MODULE_2A_LAYOUT.has_exercise_files
exercise_roots = MODULE_2A_LAYOUT.exercise_roots
