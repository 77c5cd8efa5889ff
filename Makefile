# The two commands of the README: `make demo` and `make test`.
# Both install the pinned stack into .venv/ first when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test lint clean

install:
	@VENV=$(abspath $(VENV)) bash tools/install.sh

demo: install
	$(PY) tools/demo.py

lint: install
	$(PY) -m ruff check mmpixpro tools tests configs setup.py

test: lint
	$(PY) -m pytest tests

clean:
	rm -rf $(VENV) work_dirs .pytest_cache .ruff_cache *.egg-info
