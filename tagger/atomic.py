"""Replacing a directory atomically: readers (and a run resumed after kill -9) always find
either the old directory or the new one, never none."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
STAGING_PREFIX = "."  # staging directories are ``.NAME.<random>`` beside ``NAME``


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_directory(staging: Path, target: Path) -> None:
    """Put the complete directory ``staging`` in place of ``target`` (which may not exist).

    With an existing target the two are exchanged in one step and the old one, now under the
    staging name, is removed; where the file system cannot exchange, the old directory is
    renamed aside first (a moment without ``target``, then ``clean_staging`` recovers).
    """
    if not target.exists():
        os.replace(staging, target)
        return
    if not _exchange(staging, target):
        aside = target.with_name(f"{STAGING_PREFIX}{target.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(target, aside)
        os.replace(staging, target)
    shutil.rmtree(staging, ignore_errors=True)  # the old directory, after the exchange


def clean_staging(target: Path) -> None:
    """Remove staging directories a killed writer left beside ``target``; if ``target`` itself
    is missing but an old copy was set aside, put that copy back."""
    parent = target.parent
    if not parent.is_dir():
        return
    aside = parent / f"{STAGING_PREFIX}{target.name}.old"
    if not target.exists() and aside.is_dir():
        os.replace(aside, target)
    for leftover in parent.glob(f"{STAGING_PREFIX}{target.name}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
