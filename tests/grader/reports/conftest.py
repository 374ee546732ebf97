"""Fixtures shared by the report tests."""
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def empty_gradebook(tmp_path_factory) -> Path:
    """An empty nbgrader gradebook made once: nbgrader stamps each new database by running alembic (seconds)."""
    pytest.importorskip("nbgrader")
    from grader.reports.nbgrader_gradebook import open_gradebook

    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    open_gradebook(str(path)).close()
    return path


@pytest.fixture
def db(tmp_path, empty_gradebook) -> Path:
    """A fresh copy of the empty gradebook."""
    path = tmp_path / "gradebook.db"
    shutil.copyfile(empty_gradebook, path)
    return path
