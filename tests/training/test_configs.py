"""The shipped training configs: every one validates, and the Docker copy stays in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    config = load_config(path)
    assert config.data.train is not None or config.data.hf is not None


def test_docker_config_differs_from_the_default_recipe_only_in_paths() -> None:
    default = load_config(CONFIGS / "conll03.yaml").model_dump()
    docker = load_config(CONFIGS / "conll03-docker.yaml").model_dump()
    for config in (default, docker):
        config.pop("output_dir")
        for split in ("train", "valid", "test"):
            assert Path(config["data"].pop(split)).name == f"{split}.txt"
    assert docker == default
