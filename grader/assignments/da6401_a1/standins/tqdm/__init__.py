"""Stand-in for tqdm in the grader's sandbox: progress bars that pass their iterable through.

`STANDIN` says this is not the real tqdm; `USED` is set by the first bar.
"""
STANDIN = True
USED = False
__version__ = "standin"


class tqdm:
    """Iterates what it wraps; `update`, `set_description`, `set_postfix`, `close`, `write` do nothing."""

    def __init__(self, iterable=None, *args, total=None, **kwargs):
        global USED
        USED = True
        self.iterable, self.total, self.n = iterable, total, 0

    def __iter__(self):
        for item in self.iterable if self.iterable is not None else ():
            self.n += 1
            yield item

    def __len__(self):
        return len(self.iterable) if self.iterable is not None else int(self.total or 0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.n += n

    def set_description(self, *args, **kwargs):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass

    @staticmethod
    def write(*args, **kwargs):
        pass


def trange(*args, **kwargs):
    return tqdm(range(*args), **kwargs)
