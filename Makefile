# jixiao — two commands: `make serve` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install build serve test bench bench-scale browser office clean

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

# The test files run in parallel, one file to a worker (module fixtures are built once), on as many
# workers as cores: at least 2, at most 4 (each may start servers, Chromium or the OCR models).
# In the order collected (xdist would put the files with most tests first): the few files that run a
# minute or more come first (tests/conftest.py), so no worker ends with one alone.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; [ $$n -lt 2 ] && n=2; echo $$n)

test: install browser office
	$(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

bench: install
	$(BIN)/python benchmarks/run.py

# Issue 16 (scale): 2,000 and 10,000 synthetic reports, each page against stock Datasette in the
# same run, the build against its floor; then the BENCHMARKS.md tables. Takes an hour on 2 cores.
bench-scale: install
	$(BIN)/python benchmarks/run.py --sizes 2000 --requests 60 --skip-parse
	$(BIN)/python benchmarks/run.py --sizes 10000 --requests 60 --skip-parse --max-rebuild 2000
	$(BIN)/python benchmarks/report.py build/bench/results-2000.json build/bench/results-10000.json

clean:
	rm -rf build $(VENV)
