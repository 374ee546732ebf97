"""Stand-in for `tqdm.auto`: the same bars as `tqdm` (its `USED` says when one was made)."""
from tqdm import tqdm, trange  # noqa: F401

STANDIN = True
USED = False
