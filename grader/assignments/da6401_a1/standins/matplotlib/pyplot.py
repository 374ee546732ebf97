"""Stand-in for `matplotlib.pyplot`: every function does nothing and returns an inert object."""
import matplotlib as _root
from matplotlib import Inert

STANDIN = True
USED = False


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    global USED
    USED = True
    _root._mark()
    return Inert()
