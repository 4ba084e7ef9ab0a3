# flowfabric — PGXS build plus the project's top-level targets.
#
#   make              build flowfabric.so
#   make install      install the extension into the server's directories
#   make test         install dependencies, build, run every test suite on a
#                     private throwaway server and print "N passed, N failed"
#   make demo         same set-up, then an end-to-end worker example

EXTENSION   = flowfabric
EXTVERSION  = 0.1
MODULE_big  = flowfabric
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c)))
# The install script is assembled from one SQL file per area.
SQL_PARTS   = $(sort $(wildcard extension/sql/*.sql))
DATA_built  = flowfabric--$(EXTVERSION).sql
PGFILEDESC  = "flowfabric - durable execution engine"

PG_CONFIG  ?= pg_config
PG_CPPFLAGS = -Iextension -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
PG_CFLAGS   = -std=gnu11

# No LLVM bitcode: the engine gains nothing from JIT inlining, and it needs clang.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

flowfabric--$(EXTVERSION).sql: $(SQL_PARTS)
	for part in $^; do cat $$part; echo; done > $@

# Every source includes the shared headers: rebuild all when they change.
$(OBJS): extension/flowfabric.h extension/errors.h

# The C client (libflowfabric, ffctl; client/Makefile) is built, installed and
# cleaned together with the extension.
all: client-lib
install: client-install
clean: client-clean
.PHONY: client-lib client-install client-clean
client-lib:
	$(MAKE) -C client PG_CONFIG=$(PG_CONFIG)
client-install: client-lib
	$(MAKE) -C client PG_CONFIG=$(PG_CONFIG) install
client-clean:
	$(MAKE) -C client clean
	$(MAKE) -C test/client clean

.PHONY: test demo deps bench bench-build
deps:
	./scripts/install-deps.sh

# `make bench` runs the benchmarks on a private server (scripts/bench.sh,
# docs/performance.md); pass options with BENCH_ARGS, e.g.
# make bench BENCH_ARGS="--quick --json". `make` builds the program too.
all: bench-build
bench-build: client-lib
	$(MAKE) -C bench PG_CONFIG=$(PG_CONFIG)
bench:
	./scripts/bench.sh $(BENCH_ARGS)
clean: bench-clean
.PHONY: bench-clean
bench-clean:
	$(MAKE) -C bench clean

test:
	./scripts/run-tests.sh

demo:
	./scripts/demo.sh

# `make fuzz` fuzzes the extension's C parsers with libFuzzer outside the
# server (test/fuzz/README.md): installs clang and its libFuzzer runtime if
# missing, replays the seed and regression inputs, then fuzzes each target
# for FUZZ_SECONDS (default 60). `make torture` is the long crash-safety
# torture test (test/torture/README.md; a short one runs in make test).
.PHONY: fuzz torture
FUZZ_SECONDS ?= 60
fuzz:
	./scripts/install-deps.sh clang-14 libclang-rt-14-dev libssl-dev
	$(MAKE) -C test/fuzz PG_CONFIG=$(PG_CONFIG) FUZZ_SECONDS=$(FUZZ_SECONDS) run
torture: install
	./test/torture/torture.sh --full
