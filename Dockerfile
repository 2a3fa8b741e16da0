# The connector image, in the shape of Airbyte's python-connector template: install into the base
# image's /usr/local in a builder stage, copy that into a clean stage, run the console script.
# The base image (Python 3.11) is pinned by digest and must equal metadata.yaml's
# connectorBuildOptions.baseImage (unit_tests/test_packaging.py checks both). `make test-image` passes
# a stand-in of the same layout as BASE_IMAGE where the pinned one cannot be pulled.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE} AS builder

WORKDIR /airbyte/integration_code
COPY pyproject.toml requirements.lock README.md ./
COPY source_customerio ./source_customerio
# requirements.lock pins every runtime dependency to the versions the tests ran with.
RUN pip install --no-cache-dir --constraint requirements.lock .

FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code
COPY --from=builder /usr/local /usr/local

USER airbyte
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/source-customerio"
ENTRYPOINT ["/usr/local/bin/source-customerio"]

LABEL io.airbyte.name=airbyte/source-customerio
LABEL io.airbyte.version=0.5.3
