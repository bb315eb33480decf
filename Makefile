# Two commands on a fresh machine: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime-installed
SOURCES := mock_server contract_tests tests fixtures bench examples container_tests ui_tests soak_tests
EXAMPLE := examples/client_project
EXAMPLE_BIN := $(EXAMPLE)/.venv/bin
EXAMPLE_STAMP := $(EXAMPLE)/.venv/.installed

.PHONY: install serve test lint typecheck unit contract contract-selfcheck fairness example \
	example-install stress soak bench bench-peers bench-proxy clean wheels image image-test ui-test \
	ui-if-present

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The server alone needs only the package's own dependencies, not the dev tools.
$(RUNTIME_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

serve: $(RUNTIME_STAMP)
	$(BIN)/audjust-mock serve

lint: install
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -m "not fairness"

# Not part of `make test` (about 3 min on 2 cores; .ci/run runs it): the contract suite against the
# mock behind each fair variation of tests/fairness.py, which it must pass with the findings due.
fairness: install
	$(BIN)/pytest -m fairness -n 2 -p no:cacheprovider

# Check any target against the contract: make contract BASE_URL=... API_KEY=... SOURCE_URL=...
contract: install
	$(BIN)/pytest contract_tests \
		$(if $(BASE_URL),--base-url '$(BASE_URL)') $(if $(API_KEY),--api-key '$(API_KEY)') \
		$(if $(SOURCE_URL),--source-url '$(SOURCE_URL)') \
		$(if $(WEBHOOK_URL),--webhook-url '$(WEBHOOK_URL)') \
		$(if $(WEBHOOK_LISTEN),--webhook-listen '$(WEBHOOK_LISTEN)') \
		$(if $(MAX_CREDITS),--max-credits '$(MAX_CREDITS)') \
		$(if $(READINGS),--readings '$(READINGS)')

# The suite against the mock twice: in-process, and as a separate `serve` process; with
# --readings enforce, so the mock holds itself to its readings of the reference and to the
# choices it publishes at /_mock/fidelity (a live run only reports departures from those).
contract-selfcheck: install
	$(BIN)/pytest contract_tests -q --readings enforce
	$(BIN)/python -m contract_tests.against_serve -q --readings enforce

# The example client project in a virtual environment of its own, with audjust-mock installed
# from this checkout as a package (not editable): the plugin as someone else's project gets it.
$(EXAMPLE_STAMP): pyproject.toml $(EXAMPLE)/pyproject.toml
	rm -rf $(EXAMPLE)/.venv
	$(PYTHON) -m venv $(EXAMPLE)/.venv
	$(EXAMPLE_BIN)/python -m pip install --quiet --upgrade pip
	$(EXAMPLE_BIN)/python -m pip install --quiet . '$(EXAMPLE)[test]'
	touch $(EXAMPLE_STAMP)

example-install: $(EXAMPLE_STAMP)
	$(EXAMPLE_BIN)/python -m pip install --quiet --no-deps --force-reinstall . '$(EXAMPLE)'
	rm -rf build

example: example-install
	cd $(EXAMPLE) && .venv/bin/pytest -q -p no:cacheprovider

test: lint typecheck unit contract-selfcheck example ui-if-present

# The dashboard's browser tests inside `make test` when a browser is here, and a plain line saying
# so when not: `make test` never installs one (make ui-test does).
ui-if-present: install
	@if command -v chromium > /dev/null && command -v chromedriver > /dev/null; then \
		$(BIN)/pytest ui_tests -q -p no:cacheprovider; \
	else \
		echo "ui_tests SKIPPED: no chromium and chromedriver here (make ui-test installs them)"; \
	fi

# The dashboard in a real browser (docs/dashboard.md): Debian's chromium and chromium-driver,
# installed here when missing (as root, as CI runs), driven headless by Selenium; about 25 s once
# the browser is there.
ui-test: install
	command -v chromium > /dev/null && command -v chromedriver > /dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver; }
	$(BIN)/pytest ui_tests -p no:cacheprovider

# Not part of `make test`: the example suite and the service tests, STRESS_ROUNDS times (default 3)
# with every core kept busy, so a test that waits on timing instead of a condition shows itself.
stress: install example-install
	$(BIN)/python -m bench.stress

# Not part of `make test`: a shared mock through 5,000 namespaces and a proxy through 18,000
# exchanges, asserting that what each keeps stays within its bounds (about two minutes).
soak: install
	$(BIN)/pytest soak_tests -s -p no:cacheprovider

bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

# Not part of `make test`: the mock beside Prism, Mockoon and WireMock under wrk, about four
# minutes; the peers are installed into .peers/ and wrk with apt-get, a peer whose runtime is
# missing is skipped. Writes its section of BENCHMARKS.md. PIN=1 pins wrk and the servers to cores.
bench-peers: install
	$(BIN)/python -m bench.peers $(if $(PIN),--pin)

# Not part of `make test`: a `serve` mock under wrk directly, through `audjust-mock proxy` and
# through Prism's validation proxy, about three minutes; Prism is installed into .peers/ (skipped
# without Node). Writes its section of BENCHMARKS.md. PIN=1 as above.
bench-proxy: install
	$(BIN)/python -m bench.proxy_peers $(if $(PIN),--pin)

# The container (docs/container.md). The image is built from wheels made here (pytest's too, for
# the contract-suite runner image-test builds), so its build needs no network; where the default
# base cannot be pulled, a Debian base is made here and cached.
IMAGE ?= audjust-mock:local
BASE ?=
WHEELS := build/wheels
WHEELS_STAMP := $(WHEELS)/.built

$(WHEELS_STAMP): pyproject.toml $(shell find mock_server schemas fixtures/songs -type f -not -path '*/__pycache__/*')
	rm -rf $(WHEELS) build/lib
	$(PYTHON) -m pip wheel --quiet --only-binary=:all: --wheel-dir $(WHEELS) . pip pytest
	rm -rf build/lib build/bdist.* *.egg-info
	touch $(WHEELS_STAMP)

wheels: $(WHEELS_STAMP)

image: wheels
	container/docker-daemon.sh start
	container/build-image.sh '$(IMAGE)' '$(BASE)'

# Starts dockerd if none answers (and stops it after), builds the image, then container_tests/.
image-test: install
	container/image-test.sh

clean:
	rm -rf $(VENV) $(EXAMPLE)/.venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache .peers
