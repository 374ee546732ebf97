"""What both ends of the worker's pipes agree on besides the frame format (protocol.py).

The start-up handshake's message ids, and how a frame's parts go into a pipe with `os.writev`
(as few system calls as the pipe allows, so the reader wakes once). The worker (main.py) writes
its replies with these, and the grader (client.py) its requests, so they are kept here rather
than in either program.

Standard library only: this module is copied into the sandbox with the rest of the package and
imported before sys.path reaches numpy.
"""
from __future__ import annotations

# The handshake: the worker says STANDBY once started, the grader sends ATTACH when the
# submission folder is complete, and the worker says HELLO when it is ready for requests.
STANDBY, ATTACH, HELLO = "standby", "attach", "hello"
IOV_MAX = 1024  # the most buffers one writev takes on Linux (sysconf SC_IOV_MAX)


def byte_views(parts: list) -> list[memoryview]:
    """The non-empty parts of a frame as flat byte views, ready for `os.writev`."""
    views = [memoryview(part).cast("B") for part in parts]
    return [view for view in views if view.nbytes]


def unwritten(views: list[memoryview], count: int) -> list[memoryview]:
    """What is left of `views` after a (partial) write of `count` bytes."""
    for index, view in enumerate(views):
        if count < view.nbytes:
            return [view[count:], *views[index + 1:]]
        count -= view.nbytes
    return []
