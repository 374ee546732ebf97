"""Stand-in for tensorflow.keras: `datasets` and `utils`, handed on to the keras stand-in."""
STANDIN = True
USED = False

from . import datasets, utils  # noqa: E402

__all__ = ["datasets", "utils"]
