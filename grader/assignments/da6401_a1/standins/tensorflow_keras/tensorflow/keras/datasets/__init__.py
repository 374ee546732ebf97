"""Stand-in for tensorflow.keras.datasets: `mnist` and `fashion_mnist`."""
STANDIN = True
USED = False

from . import fashion_mnist, mnist  # noqa: E402

__all__ = ["fashion_mnist", "mnist"]
