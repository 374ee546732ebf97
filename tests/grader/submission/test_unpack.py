"""Safe zip extraction: paths stay inside, links are not written, caps hold on real bytes."""
from __future__ import annotations

import os
import stat
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.errors import BadSubmissionError
from grader.submission.unpack import MAX_FILE_BYTES, MiB, safe_extract

from .factories import EX1, EX3, FIFO_MODE, LINK_MODE, make_zip


def extracted_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def refused(archive: Path, dest: Path, **caps: int) -> str:
    """Extract expecting a refusal; check nothing was left behind; return the message."""
    with pytest.raises(BadSubmissionError) as caught:
        safe_extract(archive, dest, **caps)
    assert not dest.exists() or list(dest.iterdir()) == []
    return str(caught.value)


def patch_headers(path: Path, *, size: int | None = None, flags: int | None = None,
                  method: int | None = None) -> Path:
    """Rewrite the first member's local and central headers, as a hostile tool could."""
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    for field_offsets, value, width in (((22, 24), size, 4), ((6, 8), flags, 2), ((8, 10), method, 2)):
        if value is not None:
            data[local + field_offsets[0]: local + field_offsets[0] + width] = value.to_bytes(width, "little")
            data[central + field_offsets[1]: central + field_offsets[1] + width] = value.to_bytes(width, "little")
    path.write_bytes(bytes(data))
    return path


def test_a_zipped_folder_is_extracted_as_it_is(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {
        "alice/": b"",
        f"alice/{EX1}.py": "x = 1\n",
        f"alice/data/{EX3}.ipynb": "{}",
        "__MACOSX/alice/._ex1_activations_losses.py": b"\x00\x05",
        "alice/.ipynb_checkpoints/ex1-checkpoint.py": "old",
    })
    dest = tmp_path / "out"
    result = safe_extract(archive, dest)
    assert result.files == [f"alice/{EX1}.py", f"alice/data/{EX3}.ipynb"]
    assert result.refused == {}
    assert extracted_files(dest) == sorted(result.files)
    assert (dest / "alice" / f"{EX1}.py").read_text() == "x = 1\n"


def test_backslash_names_from_windows_become_folders(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"alice\\{EX1}.py": "x = 1"})
    assert safe_extract(archive, tmp_path / "out").files == [f"alice/{EX1}.py"]


@pytest.mark.parametrize("entry, why", [
    ("../evil.py", "climbs out"),
    ("alice/../../evil.py", "climbs out"),
    ("..\\evil.py", "climbs out"),
    ("/etc/evil.py", "absolute path"),
    ("C:\\Windows\\evil.py", "absolute path"),
    ("c:/evil.py", "absolute path"),
])
def test_entries_that_would_land_outside_are_refused(tmp_path, entry, why):
    archive = make_zip(tmp_path / "a.zip", {f"{EX1}.py": "x = 1", entry: "boom"})
    message = refused(archive, tmp_path / "out")
    assert why in message and repr(entry) in message and "a.zip" in message
    assert not (tmp_path / "evil.py").exists()


def test_a_link_entry_is_not_written_and_is_reported(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"{EX1}.py": "/etc/passwd", f"{EX3}.py": "x = 1"},
                       modes={f"{EX1}.py": LINK_MODE})
    dest = tmp_path / "out"
    result = safe_extract(archive, dest)
    assert result.files == [f"{EX3}.py"]
    assert "symbolic link" in result.refused[f"{EX1}.py"]
    assert not os.path.lexists(dest / f"{EX1}.py")


def test_a_special_file_entry_is_not_written(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"pipe": "", f"{EX3}.py": "x = 1"}, modes={"pipe": FIFO_MODE})
    result = safe_extract(archive, tmp_path / "out")
    assert result.files == [f"{EX3}.py"] and "not a regular file" in result.refused["pipe"]


@pytest.mark.parametrize("first, second", [
    ("Ex1.py", "ex1.py"),
    (unicodedata.normalize("NFC", "caf\u00e9.py"), unicodedata.normalize("NFD", "caf\u00e9.py")),
    ("a", "a/b.py"),
    ("a/b.py", "A"),
    ("x/./y.py", "x//y.py"),
])
def test_names_that_collide_after_normalisation_are_refused(tmp_path, first, second):
    archive = make_zip(tmp_path / "a.zip", {first: "1", second: "2"})
    message = refused(archive, tmp_path / "out")
    assert "same file" in message and repr(first) in message and repr(second) in message


def test_a_zip_bomb_is_stopped_at_the_file_cap(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", {f"{EX1}.py": bytes(MAX_FILE_BYTES + MiB)})
    assert archive.stat().st_size < 100_000  # it really is a bomb
    message = refused(archive, tmp_path / "out")
    assert "20.0 MiB once unzipped" in message and "clear its outputs" in message


def test_many_files_each_under_the_cap_are_stopped_at_the_total_cap(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"f{i}.py": bytes(MiB) for i in range(4)})
    message = refused(archive, tmp_path / "out", max_file_bytes=2 * MiB, max_total_bytes=3 * MiB)
    assert "3.0 MiB once unzipped" in message and "limit for a submission" in message


def test_declared_sizes_are_not_trusted(tmp_path):
    small_claim = patch_headers(make_zip(tmp_path / "lie.zip", {"a.py": bytes(3 * MiB)}), size=10)
    assert "cannot be decompressed" in refused(small_claim, tmp_path / "out1", max_file_bytes=MiB)

    # A huge claim over small content is no reason to refuse: only real bytes count.
    big_claim = patch_headers(make_zip(tmp_path / "big.zip", {"a.py": bytes(1000)}), size=2**31)
    assert safe_extract(big_claim, tmp_path / "out2", max_file_bytes=MiB).files == ["a.py"]


def test_too_many_files(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"f{i}.py": "" for i in range(6)})
    assert "holds 6 files; at most 5" in refused(archive, tmp_path / "out", max_files=5)
    assert len(safe_extract(archive, tmp_path / "ok", max_files=6).files) == 6


def test_too_many_entries_even_if_ignored(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"__MACOSX/f{i}": "" for i in range(21)})
    assert "holds 21 entries" in refused(archive, tmp_path / "out", max_files=5)


def test_a_zip_larger_than_the_total_cap_is_refused_unopened(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.bin": os.urandom(200_000)}, compression=zipfile.ZIP_STORED)
    assert "over the 0.1 MiB limit" in refused(archive, tmp_path / "out", max_total_bytes=100_000)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + bytes(100)])
def test_a_file_that_is_not_a_zip(tmp_path, content):
    path = tmp_path / "a.zip"
    path.write_bytes(content)
    message = refused(path, tmp_path / "out")
    assert "a.zip is not a readable zip file" in message and "Make the zip again" in message


def test_a_truncated_zip(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"{EX1}.py": os.urandom(5000)})
    archive.write_bytes(archive.read_bytes()[:3000])
    assert "not a readable zip file" in refused(archive, tmp_path / "out")


def test_a_damaged_member_leaves_nothing_behind(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.py": "x = 1\n", "b.py": "y = 2\n" * 1000})
    data = bytearray(archive.read_bytes())
    start = data.find(b"PK\x03\x04", 10) + 30 + len("b.py")  # b.py's compressed bytes
    data[start: start + 8] = b"\xff" * 8
    archive.write_bytes(bytes(data))
    message = refused(archive, tmp_path / "out")
    assert "'b.py' cannot be decompressed" in message


def test_an_unknown_compression_method(tmp_path):
    archive = patch_headers(make_zip(tmp_path / "a.zip", {"a.py": "x = 1"}), method=99)
    assert "cannot be decompressed" in refused(archive, tmp_path / "out")


def test_a_password_protected_zip(tmp_path):
    archive = patch_headers(make_zip(tmp_path / "a.zip", {"a.py": "x = 1"}), flags=0x1)
    assert "password-protected" in refused(archive, tmp_path / "out")


def test_the_target_must_be_empty(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.py": "x = 1"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_written_files_are_readable_by_everyone(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a.py": "x = 1"}, modes={"a.py": stat.S_IFREG | 0o000})
    safe_extract(archive, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out" / "a.py").stat().st_mode) == 0o644


_segment = st.sampled_from(["..", ".", "", "a", "B", "ex1.py", "C:", "\\", "..\\..", "x/../.."])


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.lists(_segment, min_size=1, max_size=4).map("/".join), min_size=1, max_size=4))
def test_nothing_is_ever_written_outside_the_target(names):
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        archive = make_zip(base / "a.zip", {name: "x" for name in dict.fromkeys(names)})
        dest = base / "inner" / "out"
        try:
            safe_extract(archive, dest)
        except BadSubmissionError:
            assert list(dest.iterdir()) == []
        outside = {p.relative_to(base).as_posix() for p in base.rglob("*")
                   if p != dest and dest not in p.parents}
        assert outside == {"a.zip", "inner"}
