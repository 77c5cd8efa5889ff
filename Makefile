# The two commands of the README: `make demo` and `make test`.
# Both install the pinned stack into .venv/ first when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
# `make install WHEELHOUSE=DIR`: a node without internet, with its own torch,
# installs from DIR (tools/misc/make_wheelhouse.sh), nothing downloaded.
WHEELHOUSE ?=

.PHONY: install demo test test-all lint docs clean

install:
	@VENV=$(abspath $(VENV)) $(if $(WHEELHOUSE),WHEELHOUSE=$(abspath $(WHEELHOUSE))) \
		bash tools/install.sh

demo: install
	$(PY) tools/demo.py

lint: install
	$(PY) -m ruff check mmpixpro tools tests configs setup.py .dev_scripts

# `heavy` tests (development tooling, pytest.ini) run with `make test-all`.
# Two workers, a test file on one worker from start to end (its fixtures and
# order kept); `make test TEST_WORKERS=0` runs in this process alone.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: lint
	$(PY) -m pytest tests -m "not heavy" $(XDIST)

test-all: lint
	$(PY) -m pytest tests $(XDIST)

# The documentation (docs/en, Sphinx + MyST) into build/docs/html; warnings
# are errors, as in tests/test_docs.py.
docs: install
	$(PY) -m sphinx -W --keep-going -b html docs/en build/docs/html

clean:
	rm -rf $(VENV) work_dirs .pytest_cache .ruff_cache *.egg-info
