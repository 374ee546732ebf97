"""A worker's death is named by how it died, never by how busy the machine was.

Processes the code forked keep copies of the worker's reply pipe. When the worker then exits,
the grader must still see the death at once (its watcher stops the rest of the sandbox), not
wait for the request's deadline and report a crash as a timeout, which is what happened under
load whenever the end of file came after the deadline.
"""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from grader.errors import StudentCodeError
from grader.worker import sandbox as sb
from grader.worker.client import WorkerClient
from tests.grader.worker.workers import readable, sandboxes as _sandboxes

TIMEOUT = 5.0
CHILDREN = 8
STUDENT = f'''
def fork_and_pause():
    import ctypes
    libc = ctypes.CDLL(None)
    for _ in range({CHILDREN}):
        if libc.fork() == 0:
            while True:
                libc.pause()
    return True


def exit_at_once():
    import os
    os._exit(4)
'''


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    (folder / "ex_dying.py").write_text(textwrap.dedent(STUDENT))
    return readable(folder)


def call(client: WorkerClient, name: str):
    return client.request({"op": "call", "module": "ex_dying", "name": name, "args": [], "kwargs": {}},
                          timeout=TIMEOUT)


@pytest.mark.parametrize("sandbox", _sandboxes())
def test_an_exit_with_forked_children_alive_is_a_crash_seen_at_once(staged, sandbox):
    config = sb.SandboxConfig(use_bwrap="on" if sandbox == "bwrap" else "off", memory_mb=512,
                              max_processes=CHILDREN + 8)
    with WorkerClient(staged, config=config) as client:
        assert call(client, "fork_and_pause") is True
        started = time.monotonic()
        with pytest.raises(StudentCodeError) as caught:
            call(client, "exit_at_once")
        took = time.monotonic() - started
        assert (caught.value.status, caught.value.event) == ("error", "crash")
        assert "status 4" in caught.value.message
        assert took < TIMEOUT / 2  # seen as a death, not waited out to the deadline
        assert call(client, "fork_and_pause") is True  # and the next request gets a fresh worker
