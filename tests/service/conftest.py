"""Fixtures: small random taggers (no trained model needed) served through a TestClient."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tagger import Tagger
from tests.service.helpers import ClientFactory, conll_random, ud_random


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings in tests come from the test, not from TAGGER_* variables of the shell."""
    for name in list(os.environ):
        if name.startswith("TAGGER_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def conll_tagger() -> Tagger:
    return conll_random()


@pytest.fixture(scope="session")
def ud_tagger() -> Tagger:
    return ud_random()


@pytest.fixture()
def make_client(conll_tagger: Tagger, ud_tagger: Tagger) -> ClientFactory:
    """``with make_client(taggers=[...], **settings) as client``: an app with the given settings."""

    @contextmanager
    def factory(taggers: list[Any] | None = None, **settings: Any) -> Iterator[TestClient]:
        app = create_app(
            Settings(**settings), taggers=taggers if taggers is not None else [conll_tagger]
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client

    return factory


@pytest.fixture()
def client(make_client: ClientFactory) -> Iterator[TestClient]:
    """The CoNLL-like random model alone, default settings."""
    with make_client() as c:
        yield c


@pytest.fixture()
def client2(
    make_client: ClientFactory, conll_tagger: Tagger, ud_tagger: Tagger
) -> Iterator[TestClient]:
    """Two models side by side: conll-random (default) and ud-random."""
    with make_client(taggers=[conll_tagger, ud_tagger]) as c:
        yield c
