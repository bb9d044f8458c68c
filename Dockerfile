# jixiao — the site in one image: the corpus is built at image build time and served immutable.
#
#   docker build -t jixiao .
#   docker run --rm -p 8001:8001 --read-only --tmpfs /tmp jixiao
#
# Pinned: the base image by exact tag (add @sha256:… from `docker buildx imagetools inspect
# python:3.11.7-slim-bookworm` when you publish), Python packages by the exact versions in
# pyproject.toml. See docs/deploy.md for running N replicas behind a CDN.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# OpenCV (used by the OCR reader for scanned PDFs) needs these shared libraries on a slim image.
# LibreOffice (for .doc files) is left out of the image: the site serves the bundled corpus, and a
# .doc file gets one clear error naming what to install.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

# An unprivileged user runs the server; it owns nothing in the image.
RUN groupadd --system --gid 10001 jixiao \
 && useradd --system --uid 10001 --gid jixiao --home-dir /nonexistent --shell /usr/sbin/nologin jixiao

WORKDIR /app

# Dependencies first (cached layer): the package with its pinned requirements.
COPY pyproject.toml README.md ./
COPY jixiao/ jixiao/
RUN python -m venv "$VIRTUAL_ENV" \
 && "$VIRTUAL_ENV/bin/pip" install --no-compile . \
 && "$VIRTUAL_ENV/bin/jixiao" --version

# The site and the corpus.
COPY metadata.yml datasette.yml ./
COPY plugins/ plugins/
COPY templates/ templates/
COPY static/ static/
COPY reports/ reports/

# Build the database and the data packages, then the inspect file (row counts, hash) that lets
# Datasette serve the immutable file without counting rows at start-up; written where `jixiao
# serve` looks for it (beside the database version build/jixiao.db points to), since the root file
# system is read-only at run time. Outputs are root-owned and read-only for the server user.
RUN "$VIRTUAL_ENV/bin/jixiao" build reports --out build/jixiao.db --packages datapackages --no-cache --workers 2 \
 && "$VIRTUAL_ENV/bin/python" -c "from jixiao.serve import Site, ensure_inspect; s = Site(); ensure_inspect(s.db, s.db.parent / 'inspect-data.json')" \
 && rm -rf build/cache \
 && chmod -R a+rX,go-w .

USER jixiao:jixiao
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/-/versions.json', timeout=4)"]
CMD ["jixiao", "serve", "--host", "0.0.0.0", "--port", "8001"]
