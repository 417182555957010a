# syntax=docker/dockerfile:1
# The gitflink agent: follows a Git repository and reconciles Flink jobs (`gitflink agent`).
#
# Build from the repository root:   docker build -t gitflink:0.1.0 .
# Run:                              docker run --rm gitflink:0.1.0 --version
# The Helm chart (charts/gitflink) runs it with a read-only root filesystem; what gitflink writes
# goes to /var/lib/gitflink (data: Git clones, status) and /var/cache/gitflink (cache), both
# volumes, and /tmp (an emptyDir in the chart). Nothing of Flink is in the image: gitflink talks
# to Flink over REST and runs clusters through the Kubernetes runtime.
#
# No Docker engine runs on the project's machines: tests/unit/test_image.py parses this file
# with Docker's own parser and checks what can be checked without building it, and installs the
# wheel the first stage builds into a clean venv (`gitflink --version`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# gitflink's extras in the image: `s3` (s3fs) lets the agent clean JobResultStore entries on
# s3:// HA storage (docs/kubernetes.md). `--build-arg EXTRAS=` builds without any.
ARG EXTRAS=s3

FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY gitflink ./gitflink
# Packaged into the wheel as gitflink/sample_repo (setup.py), as for a plain `pip install`.
COPY sample-repo ./sample-repo
# Wheels for gitflink, its runtime dependencies and EXTRAS only (never the `dev` extra); the
# final stage installs offline from them.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".${EXTRAS:+[$EXTRAS]}"

FROM ${PYTHON_IMAGE}
ARG PYTHON_IMAGE
ARG EXTRAS
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="gitflink" \
      org.opencontainers.image.description="GitOps control plane for Apache Flink" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
# git: GitPython drives the git binary; openssh-client: ssh:// remotes with a deploy key.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A venv of its own, so the image's pip and setuptools never mix with gitflink's dependencies.
COPY --from=build /wheels /wheels
RUN python -m venv /opt/gitflink \
 && /opt/gitflink/bin/pip install --no-cache-dir --no-index --find-links /wheels \
        "gitflink${EXTRAS:+[$EXTRAS]}" \
 && rm -rf /wheels
# Non-root with a fixed numeric uid, so Kubernetes' `runAsNonRoot` can verify it.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/gitflink \
        --shell /usr/sbin/nologin gitflink \
 && mkdir -p /var/lib/gitflink /var/cache/gitflink \
 && chown 10001:10001 /var/lib/gitflink /var/cache/gitflink
VOLUME ["/var/lib/gitflink", "/var/cache/gitflink"]
ENV PATH=/opt/gitflink/bin:$PATH \
    HOME=/var/lib/gitflink \
    GITFLINK_DATA_DIR=/var/lib/gitflink \
    GITFLINK_CACHE_DIR=/var/cache/gitflink \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/gitflink
EXPOSE 8080
# `docker run IMAGE` runs the agent, `docker run IMAGE sync ...` any other command. gitflink is
# PID 1 itself: the agent handles SIGTERM (it finishes the pass in flight, pushes status and
# exits), and GitPython waits for every git it starts, so no init process is needed.
ENTRYPOINT ["gitflink"]
CMD ["agent"]
