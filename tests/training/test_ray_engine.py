"""Joining a running Ray cluster: a failed connection says why and what to do; an instance a
job connected to is let go when the job ends, one it found connected is left as it was."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from training import ray_engine
from training.ray_engine import join, run_ray
from training.tag_input import TagFileError


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


class RecordingRay:
    """Stands in for the ``ray`` module: records connections and disconnections."""

    def __init__(self, initialized: bool) -> None:
        self.initialized = initialized
        self.calls: list[str] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: Any) -> None:
        self.calls.append("init" if "address" not in kwargs else f"join {kwargs['address']}")
        self.initialized = True

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        self.initialized = False


@pytest.fixture()
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> Callable[..., RecordingRay]:
    def use(initialized: bool, fails: bool = False) -> RecordingRay:
        ray = RecordingRay(initialized)
        monkeypatch.setitem(sys.modules, "ray", ray)
        for name in ("RAY_DATA_USAGE_DISABLED", "RAY_worker_niceness"):  # run_ray sets these
            monkeypatch.delenv(name, raising=False)  # removed again after the test

        def pipeline(*args: Any) -> list[Any]:
            ray.calls.append("tag")
            if fails:
                raise RuntimeError("an actor could not be created")
            return []

        monkeypatch.setattr(ray_engine, "_tag_on_ray", pipeline)
        return ray

    return use


@pytest.mark.parametrize("address", [None, "10.0.0.1:6379"])
def test_a_job_lets_go_of_the_instance_it_connected_to(
    fake_ray: Callable[..., RecordingRay], address: str | None
) -> None:
    ray = fake_ray(initialized=False)
    run_ray([], None, "jsonl", workers=2, address=address)
    assert ray.calls == ["init" if address is None else f"join {address}", "tag", "shutdown"]


def test_a_failed_job_lets_go_of_its_instance_too(fake_ray: Callable[..., RecordingRay]) -> None:
    ray = fake_ray(initialized=False, fails=True)
    with pytest.raises(RuntimeError, match="actor"):
        run_ray([], None, "jsonl", workers=2)
    assert ray.calls == ["init", "tag", "shutdown"]


def test_an_instance_already_connected_is_used_and_kept(
    fake_ray: Callable[..., RecordingRay],
) -> None:
    ray = fake_ray(initialized=True)
    run_ray([], None, "jsonl", workers=2, address="10.0.0.1:6379")
    assert ray.calls == ["tag"] and ray.is_initialized()
