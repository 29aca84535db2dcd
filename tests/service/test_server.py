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

import service.loading
import service.server
from service.logs import log_config
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


def test_cli_options_reach_the_workers_through_the_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[Settings] = []

    def run(self: service.server.Supervisor) -> int:
        seen.append(self.settings)
        return 0

    monkeypatch.setattr(service.server.Supervisor, "run", run)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    (tmp_path / "m").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        service.server.serve_from_cli(host="0.0.0.0", port=0, workers=2, models=[tmp_path / "m"])
    assert exit_info.value.code == 0
    [settings] = seen
    assert (settings.host, settings.workers) == ("0.0.0.0", 2)
    assert settings.port > 0  # port 0: one free port, chosen once for every worker
    # Worker processes rebuild Settings from the environment.
    assert Settings().models == [tmp_path / "m"]
    assert Settings().workers == 2 and Settings().port == settings.port
    assert os.environ["TAGGER_SUPERVISOR_PID"] == str(os.getpid())
    # Metrics go through prometheus' multiprocess directory (removed after).
    assert "PROMETHEUS_MULTIPROC_DIR" in os.environ
    assert not Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).exists()


def test_log_config_carries_request_ids_and_json() -> None:
    text = log_config("info")
    assert text["loggers"]["service"]["handlers"] == ["service"]
    assert "%(request_id)s" in text["formatters"]["service"]["format"]
    as_json = log_config("debug", "json")
    assert as_json["formatters"]["service"] == {"()": "service.logs.JsonFormatter"}
    assert as_json["loggers"]["tagger"]["level"] == "DEBUG"


def test_missing_model_dir_fails_fast(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(service.server.Supervisor, "run", lambda self: pytest.fail("started"))
    with pytest.raises(SystemExit) as exit_info:
        service.server.serve_from_cli(models=[tmp_path / "nope"])
    assert exit_info.value.code == 2
    assert "model directory not found" in capsys.readouterr().err


def slow_load(path: Path, int8: bool | None = None, threads: int = 1) -> Any:
    """A model loader that takes half a second."""
    time.sleep(0.5)
    return conll_random()


def test_ready_turns_200_once_slow_models_have_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.loading, "load_tagger", slow_load)
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
