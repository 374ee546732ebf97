"""The worker's loop and setup helpers, run in this process over real pipes."""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

from grader.worker.inside import main, protocol
from grader.worker.inside.handler import Handler, NamespaceModules


def serve_all(requests: list[bytes]) -> tuple[int, list[dict]]:
    """Feed raw requests to `main.serve`, then read every reply it wrote."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    os.write(request_write, b"".join(requests))
    os.close(request_write)
    handler = Handler(NamespaceModules({"ex": {"double": lambda x: 2 * x}}), is_student_file=lambda f: True)
    status = main.serve(handler, protocol, request_read, reply_write)
    os.close(request_read)
    os.close(reply_write)
    replies, read_exact = [], main.fd_reader(reply_read)
    while True:
        try:
            replies.append(protocol.decode(protocol.read_frame(read_exact)))
        except EOFError:
            break
    os.close(reply_read)
    return status, replies


def test_serve_says_hello_then_answers_until_the_pipe_closes():
    status, replies = serve_all([protocol.pack({"op": "call", "module": "ex", "name": "double", "args": [21],
                                                "id": 1}),
                                 protocol.pack({"op": "ping", "id": 2})])
    assert status == 0
    assert replies[0]["id"] == "hello" and replies[0]["value"]["ready"] is True
    assert [(r["id"], r["value"]) for r in replies[1:2]] == [(1, 42)]
    assert replies[2]["value"] == {"pid": os.getpid()}


def test_serve_stops_on_a_stream_it_cannot_trust(capsys):
    status, replies = serve_all([protocol.pack({"op": "ping", "id": 1}), b"garbage!"])
    assert status == main.EXIT_BAD_STREAM
    assert [r["id"] for r in replies] == ["hello", 1]
    assert "bad request stream" in capsys.readouterr().err


def test_fd_reader_reads_exactly_and_reports_eof():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"abcdef")
    os.close(write_fd)
    read_exact = main.fd_reader(read_fd)
    assert read_exact(4) == b"abcd"
    with pytest.raises(EOFError):
        read_exact(3)
    os.close(read_fd)


def test_write_parts_writes_memoryviews_of_arrays():
    frame = protocol.encode({"v": np.arange(3.0)})
    read_fd, write_fd = os.pipe()
    main.write_parts(write_fd, frame.parts())
    os.close(write_fd)
    data = os.read(read_fd, 1 << 16)
    os.close(read_fd)
    assert protocol.unpack(data)["v"].tolist() == [0.0, 1.0, 2.0]


def test_follow_path_aliases_repoints_packages_imported_early(tmp_path, monkeypatch):
    real = tmp_path / "stdlib"
    (real / "pkg").mkdir(parents=True)
    fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY)
    try:
        alias = f"/proc/self/fd/{fd}"
        early = types.ModuleType("early_pkg")
        early.__path__ = [str(real / "pkg"), "/elsewhere"]
        monkeypatch.setitem(sys.modules, "early_pkg", early)
        monkeypatch.setattr(sys, "path", [alias])
        main.follow_path_aliases()
        assert early.__path__ == [alias + "/pkg", "/elsewhere"]
    finally:
        os.close(fd)


def test_setup_failures_are_reported_not_raised(capsys):
    assert main.main(["{not json"]) == main.EXIT_BAD_SETUP
    assert "worker setup failed" in capsys.readouterr().err


def test_privileges_are_left_alone_when_not_asked():
    uid = os.getuid()
    main.drop_privileges(None)
    assert os.getuid() == uid
