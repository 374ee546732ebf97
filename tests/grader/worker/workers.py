"""What the worker tests share: the sandboxes to run under and a staged folder the worker can read."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.worker import sandbox as sb


def sandboxes() -> list:
    """bubblewrap (skipped where it is unusable) and no sandbox, as pytest parameters."""
    bwrap = pytest.param("bwrap", marks=pytest.mark.skipif(not sb.detect_bwrap(), reason="bubblewrap unusable here"))
    return [bwrap, "none"]


def readable(folder: Path) -> Path:
    """`folder` with the modes staging gives it, so a worker under another uid can read it."""
    for path in [folder, *folder.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder
