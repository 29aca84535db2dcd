"""The service's own errors, raised by planning, limits and batching. The one place that turns
them into HTTP responses is ``service.responses`` (``STATUS``)."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service cannot answer as asked."""


class NotReadyError(ServiceError):
    """The models are still loading, failed to load, or the service is shutting down."""


class UnknownModelError(ServiceError):
    """A request names a model that is not loaded."""


class UnknownTaskError(ServiceError):
    """A request names a task no (selected) model offers."""


class TooLargeError(ServiceError):
    """A document longer than the configured limit."""


class InvalidInputError(ServiceError):
    """Input the models cannot read: too many documents, empty tokens, broken Unicode."""


class ShuttingDownError(ServiceError):
    """Work submitted after shutdown began (the batcher no longer accepts any)."""


class OverloadedError(ServiceError):
    """The worker's queue of work is full: try again shortly (or another replica)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeadlineExceededError(ServiceError):
    """The request's deadline passed before its work reached the model."""


class ReloadError(ServiceError):
    """Reloading the models failed; the models loaded before keep serving."""
