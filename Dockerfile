# The image every component of the Kubeflow V2 pipeline runs in (pipeline/kubeflow_v2_runner.py).
# Python 3.11 on Debian 12, the pinned TFX 1.16 environment, and mian installed, so that the module
# file's functions (mian.pipeline.module_file) and the custom components import by name. The compiled
# pipeline spec sets each step's command (TFX's Kubeflow V2 container entrypoint).
FROM python:3.11-slim-bookworm

ENV TF_USE_LEGACY_KERAS=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

WORKDIR /mian
# Dependencies first: the layer is rebuilt only when the pins change.
COPY requirements.txt constraints.txt ./
RUN pip install --ignore-requires-python -r requirements.txt

COPY pyproject.toml README.md ./
COPY mian_keras ./mian_keras
COPY mian ./mian
COPY components ./components
COPY pipeline ./pipeline
COPY serving ./serving
COPY configs ./configs
COPY schema ./schema
RUN pip install --no-deps . && rm -rf build
