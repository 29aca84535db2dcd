"""`serve_from_cli`: settings reach the workers through the environment; fail fast; loading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import service.main
import service.server
from service.main import create_app
from service.settings import Settings
from tests.service.helpers import conll_random


@pytest.fixture(autouse=True)
def _restore_process_state() -> Iterator[None]:
    """serve_from_cli writes TAGGER_* variables and installs signal handlers: undo both."""
    environ = dict(os.environ)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    os.environ.clear()
    os.environ.update(environ)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_cli_options_reach_uvicorn_and_the_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    (tmp_path / "m").mkdir()
    service.server.serve_from_cli(host="0.0.0.0", port=9123, workers=2, models=[tmp_path / "m"])
    [call] = calls
    assert call["app"] == "service.main:create_app" and call["factory"] is True
    assert (call["host"], call["port"], call["workers"]) == ("0.0.0.0", 9123, 2)
    assert call["timeout_graceful_shutdown"] == 30
    assert "service" in call["log_config"]["loggers"]
    # Worker processes rebuild Settings from the environment.
    assert Settings().models == [tmp_path / "m"]
    assert Settings().workers == 2 and Settings().port == 9123
    # Several workers: metrics go through prometheus' multiprocess directory (removed after).
    assert "PROMETHEUS_MULTIPROC_DIR" in os.environ
    assert not Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).exists()


def test_missing_model_dir_fails_fast(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("must not start"))
    with pytest.raises(SystemExit) as exit_info:
        service.server.serve_from_cli(models=[tmp_path / "nope"])
    assert exit_info.value.code == 2
    assert "model directory not found" in capsys.readouterr().err


def slow_load(path: Path, int8: bool | None = None) -> Any:
    """A model loader that takes half a second."""
    time.sleep(0.5)
    return conll_random()


def test_several_workers_load_before_they_accept_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service.main, "load_tagger", slow_load)
    app = create_app(Settings(models=[Path("/models/slow")], workers=2))
    with TestClient(app) as client:  # returns once the lifespan's startup is done
        assert client.get("/health/ready").status_code == 200
        assert client.post("/v1/tag", json={"text": "Apple is big."}).status_code == 200


def test_ready_turns_200_once_slow_models_have_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.main, "load_tagger", slow_load)
    app = create_app(Settings(models=[Path("/models/slow")], workers=1))
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200  # answers while loading
        r = client.get("/health/ready")
        assert r.status_code == 503 and "loading" in r.json()["detail"]
        assert client.post("/v1/tag", json={"text": "a"}).status_code == 503
        deadline = time.monotonic() + 30
        while client.get("/health/ready").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.post("/v1/tag", json={"text": "Apple is big."}).status_code == 200


def test_the_supervisor_side_does_not_import_torch() -> None:
    """`tagger serve` with several workers: the supervising process needs settings, not torch."""
    code = (
        "import sys, service.server, tagger.cli; tagger.cli.make_app(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
