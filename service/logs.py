"""Logging: every line carries the request id of the request it belongs to (``-`` outside one),
as text or as one JSON object a line (``TAGGER_LOG_FORMAT=json``)."""

from __future__ import annotations

import copy
import json
import logging
import time
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str] = ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(level: str, fmt: str = "text") -> dict[str, Any]:
    """uvicorn's logging config with the service's loggers, request ids and the chosen format."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": "service.logs.RequestIdFilter"}}
    formatter = (
        {"()": "service.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S"}
    )
    config["formatters"]["service"] = formatter
    if fmt == "json":
        for name in ("default", "access"):
            config["formatters"][name] = {"()": "service.logs.JsonFormatter"}
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    config["handlers"]["service"] = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    numeric = level.upper() if level != "trace" else "DEBUG"
    for name in ("service", "tagger"):
        config["loggers"][name] = {"handlers": ["service"], "level": numeric, "propagate": False}
    return config
