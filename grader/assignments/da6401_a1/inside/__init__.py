"""What the grader stages inside a `da6401-a1` submission: `probe.py`, one copy per graded part.

The probe is never imported in the grader's process (it imports the student's `ann`); staging
reads its text (`PROBE`) and writes it as `<stem>.py` beside the student's repository.
"""
from pathlib import Path

PROBE = Path(__file__).with_name("probe.py")
