"""Stand-in for keras in the grader's sandbox: the data loaders and `to_categorical`, nothing else.

`keras.datasets.mnist.load_data()` and `keras.datasets.fashion_mnist.load_data()` return the
grader's data from keras's cache folder, in keras's shapes and dtypes. The sandbox has no network,
so nothing is ever downloaded. `STANDIN` says this is not the real keras; `USED` is set by a call.
"""
STANDIN = True
USED = False
__version__ = "standin"

from . import datasets, utils  # noqa: E402  (after the flags, which the submodules do not need)

__all__ = ["datasets", "utils", "STANDIN", "USED"]
