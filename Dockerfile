# The action's image. Two stages on one base: pip runs in the first, against a lock that carries
# a hash for every file it may install; the second receives only /app, and loses pip,
# setuptools and wheel, so nothing that installs or builds Python packages is left in the image
# the runner starts (the slim base has no compiler).
#
# The base is Python 3.11, the version CI tests, pinned by digest; Dependabot moves the digest
# (.github/dependabot.yml). README.md's "The image" says why this base and not a smaller one.

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY requirements/action.txt scripts/image-app /src/
COPY LICENSE /app/
COPY versioned_action /app/versioned_action
COPY entrypoint /app/entrypoint
# The lock's wheels (every dependency is pure Python), each checked against its hash; the
# service models the action uses; bytecode compiled once. scripts/image-app says how.
RUN sh /src/image-app /app /src/action.txt

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="versioned-action" \
      org.opencontainers.image.description="Versioned, immutable artifacts in your own S3 bucket, with aliases, canaries and rollback." \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app:/app/site-packages
# pip, setuptools and wheel out, and ensurepip with the pip wheel it carries, so that nothing
# in the image can install a package (the release checks that `import pip` fails).
RUN python -m pip uninstall --yes --quiet --root-user-action=ignore pip setuptools wheel \
    && rm -rf /usr/local/lib/python3.11/ensurepip /usr/local/bin/pip* /root/.cache
COPY --from=build /app /app
# No USER: the runner mounts the workspace and the output files for root (GitHub's contract
# for container actions).
ENTRYPOINT ["python", "/app/entrypoint/main.py"]
