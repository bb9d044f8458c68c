# jixiao — two commands: `make serve` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install build serve test bench browser office clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

build: install
	$(BIN)/jixiao build

serve: build
	$(BIN)/jixiao serve

# Headless Chromium for the real-browser test (Debian package). If it cannot be
# installed, that test is skipped with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "chromium could not be installed; the browser test will be skipped"; \
	  else echo "no root/apt-get: chromium not installed; the browser test will be skipped"; fi; }

# LibreOffice (reads legacy .doc; the fixture scripts also use it) and poppler (pdftoppm, for the
# scan fixtures) from Debian's packages. `make serve` does not need them: without LibreOffice a
# .doc file gets one clear error naming what to install. The .doc tests skip with that message.
office:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils >/dev/null) \
	      || echo "LibreOffice could not be installed; the .doc tests will be skipped"; \
	  else echo "no root/apt-get: LibreOffice not installed; the .doc tests will be skipped"; fi; }

test: install browser office
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build $(VENV)
