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
	@status=0; timeout --signal=KILL $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build --skip SimulationTests --skip AgentTests \
	  || status=$$?; \
	[ $$status = 137 ] && echo "make test: the test run was killed after $(TEST_TIMEOUT) (a test hung)"; \
	bash scripts/clean-test-servers.sh; [ $$status = 0 ] || exit $$status; \
	echo "==> whole clusters of vigil agents (run apart: each test runs several PostgreSQL servers)"; \
	timeout --signal=KILL $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build --filter AgentTests \
	  || status=$$?; \
	[ $$status = 137 ] && echo "make test: the test run was killed after $(TEST_TIMEOUT) (a test hung)"; \
	bash scripts/clean-test-servers.sh; [ $$status = 0 ] || exit $$status; \
	echo "==> HA simulation (CPU-bound: run apart, so it cannot starve the timing-sensitive tests above)"; \
	timeout --signal=KILL $(TEST_TIMEOUT) $(SWIFT) test $(SWIFT_FLAGS) --skip-build --filter SimulationTests

# The lab's state lives in .lab/ unless the unprivileged user that runs PostgreSQL cannot
# reach this checkout (e.g. under /root); then in /var/lib/vigil/lab.
LAB_PROFILE ?= guide
# off (asynchronous, as the guide), on, strict or quorum (synchronous_mode).
LAB_SYNC ?= off
lab: build
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path); \
	dir=$${LAB_DIR:-.lab}; \
	if [ -z "$$LAB_DIR" ] && [ "$$(id -u)" = 0 ] && ! runuser -u $${VIGIL_PG_USER:-vigil} -- test -x "$$PWD"; then \
	  dir=/var/lib/vigil/lab; echo "==> $$PWD is closed to the $${VIGIL_PG_USER:-vigil} user: the lab lives in $$dir"; \
	fi; \
	echo "==> bringing the guide's cluster up (vigilctl lab up --dir $$dir --profile $(LAB_PROFILE) --sync $(LAB_SYNC))"; \
	$$bin/vigilctl lab up --dir "$$dir" --profile $(LAB_PROFILE) --sync $(LAB_SYNC) --pg-bin "$$(cat .tools/pg18-bin)"

clean:
	rm -rf .build
