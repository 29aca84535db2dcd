"""Admission control: a bounded amount of queued work per worker, counted in tokens.

A request is admitted only while the tokens of the requests in flight plus its own stay under
``max_queued_tokens``; beyond that it is answered 503 with ``Retry-After`` at once, instead of
a place in a queue that cannot drain before the client gives up. An idle worker always admits
one request, however big (it is bounded by ``max_text_length`` and ``max_documents``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import OverloadedError

CHARS_PER_TOKEN = 5  # a text's tokens are estimated before tokenising it (English: ~5.5)


def estimate_tokens(texts: list[str]) -> int:
    """Tokens a request will carry, estimated from its characters (cheap, before tokenising)."""
    return sum(len(text) // CHARS_PER_TOKEN + 1 for text in texts)


class WorkBudget:
    """Tokens admitted and not finished yet, against a limit (one per worker process)."""

    def __init__(self, max_tokens: int, retry_after_s: int = 1) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        self.max_tokens = max_tokens
        self.retry_after_s = retry_after_s
        self.in_flight = 0

    @contextmanager
    def admit(self, tokens: int) -> Iterator[None]:
        """Hold ``tokens`` of the budget while the block runs; OverloadedError when full."""
        if self.in_flight and self.in_flight + tokens > self.max_tokens:
            raise OverloadedError(
                f"overloaded: {self.in_flight} tokens in flight, a request of ~{tokens} more "
                f"would pass max_queued_tokens ({self.max_tokens}); retry shortly",
                self.retry_after_s,
            )
        self.in_flight += tokens
        try:
            yield
        finally:
            self.in_flight -= tokens
