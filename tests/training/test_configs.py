"""The shipped training configs all validate (.ci/run also checks the Docker copy against the
default recipe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    config = load_config(path)
    assert config.data.train is not None or config.data.hf is not None
