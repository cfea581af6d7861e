# The two commands every new user runs (see README.md):
#   make lab   install what is missing, build, bring the guide's cluster up
#   make test  install what is missing, build, run every test
SWIFT ?= swift
SWIFT_FLAGS ?=
# A hung test must fail the run, not eat CI's whole time budget.
TEST_TIMEOUT ?= 30m

.PHONY: lab test build deps clean

deps:
	@echo "==> checking dependencies (etcd, HAProxy, PostgreSQL 18, service user)"
	@bash scripts/install-deps.sh

build: deps
	@echo "==> building vigil and vigilctl"
	@$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	@echo "built: $$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)/vigil and vigilctl"

test: build
	@echo "==> running every test (unit, configuration, integration against real etcd, PostgreSQL 18 and Patroni)"
	@bash scripts/clean-test-servers.sh
	@status=0; timeout --signal=KILL $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build --skip SimulationTests \
	  || status=$$?; \
	[ $$status = 137 ] && echo "make test: the test run was killed after $(TEST_TIMEOUT) (a test hung)"; \
	bash scripts/clean-test-servers.sh; [ $$status = 0 ] || exit $$status; \
	echo "==> HA simulation (CPU-bound: run apart, so it cannot starve the timing-sensitive tests above)"; \
	timeout --signal=KILL $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build --filter SimulationTests

lab: build
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path); \
	echo "==> checking the guide's configuration"; \
	$$bin/vigilctl check-config Tests/Fixtures/guide/patroni-ct104.yml || true; \
	echo; \
	echo "The lab (vigilctl lab up: etcd, two PostgreSQL 18 nodes under vigil agents, HAProxy) is not built yet."; \
	echo "What works today: vigilctl check-config FILE, vigil --validate-config FILE."; \
	exit 1

clean:
	rm -rf .build
