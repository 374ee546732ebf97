"""Stand-in for seaborn in the grader's sandbox: every function does nothing (see matplotlib's)."""
from matplotlib import Inert

STANDIN = True
USED = False
__version__ = "standin"


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    global USED
    USED = True
    return Inert()
