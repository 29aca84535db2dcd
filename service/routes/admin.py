"""POST /admin/reload: load the configured models again and swap them in without downtime."""

from __future__ import annotations

import os
import signal

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.errors import ReloadError
from service.responses import OrjsonResponse
from service.schemas import ERRORS

router = APIRouter(prefix="/admin", tags=["admin"])
SUPERVISOR_PID = "TAGGER_SUPERVISOR_PID"  # set for worker processes of `tagger serve`


@router.post(
    "/reload",
    summary="Reload the models",
    description="Loads the configured model directories again in the background and swaps "
    "them in atomically; requests keep being answered, by the old models until the new ones "
    "are in. Under `tagger serve` every worker reloads (the answer is 202; `GET /v1/models` "
    "shows each model's `loaded_at`); in a single process the answer comes once the new "
    "models serve (200). SIGHUP to `tagger serve` does the same. Needs the API key when keys "
    "are configured.",
    responses={202: {"description": "Reload requested from every worker."}, 401: ERRORS[401]},
)
async def reload(request: Request) -> Response:
    """Reload every worker's models (through the supervisor) or this process' models."""
    supervisor = os.environ.get(SUPERVISOR_PID)
    if supervisor:
        os.kill(int(supervisor), signal.SIGHUP)  # it forwards SIGHUP to every worker
        return OrjsonResponse({"status": "reloading"}, status_code=202)
    try:
        models = await request.app.state.reload()
    except Exception as error:
        raise ReloadError(f"reload failed, the previous models keep serving: {error}") from error
    return OrjsonResponse(
        {"status": "reloaded", "models": [{"name": m.name, "version": m.version} for m in models]}
    )
