"""Process trees and their CPU time from Linux /proc, for the benchmarks that start a server."""

from __future__ import annotations

import os
from pathlib import Path


def process_stats() -> dict[int, tuple[int, float]]:
    """Parent pid and user + system CPU seconds of every process (empty off Linux)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        stats[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return stats


def is_helper(pid: int) -> bool:
    """Whether ``pid`` is a multiprocessing helper (resource tracker, fork server), not a worker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" in command or b"forkserver" in command


def process_tree(root: int, stats: dict[int, tuple[int, float]] | None = None) -> list[int]:
    """``root`` and its descendants (empty if ``root`` is not running)."""
    stats = process_stats() if stats is None else stats
    if root not in stats:
        return []
    tree, frontier = [root], {root}
    while frontier:
        frontier = {pid for pid, (parent, _) in stats.items() if parent in frontier}
        tree += sorted(frontier)
    return tree


def tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds of a process and its descendants (None if it is not running)."""
    stats = process_stats()
    tree = process_tree(root, stats)
    return sum(stats[pid][1] for pid in tree) if tree else None
