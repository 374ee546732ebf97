"""Stand-in for matplotlib in the grader's sandbox: plots are drawn nowhere and saved nowhere.

`matplotlib.pyplot` (and `seaborn`) answer every call with an inert object, so a `train.py` that
plots its curves still runs. `STANDIN` says this is not the real matplotlib; `USED` is set by the
first call.
"""
STANDIN = True
USED = False
__version__ = "standin"


def _mark():
    global USED
    USED = True


class Inert:
    """Answers anything: calls, attributes, items, unpacking into two, `with`; does nothing."""

    def __call__(self, *args, **kwargs):
        _mark()
        return self

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter((self, self))  # fig, ax = plt.subplots()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def use(*args, **kwargs):
    _mark()


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return Inert()
