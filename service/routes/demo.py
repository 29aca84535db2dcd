"""GET /: the self-contained demo page (static HTML, JS and CSS; no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["demo"])


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The demo page; it calls POST /v1/tag from the browser (with a key typed by the user)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
