"""Stand-in for wandb in the grader's sandbox: every call succeeds, nothing is recorded or sent.

`init` returns a `Run` (also `wandb.run`) whose `config` answers the values it was given;
`log`, `finish`, `watch`, `save`, `define_metric`, `login`, ... do nothing; `Table`, `Image`,
`Histogram` and `plot.*` build inert objects; `sweep` returns an id and `agent` runs nothing.
Any other name is an inert callable too. No file is written and no socket opened.
`STANDIN` says this is not the real wandb; `USED` is set by the first call.
"""
from . import plot

STANDIN = True
USED = False
__version__ = "standin"

run = None


def _mark():
    global USED
    USED = True


class Inert:
    """Answers anything: calls, attributes, items, `with`, iteration; does nothing."""

    def __call__(self, *args, **kwargs):
        _mark()
        return self

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self

    def __setattr__(self, name, value):
        pass

    def __getitem__(self, key):
        return self

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


INERT = Inert()


class Config(dict):
    """The run's configuration: a dict that also answers `config.name`."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def update(self, values=None, allow_val_change=False, **kwargs):
        """Merge a dict, an argparse Namespace or keywords."""
        _mark()
        if isinstance(values, dict):
            super().update(values)
        elif values is not None and isinstance(getattr(values, "__dict__", None), dict):
            super().update(vars(values))  # an argparse Namespace
        super().update(kwargs)

    def setdefaults(self, values):
        for key, value in dict(values).items():
            self.setdefault(key, value)

    def as_dict(self):
        return dict(self)


config = Config()
summary = INERT


class Run:
    """What `init` returns: names, `config`, and methods that do nothing."""

    def __init__(self, project=None, name=None, config_values=None):
        self.project = project or "standin"
        self.name = name or "standin-run"
        self.id = "standin"
        self.entity = None
        self.url = None
        self.dir = None
        self.config = config_values
        self.summary = INERT

    def log(self, data=None, step=None, commit=None, **kwargs):
        _mark()

    def finish(self, exit_code=None, quiet=None):
        finish()

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return INERT

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        finish()
        return False


def init(*args, project=None, name=None, config=None, **kwargs):
    """A `Run`; `config` (a dict or an argparse Namespace) becomes `wandb.config`."""
    global run
    _mark()
    values = Config()
    if config is not None:
        values.update(config)
    globals()["config"] = values
    run = Run(project=project, name=name, config_values=values)
    return run


def log(data=None, step=None, commit=None, **kwargs):
    _mark()


def finish(exit_code=None, quiet=None):
    global run
    _mark()
    run = None


def login(*args, **kwargs):
    _mark()
    return True


def sweep(sweep=None, entity=None, project=None, **kwargs):
    """A sweep id; no sweep is registered anywhere."""
    _mark()
    return "standin-sweep"


def agent(sweep_id=None, function=None, entity=None, project=None, count=None, **kwargs):
    """Runs nothing: there is no sweep server in the sandbox."""
    _mark()


class Media:
    """Inert media: keeps what it was given, so a student's code can read it back."""

    def __init__(self, *args, **kwargs):
        _mark()
        self.args = args
        self.kwargs = kwargs


class Image(Media):
    pass


class Histogram(Media):
    pass


class Table(Media):
    """Columns and rows as given; `add_data` keeps nothing."""

    def __init__(self, columns=None, data=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = list(columns or [])
        self.data = list(data or [])

    def add_data(self, *row):
        _mark()


def __getattr__(name):
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return INERT
