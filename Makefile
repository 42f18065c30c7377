# trueup — two commands matter: `make demo` and `make test`. Both bootstrap .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(HOME)/trueup-demo

.PHONY: demo test check lint typecheck unit tools sshd bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/trueup demo $(DEMO_DIR)
	@echo "trueup is in $(CURDIR)/$(BIN): run 'source .venv/bin/activate' here to put it on PATH, then 'cd $(DEMO_DIR)'"

# The whole suite: lint, types, unit + TUI + integration tests (sim and real control plane).
test: $(STAMP) check tools sshd
	TRUEUP_TOOLS_BIN=$$(bash scripts/build-tools.sh helm) PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# ruff, ruff format, import-linter contracts (pyproject.toml [tool.importlinter]) and mypy.
check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check console widgets themes tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The repository tests run a real sshd on 127.0.0.1: install Debian's openssh-server when missing.
sshd:
	@test -x /usr/sbin/sshd || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server; } || \
		{ echo "make test: openssh-server is missing; install it with: apt-get install -y openssh-server" >&2; exit 1; }

# Real binaries the tests run: helm and the control plane (etcd, kube-apiserver, kcm, scheduler, kwok).
tools:
	@bash scripts/build-tools.sh all >/dev/null

bench: $(STAMP)
	$(BIN)/python bench/refresh.py
	$(BIN)/python bench/console.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py
