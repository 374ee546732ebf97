"""Stand-in for tensorflow in the grader's sandbox: `tensorflow.keras.datasets` and `keras.utils` only.

It hands on to the keras stand-in, so the stand-ins' folder must be on sys.path before this one.
`STANDIN` says this is not the real tensorflow; `USED` is set by a call.
"""
STANDIN = True
USED = False
__version__ = "standin"

from . import keras  # noqa: E402

__all__ = ["keras", "STANDIN", "USED"]
