"""Joining a running Ray cluster: a failed connection says why and what to do."""

from __future__ import annotations

from typing import Any

import pytest

from training.ray_engine import join
from training.tag_file import TagFileError


class RefusingRay:
    """Stands in for the ``ray`` module: ``init`` fails as Ray's does, with ``cause`` beneath."""

    def __init__(self, cause: Exception | None) -> None:
        self.cause = cause
        self.calls: list[dict[str, Any]] = []

    def init(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.cause is not None:
            raise ConnectionError(
                "Failed to connect to Ray cluster at 10.0.0.1:6379"
            ) from self.cause


def test_join_passes_the_address_and_options_to_ray() -> None:
    ray = RefusingRay(None)
    join(ray, "10.0.0.1:6379", {"log_to_driver": False})
    assert ray.calls == [{"address": "10.0.0.1:6379", "log_to_driver": False}]


def test_a_cluster_that_wants_a_token_is_named_with_the_setting_that_sends_it() -> None:
    refused = RuntimeError("RPC error: InvalidAuthToken: Authentication token is missing")
    with pytest.raises(TagFileError, match="RAY_AUTH_MODE=token") as raised:
        join(RefusingRay(refused), "10.0.0.1:6379", {})
    assert str(raised.value).startswith("--address: could not join the Ray cluster at 10.0.0.1")


def test_an_unreachable_cluster_is_reported_without_the_token_hint() -> None:
    with pytest.raises(TagFileError, match="is it running") as raised:
        join(RefusingRay(RuntimeError("Failed to connect to GCS")), "10.0.0.1:6379", {})
    assert "RAY_AUTH_MODE" not in str(raised.value)
