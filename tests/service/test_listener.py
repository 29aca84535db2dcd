"""The worker's listener at drain: new connections are held off, queued ones are kept."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from service.listener import listening_socket, pending_connections, stop_new_connections

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="socket filters are Linux's"
)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = listening_socket("127.0.0.1", 0)
    yield sock
    sock.close()


def connect(port: int, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def test_pending_connections_takes_every_queued_connection_without_blocking(
    listener: socket.socket,
) -> None:
    assert pending_connections(listener) == []
    port = listener.getsockname()[1]
    clients = [connect(port) for _ in range(3)]
    accepted = pending_connections(listener)
    assert len(accepted) == 3
    assert all(not connection.getblocking() for connection in accepted)
    for sock in clients + accepted:
        sock.close()


@linux_only
def test_after_stop_a_new_connection_is_held_off_and_a_queued_one_is_kept(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    queued = connect(port)
    queued.sendall(b"request")
    assert stop_new_connections(listener)
    with pytest.raises(TimeoutError):  # the SYN is dropped: no handshake, no reset
        connect(port, timeout=0.5)
    (connection,) = pending_connections(listener)
    connection.setblocking(True)
    assert connection.recv(16) == b"request"
    connection.sendall(b"answer")
    assert queued.recv(16) == b"answer"
    queued.close()
    connection.close()


@linux_only
def test_a_stopped_listener_leaves_new_connections_to_the_other_workers() -> None:
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)  # another worker on the same port
    assert stop_new_connections(first)
    first.close()
    clients = [connect(port) for _ in range(8)]  # every one lands on the second listener
    accepted = pending_connections(second)
    assert len(accepted) == 8
    for sock in clients + accepted:
        sock.close()
    second.close()
    with pytest.raises(ConnectionRefusedError):
        connect(port)
