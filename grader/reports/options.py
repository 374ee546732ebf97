"""What a report writer may show, and where external tools find the course's names.

The same options go to every writer, so one flag means the same thing in every format.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

DEFAULT_ASSIGNMENT = "module2a_backprop"


@dataclass(frozen=True)
class ReportOptions:
    """Choices shared by all report writers.

    `show_hidden`: the instructor's view. Off (the default), hidden tests appear by name and points
    only, never with their feedback, diagnosis or hint, in every file a student may be handed
    (Markdown, HTML, JUnit, Gradescope). The JSON report of record and the CSV grade tables
    carry no feedback, so the flag does not change them.
    `assignment`: the assignment's name in nbgrader's CSV export and gradebook.
    `gradebook`: an nbgrader gradebook, as a `gradebook.db` path or an SQLAlchemy URL.
    """

    show_hidden: bool = False
    assignment: str = DEFAULT_ASSIGNMENT
    gradebook: Optional[str] = None
