import pytest

from grader.reports.files import checked_student, student_path, write_text_atomic


@pytest.mark.parametrize("student", ["", ".", "..", "a/b", "../x", "a\\b", "a\x00b"])
def test_ids_that_could_leave_the_report_folder_are_refused(student):
    with pytest.raises(ValueError, match="cannot name a report file"):
        checked_student(student)


@pytest.mark.parametrize("student", ["s001", "Ana María", "=SUM(A1)", "a.b", "x y (1)"])
def test_plain_names_are_kept(student, tmp_path):
    assert student_path(tmp_path, "junit", student, ".xml") == tmp_path / "junit" / f"{student}.xml"


def test_atomic_write_leaves_no_temporary_file_and_keeps_line_ends(tmp_path):
    path = write_text_atomic(tmp_path / "sub" / "a.csv", "a,b\r\nc,d\r\n")
    assert path.read_bytes() == b"a,b\r\nc,d\r\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.csv"]
    write_text_atomic(path, "é", encoding="utf-8-sig")
    assert path.read_bytes() == "\ufeffé".encode("utf-8")
