"""Fixtures for the client tests: a real HTTP server on 127.0.0.1 (pytest-httpserver), sample wire bodies,
and clients whose backoff sleeps are recorded instead of slept."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_samples import API_KEY
from pytest_httpserver import HTTPServer

import bnpl.client as bc


class Sleeps(list[float]):
    """Records the backoff delays the client asked for, instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(httpserver: HTTPServer, sleeps: Sleeps) -> Iterator[Callable[..., bc.Client]]:
    clients: list[bc.Client] = []

    def factory(**options: Any) -> bc.Client:
        options.setdefault("api_key", API_KEY)
        options.setdefault("base_url", httpserver.url_for("/"))
        options.setdefault("_sleep", sleeps)
        client = bc.Client(**options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., bc.Client]) -> bc.Client:
    return make_client()


@pytest.fixture
def make_async_client(httpserver: HTTPServer, sleeps: Sleeps) -> Callable[..., bc.AsyncClient]:
    def factory(**options: Any) -> bc.AsyncClient:
        options.setdefault("api_key", API_KEY)
        options.setdefault("base_url", httpserver.url_for("/"))
        options.setdefault("_sleep", sleeps.async_sleep)
        return bc.AsyncClient(**options)

    return factory


@pytest.fixture
def refused_url() -> str:
    """A 127.0.0.1 URL whose port has nothing listening (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A 127.0.0.1 URL that accepts TCP connections but never answers (read timeouts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
