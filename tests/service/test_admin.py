"""POST /admin/reload in one process: the configured models load again and swap in; a model
that no longer loads leaves the old ones serving; the API key guards it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.service.helpers import conll_random


def loaded_at(client: TestClient) -> float:
    [model] = client.get("/v1/models").json()["models"]
    return model["loaded_at"]


def wait_ready(client: TestClient) -> None:
    deadline = time.monotonic() + 60
    while client.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@contextmanager
def serving(model: Path, **settings: Any) -> Iterator[TestClient]:
    """An app serving a random model saved at ``model``, once it is ready."""
    conll_random(seed=1).save(model)
    with TestClient(create_app(Settings(models=[model], **settings))) as client:
        wait_ready(client)
        yield client


def test_reload_swaps_in_the_models_on_disk(tmp_path: Path) -> None:
    model = tmp_path / "model"
    with serving(model) as client:
        before = loaded_at(client)
        first = client.post("/v1/tag", json={"text": "Angela Merkel met Emmanuel Macron."}).json()
        conll_random(seed=2).save(model)
        answer = client.post("/admin/reload")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "reloaded"
        assert loaded_at(client) > before
        second = client.post("/v1/tag", json={"text": "Angela Merkel met Emmanuel Macron."}).json()
        assert second["documents"] != first["documents"]  # the new weights answer


def test_a_failed_reload_keeps_the_old_models(tmp_path: Path) -> None:
    model = tmp_path / "model"
    with serving(model) as client:
        before = loaded_at(client)
        (model / "model.safetensors").write_bytes(b"broken")
        answer = client.post("/admin/reload")
        assert (
            answer.status_code == 500 and "previous models keep serving" in answer.json()["detail"]
        )
        assert loaded_at(client) == before
        assert client.post("/v1/tag", json={"text": "Still fine."}).status_code == 200


def test_reload_needs_the_api_key(tmp_path: Path) -> None:
    with serving(tmp_path / "model", api_keys=["s3cret"]) as client:
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"X-API-Key": "s3cret"}).status_code == 200
