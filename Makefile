# sargs - the two commands of the README, and a few more.
#   make run    install what is missing, build, walk through the demo and serve it
#   make test   install what is missing, build with sanitizers, run every test
#   make bench  build optimised and run the benchmarks (see docs/benchmarks.md)

BUILD      ?= build
TESTBUILD  ?= build-test
BENCHBUILD ?= build-bench
MESON      ?= meson

.PHONY: all deps build run test bench format format-check clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@$(MESON) setup $(BUILD) --buildtype=debugoptimized >/dev/null

build: deps $(BUILD)/build.ninja
	@$(MESON) compile -C $(BUILD) sargs:executable >/dev/null

run: build
	@scripts/demo $(BUILD)/sargs var/demo

$(TESTBUILD)/build.ninja:
	@$(MESON) setup $(TESTBUILD) --buildtype=debug -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

test: deps $(TESTBUILD)/build.ninja
	@$(MESON) test -C $(TESTBUILD) --print-errorlogs --num-processes 2

$(BENCHBUILD)/build.ninja:
	@$(MESON) setup $(BENCHBUILD) --buildtype=release -Dbench=true >/dev/null

bench: deps $(BENCHBUILD)/build.ninja
	@$(MESON) compile -C $(BENCHBUILD) >/dev/null
	@$(BENCHBUILD)/bench/bench_vault
	@$(BENCHBUILD)/bench/bench_audit
	@$(BENCHBUILD)/bench/bench_consent
	@$(BENCHBUILD)/bench/bench_sweep
	@$(BENCHBUILD)/bench/bench_requests
	@bench/bench_http.sh $(BENCHBUILD)/sargs
	@scripts/pg-test-cluster run --durable -- $(BENCHBUILD)/bench/bench_postgres
	@scripts/pg-test-cluster run --durable -- $(BENCHBUILD)/bench/bench_audit 1000000
	@scripts/pg-test-cluster run --durable -- $(BENCHBUILD)/bench/bench_consent 100000 200000
	@scripts/pg-test-cluster run --durable -- sh -c 'SARGS_STORE=$$SARGS_TEST_PG NODES=1 bench/bench_http.sh $(BENCHBUILD)/sargs'
	@scripts/pg-test-cluster run --durable -- sh -c 'SARGS_STORE=$$SARGS_TEST_PG NODES=2 bench/bench_http.sh $(BENCHBUILD)/sargs'

format:
	@find include src tests fuzz bench -name "*.[ch]" | xargs clang-format -i

format-check:
	@scripts/check-format

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(BENCHBUILD) var/demo
