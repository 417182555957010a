# syntax=docker/dockerfile:1
# The gitflink agent: watches a Git repository and reconciles Flink jobs (`gitflink agent`).
#
# Not built or tested by this repository's CI: the development and CI machines have no Docker
# engine. Build from the repository root with `docker build -t gitflink:dev .`. The Helm chart in
# charts/gitflink runs this image once the agent issue fills it in. There is no Java in the image:
# in a cluster the agent drives Flink on Kubernetes (that runtime is not built yet), not local JVMs.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY gitflink ./gitflink
# Packaged into the wheel as gitflink/sample_repo (setup.py), as for a plain `pip install`.
COPY sample-repo ./sample-repo
# Wheels for gitflink and every dependency; the runtime stage installs offline from them.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# git: GitPython drives the git binary; openssh-client: ssh:// remotes with a deploy key;
# tini: PID 1 that forwards SIGTERM, so a pass in flight can finish its step and exit cleanly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels gitflink \
 && rm -rf /wheels
# Non-root, with a fixed uid so Kubernetes `runAsNonRoot` can verify it.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/gitflink \
        --shell /usr/sbin/nologin gitflink \
 && mkdir -p /var/lib/gitflink /var/cache/gitflink \
 && chown gitflink:gitflink /var/lib/gitflink /var/cache/gitflink
USER 10001:10001
ENV HOME=/home/gitflink \
    GITFLINK_DATA_DIR=/var/lib/gitflink \
    GITFLINK_CACHE_DIR=/var/cache/gitflink \
    PYTHONUNBUFFERED=1
WORKDIR /home/gitflink
ENTRYPOINT ["tini", "--", "gitflink", "agent"]
