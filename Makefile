# One-command set-up: `make run` and `make test` each build .venv from scratch when it is missing.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export MPLBACKEND ?= Agg

.PHONY: run test lint typecheck pytest gnugo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU wheel lies on local disk; any other torch request pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,atari]"
	touch $(STAMP)

# GnuGo is the real Go engine the Go and arena tests play against; they skip when it is absent.
gnugo:
	@if command -v gnugo >/dev/null 2>&1 || test -x /usr/games/gnugo; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq gnugo) >/dev/null 2>&1 \
		|| echo "note: could not install gnugo; GnuGo tests will skip"; \
	else echo "note: gnugo missing (sudo apt-get install gnugo); GnuGo tests will skip"; fi

run: $(STAMP)
	$(BIN)/rlsuite run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) gnugo
	$(BIN)/pytest -q -n 2

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]"
	for b in scripts/bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache *.egg-info
