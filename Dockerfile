# syntax=docker/dockerfile:1
# seqtagger REST service (and `tagger train` for the compose "train" profile).
#   docker build -t seqtagger .                    # the full image (the last stage): torch
#   docker build --target slim -t seqtagger:slim . # the shipped models exported to ONNX, no torch
#   docker run --rm -p 8000:8000 seqtagger
# Settings come from TAGGER_* environment variables, e.g. TAGGER_MODELS (JSON list or
# comma-separated model directories), TAGGER_API_KEYS, TAGGER_LOG_LEVEL, TAGGER_CORS_ORIGINS,
# TAGGER_MAX_TEXT_LENGTH, TAGGER_WORKERS, TAGGER_DEFAULT_TASKS, TAGGER_TORCH_THREADS.
# The build context is this repository only: training data is never copied in (the compose
# "train" service mounts it as a volume instead).

# Build arguments (defaults for users; a closed build network passes its own):
#   PYTHON_IMAGE     the base image of both stages
#   TORCH_INDEX_URL  where the CPU build of torch 2.13.0 comes from
#   TORCH_EXTRA_INDEX_URL  where its dependencies come from, if that index lacks them
ARG PYTHON_IMAGE=python:3.11-slim
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_EXTRA_INDEX_URL=

# ---------------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder
ARG TORCH_INDEX_URL
ARG TORCH_EXTRA_INDEX_URL

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# A current pip: old ones fail to build some sdists in a fresh venv.
RUN pip install --upgrade pip

# Torch first, as its own cached layer, from the CPU-only wheel index: the image is built on
# machines whose default index would resolve torch to the CUDA build (gigabytes of GPU
# libraries the CPU-only service never uses). The package's own pin (torch==2.13.0) is then
# already satisfied by 2.13.0+cpu.
RUN pip install torch==2.13.0 --index-url "${TORCH_INDEX_URL}" \
    ${TORCH_EXTRA_INDEX_URL:+--extra-index-url "${TORCH_EXTRA_INDEX_URL}"}

# Then the package itself, non-editable, with the serving and training extras; the shipped
# models are part of it (the package seqtagger_models), so nothing runs from the sources.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tagger ./tagger
COPY training ./training
COPY service ./service
COPY models ./models
RUN pip install '.[serve,train]' && pip check

# ----------------------------------------------------------------- exported (ONNX) models
# The shipped models exported to ONNX, for the slim image (torch is needed to export, not to run),
# and GloVe's words as a plain file, so that the slim image needs no pyarrow to read them.
FROM builder AS exporter
ARG ONNX_INT8=0
RUN pip install onnx onnxruntime \
    && for name in conll03-en conll03-pos-chunk ud-ewt-upos; do \
        tagger export "$(python -c "from tagger.locations import default_model_dir as d; print(d('$name'))")" \
            --output "/exported/$name" $([ "$ONNX_INT8" = 1 ] && echo --int8); \
    done \
    && python -c "from pathlib import Path; from tagger.glove import write_glove_words; \
write_glove_words(Path('/exported/glove-words.txt'))"

# ------------------------------------------------------------------------------ slim builder
# Everything the service needs to serve exported models, and no torch: the package's
# requirements minus torch (and pyarrow: no Parquet input, GloVe's words from a plain file)
# plus its [serve] and [onnx] extras, then the package with --no-deps; pip itself removed.
FROM ${PYTHON_IMAGE} AS slim-builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/requirements-without-torch ./scripts/
RUN python scripts/requirements-without-torch serve onnx --without pyarrow > requirements-slim.txt \
    && pip install -r requirements-slim.txt
COPY tagger ./tagger
COPY training ./training
COPY service ./service
COPY models/__init__.py ./models/__init__.py
RUN pip install --no-deps . && ! python -c "import torch" 2>/dev/null \
    && pip uninstall -y -q pip setuptools

# -------------------------------------------------------------------------------------- slim
#   docker build --target slim -t seqtagger:slim .
FROM ${PYTHON_IMAGE} AS slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TAGGER_MODELS=/models/conll03-en,/models/conll03-pos-chunk,/models/ud-ewt-upos \
    TAGGER_GLOVE_WORDS=/models/glove-words.txt \
    TAGGER_HOST=0.0.0.0 \
    TAGGER_PORT=8000 \
    TAGGER_LOG_LEVEL=info
RUN groupadd --system --gid 10001 tagger \
    && useradd --system --uid 10001 --gid tagger --no-create-home --shell /usr/sbin/nologin tagger
COPY --from=slim-builder /opt/venv /opt/venv
COPY --from=exporter /exported /models
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('TAGGER_PORT', '8000'), timeout=3)"]
CMD ["tagger", "serve"]

# ---------------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    TAGGER_HOST=0.0.0.0 \
    TAGGER_PORT=8000 \
    TAGGER_LOG_LEVEL=info

RUN groupadd --system --gid 10001 tagger \
    && useradd --system --uid 10001 --gid tagger --no-create-home --shell /usr/sbin/nologin tagger \
    && mkdir -p /models-trained \
    && chown tagger:tagger /models-trained

# The installed package is the whole application, its shipped models included.
COPY --from=builder /opt/venv /opt/venv
WORKDIR /tmp

# Numeric ids, so that runtimes enforcing "run as non-root" can verify them.
USER 10001:10001
EXPOSE 8000

# python-slim has no curl: probe readiness with the standard library (on TAGGER_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('TAGGER_PORT', '8000'), timeout=3)"]

# Host and port come from TAGGER_HOST / TAGGER_PORT (0.0.0.0:8000 above).
CMD ["tagger", "serve"]
