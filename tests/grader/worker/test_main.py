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


# ---------------------------------------------------------------- reading and writing frames


def test_fd_reader_serves_what_it_read_ahead_before_reading_again():
    read_fd, write_fd = os.pipe()
    frames = [protocol.pack({"id": n, "x": np.arange(float(n))}) for n in range(1, 5)]
    os.write(write_fd, b"".join(frames))  # several frames in one write, as a fast grader sends them
    os.close(write_fd)
    read_exact = main.fd_reader(read_fd, read_ahead=64)  # smaller than one frame, larger than its pieces
    got = [protocol.decode(protocol.read_frame(read_exact)) for _ in frames]
    with pytest.raises(EOFError):
        protocol.read_frame(read_exact)
    os.close(read_fd)
    assert [r["id"] for r in got] == [1, 2, 3, 4]
    assert [r["x"].tolist() for r in got] == [list(np.arange(float(n))) for n in range(1, 5)]


@pytest.mark.parametrize("sizes, read_ahead", [((3, 5, 1), 4), ((100_000,), 16), ((1, 1, 1), 1 << 16)])
def test_fd_reader_returns_exactly_each_size_asked(sizes, read_ahead):
    data = bytes(range(256)) * (sum(sizes) // 256 + 1)
    read_fd, write_fd = os.pipe()
    writer = os.fork() if sum(sizes) > 60_000 else None  # more than a pipe holds: write from a child
    if writer == 0:
        os.close(read_fd)
        os.write(write_fd, data[:sum(sizes)])
        os._exit(0)
    if writer is None:
        os.write(write_fd, data[:sum(sizes)])
    os.close(write_fd)
    read_exact = main.fd_reader(read_fd, read_ahead=read_ahead)
    start = 0
    for size in sizes:
        assert bytes(read_exact(size)) == data[start:start + size]
        start += size
    with pytest.raises(EOFError):
        read_exact(1)
    os.close(read_fd)
    if writer:
        os.waitpid(writer, 0)


@pytest.mark.parametrize("lengths, written, left", [
    ((4, 4, 10), 0, (4, 4, 10)),
    ((4, 4, 10), 3, (1, 4, 10)),
    ((4, 4, 10), 4, (4, 10)),
    ((4, 4, 10), 9, (9,)),
    ((4, 4, 10), 18, ()),
])
def test_unwritten_is_what_a_partial_write_left(lengths, written, left):
    views = [memoryview(bytes(n)) for n in lengths]
    assert tuple(v.nbytes for v in main.unwritten(views, written)) == left


def test_write_parts_skips_empty_parts_and_takes_more_than_one_writev():
    frame = protocol.encode({"v": [np.full(1, float(i)) for i in range(main.IOV_MAX + 5)], "e": np.zeros(0)})
    read_fd, write_fd = os.pipe()
    writer = os.fork()
    if writer == 0:  # the frame is larger than a pipe holds: write it from a child
        os.close(read_fd)
        main.write_parts(write_fd, frame.parts())
        os._exit(0)
    os.close(write_fd)
    message = protocol.decode(protocol.read_frame(main.fd_reader(read_fd)))
    os.close(read_fd)
    os.waitpid(writer, 0)
    assert [a.tolist() for a in message["v"]] == [[float(i)] for i in range(main.IOV_MAX + 5)]
    assert message["e"].shape == (0,)


# ---------------------------------------------------------------- attaching


def test_await_attach_takes_the_attach_request_and_nothing_else():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, protocol.pack({"op": main.ATTACH, "id": main.ATTACH}) + protocol.pack({"op": "ping", "id": 1}))
    os.close(write_fd)
    read_exact = main.fd_reader(read_fd)
    main.await_attach(protocol, read_exact)
    with pytest.raises(ValueError, match="attach request first"):
        main.await_attach(protocol, read_exact)  # a ping is not an attach
    with pytest.raises(main.NotAttached):
        main.await_attach(protocol, read_exact)  # the grader went away: nothing to do
    os.close(read_fd)
