"""Settings from TAGGER_* variables: lists as JSON or comma-separated, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import settings as settings_module
from service.settings import Settings, default_model_dirs


def test_defaults() -> None:
    s = Settings()
    assert s.max_text_length == 100_000
    assert s.max_documents == 64
    assert s.api_keys == [] and s.api_key_header == "X-API-Key"
    assert s.models == default_model_dirs()
    assert s.models[0].name == "conll03-en"


def test_lists_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGGER_MODELS", "/m/a, /m/b")
    monkeypatch.setenv("TAGGER_API_KEYS", '["k1", "k2"]')
    monkeypatch.setenv("TAGGER_CORS_ORIGINS", "https://a.example")
    monkeypatch.setenv("TAGGER_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("TAGGER_MAX_WAIT_MS", "0")
    monkeypatch.setenv("TAGGER_DEFAULT_TASKS", "ner, pos")
    s = Settings()
    assert s.models == [Path("/m/a"), Path("/m/b")]
    assert s.api_keys == ["k1", "k2"]
    assert s.cors_origins == ["https://a.example"]
    assert s.log_level == "warning"
    assert s.max_wait_ms == 0
    assert s.default_tasks == ["ner", "pos"]


def test_empty_env_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGGER_MODELS", "")  # as docker-compose passes an unset variable
    monkeypatch.setenv("TAGGER_API_KEYS", "")
    s = Settings()
    assert s.models == default_model_dirs()
    assert s.api_keys == []


def test_models_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("conll03-en", "conll03-pos-chunk", "ud-ewt-upos"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(tmp_path))
    names = ["conll03-en", "conll03-pos-chunk", "ud-ewt-upos"]
    assert Settings().models == [tmp_path / name for name in names]
    monkeypatch.delenv("TAGGER_MODELS_DIR")
    repo_root = Path(__file__).resolve().parents[2]
    assert all(p.is_relative_to(repo_root) for p in Settings().models)


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 2), (3, 3), (16, 4)])
def test_default_workers_follow_the_available_cpus(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int
) -> None:
    monkeypatch.setattr(settings_module.os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert Settings().workers == workers
    monkeypatch.setenv("TAGGER_WORKERS", "1")
    assert Settings().workers == 1
