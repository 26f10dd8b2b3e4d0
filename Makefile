# rill's build. `make` builds the rill binary; `make test` installs what is
# missing, brings the local Kafka + PostgreSQL stack up and runs the unit then
# the integration tier; `make asan` switches the build to ASan+UBSan, `make
# tsan` to ThreadSanitizer (kept until `make release`). Objects go to
# build/<flavor>/, the binary to ./rill, the example processors to
# build/<flavor>/processors/examples/. Quiet compile lines unless V=1.

SHELL := /bin/bash
export RILL_STACK_DIR ?= $(CURDIR)/.stack

FLAVOR_FILE := build/.flavor
# A flavor goal on the command line wins for the whole run, so that `make
# tsan test-unit` tests the TSan build it has just made.
FLAVOR_GOAL := $(lastword $(filter release asan tsan,$(MAKECMDGOALS)))
FLAVOR ?= $(or $(FLAVOR_GOAL),$(shell cat $(FLAVOR_FILE) 2>/dev/null || echo release))
B := build/$(FLAVOR)

# What the binaries link: each of these is used (`make check-links` fails
# when the linker would record one that is not). libmicrohttpd serves
# rill run's HTTP endpoints, libcurl is the schema registry's client;
# -lpthread and -ldl left the link: glibc 2.34+
# has pthreads and dlopen in libc.
PKGS := rdkafka rocksdb avro-c libpq yaml-0.1 libssl libcrypto libmicrohttpd libcurl
TEST_PKGS := cunit

CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
DEFS := -D_GNU_SOURCE -DRILL_ROCKSDB_BUILD_VERSION='"$(shell pkg-config --modversion rocksdb 2>/dev/null)"'
INCS := -I.
OPT_release := -O2 -g
OPT_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
OPT_tsan := -O1 -g -fsanitize=thread
OPT := $(OPT_$(FLAVOR))
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = -std=c11 $(OPT) $(WARN) $(DEFS) $(INCS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
# --as-needed spelled out: gcc passes it by default, except with -fsanitize.
LDLIBS_ALL = -Wl,--as-needed $(PKG_LIBS) -lm $(LDLIBS)

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

# The serde's schemas and id map, compiled in as text (schemas/embed.sh). The
# generated file is the same for every flavor, so it lives in build/gen/.
AVSC := $(sort $(wildcard schemas/avro/*.avsc))
SCHEMA_IDS := schemas/avro/ids.map
SERDE_EMBED := build/gen/serde_embed.c
# The PostgreSQL migrations, compiled in the same way (schemas/embed_sql.sh)
# so that `rill migrate` needs no source tree. The folder is a prerequisite
# too, so that adding or removing a file regenerates it.
MIGRATIONS := $(sort $(wildcard schemas/sql/*.sql))
SQL_EMBED := build/gen/sql_embed.c
# The web view's static files (topology/engine/web/), compiled in the same
# way (topology/engine/web/embed.sh) and served by `rill run` at /.
WEB_FILES := $(sort $(wildcard $(addprefix topology/engine/web/*.,html css js svg)))
WEB_EMBED := build/gen/web_embed.c

# The library: everything but the CLI entry point.
LIB_SRCS := $(filter-out topology/cli/main.c,$(shell find topology state schemas processors -name '*.c' -not -path 'processors/examples/*' | sort)) $(SERDE_EMBED) $(SQL_EMBED) \
	$(WEB_EMBED)
CLI_SRCS := topology/cli/main.c
UNIT_SRCS := $(wildcard tests/unit/*.c)
PROBE_SO := $(B)/tests/probe.so
# The unit tier's external processors (tests/unit/ext/), found through
# RILL_TEST_SO_DIR: probe (this ABI), probe_v1 (built against the frozen V1
# headers), probe_abi99 and probe_abi0 (the probe claiming ABIs rill does not
# run), phases (tries every context call in every callback), internal (calls
# a runtime function the binary does not export).
TEST_SOS := $(PROBE_SO) $(B)/tests/probe_v1.so $(B)/tests/probe_abi99.so $(B)/tests/probe_abi0.so \
	$(B)/tests/phases.so $(B)/tests/internal.so
# A librdkafka plugin (plugin.library.paths) that records the client ids of
# the clients it sees: the integration tier's proof that the property
# reaches librdkafka.
KPLUGIN_SO := $(B)/tests/kplugin.so
# The example external processors, one folder and one .c each, built as .so
# the way a third party builds one (processors/examples/README.md).
EXAMPLE_SOS := $(patsubst %.c,$(B)/%.so,$(wildcard processors/examples/*/*.c))
IT_SRCS := $(wildcard tests/integration/*.c)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)

LIB := $(B)/librill.a
RILL := $(B)/rill
UNIT := $(B)/tests/unit_tests
IT := $(B)/tests/integration_tests
CHECK := $(B)/tests/pipeline_check

obj = $(patsubst %.c,$(B)/%.o,$(1))

.PHONY: all rill unit-bin it-bin asan tsan release deps stack-up stack-down test test-unit check-layers docs \
	check-exports check-links check-monitoring examples check-ansible test-rollout \
	test-integration test-chaos bench bench-restore bench-sink bench-pipeline bench-json bench-profile clean check-deps demo
.DEFAULT_GOAL := all

all: check-deps rill examples

examples: $(EXAMPLE_SOS)

rill: $(RILL)
	$(Q)ln -sfn $(RILL) rill

unit-bin: $(UNIT)
it-bin: $(IT) $(CHECK)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(quiet) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(SERDE_EMBED): schemas/embed.sh schemas/embed_lib.sh $(SCHEMA_IDS) $(AVSC)
	@mkdir -p $(dir $@)
	$(quiet) EMBED $@
	$(Q)schemas/embed.sh $@ $(SCHEMA_IDS) $(AVSC)

$(SQL_EMBED): schemas/embed_sql.sh schemas/embed_lib.sh schemas/sql $(MIGRATIONS)
	@mkdir -p $(dir $@)
	$(quiet) EMBED $@
	$(Q)schemas/embed_sql.sh $@ $(MIGRATIONS)

$(WEB_EMBED): topology/engine/web/embed.sh schemas/embed_lib.sh topology/engine/web $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(quiet) EMBED $@
	$(Q)topology/engine/web/embed.sh $@ $(WEB_FILES)

$(LIB): $(call obj,$(LIB_SRCS))
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# External processors (.so) resolve the plugin API from the binary, which
# exports that API and nothing else (processors/plugin.exports, checked by
# `make check-exports`).
# The TSan flavor links and exports librdkafka's C11 thread calls redone on
# pthreads (topology/base/tsan_threads.c says why).
PLUGIN_EXPORTS := processors/plugin.exports
FLAVOR_OBJS_tsan := $(B)/topology/base/tsan_threads.o
FLAVOR_EXPORTS_tsan := topology/base/tsan_threads.exports
FLAVOR_OBJS := $(FLAVOR_OBJS_$(FLAVOR))
FLAVOR_EXPORTS := $(FLAVOR_EXPORTS_$(FLAVOR))
EXPORT_LDFLAGS := $(foreach f,$(PLUGIN_EXPORTS) $(FLAVOR_EXPORTS),-Wl,--dynamic-list=$(f))
$(RILL): $(call obj,$(CLI_SRCS)) $(FLAVOR_OBJS) $(LIB) $(PLUGIN_EXPORTS) $(FLAVOR_EXPORTS)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) $(EXPORT_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS_ALL)

$(UNIT): $(call obj,$(UNIT_SRCS) $(TESTLIB_SRCS)) $(FLAVOR_OBJS) $(LIB) $(TEST_SOS) $(EXAMPLE_SOS) \
	  $(PLUGIN_EXPORTS) $(FLAVOR_EXPORTS)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) $(EXPORT_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))

# The external test processors, built the way a third party would build one.
SO_CFLAGS = -std=c11 $(OPT) $(WARN) $(INCS) -fPIC -shared -MMD -MP
$(B)/processors/examples/%.so: processors/examples/%.c
	@mkdir -p $(dir $@)
	$(quiet) SO $@
	$(Q)$(CC) $(SO_CFLAGS) -o $@ $<
$(B)/tests/probe_abi%.so: tests/unit/ext/probe.c
	@mkdir -p $(dir $@)
	$(quiet) SO $@
	$(Q)$(CC) $(SO_CFLAGS) -DPROBE_ABI_VERSION=$* -o $@ $<
$(B)/tests/%.so: tests/unit/ext/%.c
	@mkdir -p $(dir $@)
	$(quiet) SO $@
	$(Q)$(CC) $(SO_CFLAGS) -o $@ $<

$(IT): $(call obj,$(IT_SRCS) $(TESTLIB_SRCS)) $(FLAVOR_OBJS) $(LIB) $(FLAVOR_EXPORTS)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) $(foreach f,$(FLAVOR_EXPORTS),-Wl,--dynamic-list=$(f)) -o $@ $(filter %.o %.a,$^) \
	  $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))

# The rollout's checker of a finished run of the order pipeline against the
# tests' reference (tests/rollout/pipeline_check.c; README, "Tests"): the
# reference's part of tests/lib/, no CUnit.
CHECK_SRCS := tests/rollout/pipeline_check.c tests/lib/pipeline_ref.c tests/lib/pipeline_audit.c \
	tests/lib/reference.c tests/lib/sinkref.c tests/lib/pgq.c tests/lib/proc.c tests/lib/stack.c \
	tests/lib/util.c
$(CHECK): $(call obj,$(CHECK_SRCS)) $(FLAVOR_OBJS) $(LIB) $(FLAVOR_EXPORTS)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) $(foreach f,$(FLAVOR_EXPORTS),-Wl,--dynamic-list=$(f)) -o $@ $(filter %.o %.a,$^) \
	  $(LDLIBS_ALL)

# Sanitizer flavors: persisted so that later `make test-unit` uses them.
asan:
	@mkdir -p build && echo asan > $(FLAVOR_FILE)
	$(Q)$(MAKE) --no-print-directory FLAVOR=asan all unit-bin it-bin

tsan:
	@mkdir -p build && echo tsan > $(FLAVOR_FILE)
	$(Q)$(MAKE) --no-print-directory FLAVOR=tsan all unit-bin it-bin

release:
	@mkdir -p build && echo release > $(FLAVOR_FILE)
	$(Q)$(MAKE) --no-print-directory FLAVOR=release all

# Dependencies: installed only when something is missing, so `make test` and
# `make demo` are one command on a fresh machine.
check-deps:
	@pkg-config --exists $(PKGS) $(TEST_PKGS) && command -v kcat >/dev/null && \
	  command -v mvn >/dev/null && command -v java >/dev/null && \
	  command -v promtool >/dev/null && command -v chromium >/dev/null && /usr/bin/python3 -c 'import yaml' 2>/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || infra/local/deps.sh

deps:
	infra/local/deps.sh

stack-up: check-deps
	infra/local/kafka.sh start
	infra/local/postgres.sh start

# The order pipeline and its PostgreSQL sinks end to end on the local stack,
# with a readable summary (infra/local/demo.sh).
demo: all stack-up
	infra/local/demo.sh

stack-down:
	-infra/local/kafka.sh stop
	-infra/local/postgres.sh stop
	@if [ "$(CLEAN)" = 1 ]; then \
	  rm -rf "$$RILL_STACK_DIR" /var/lib/rill-stack/$$(echo "$$RILL_STACK_DIR" | md5sum | cut -c1-12) \
	  && echo "removed $$RILL_STACK_DIR"; fi

test-unit: check-deps $(UNIT) check-exports check-links check-monitoring
	RILL_PROBE_SO=$(PROBE_SO) RILL_TEST_SO_DIR=$(B)/tests \
	  RILL_EXAMPLE_UPPERCASE_SO=$(B)/processors/examples/uppercase/uppercase.so $(UNIT)

# The binaries export the plugin API of processors/plugin.exports and nothing
# else, and that list matches the headers a plugin sees; and the check
# refuses a binary that exports something else (probe.so exports its entry).
check-exports: $(RILL) $(UNIT)
	$(Q)EXTRA_EXPORTS="$(FLAVOR_EXPORTS)" tests/unit/check_exports.sh $(RILL) $(UNIT)
	$(Q)if tests/unit/check_exports.sh $(PROBE_SO) >/dev/null; then \
	  echo "check-exports: passed a library that exports rill_processor_entry"; exit 1; fi

# The monitoring assets of infra/monitoring/: promtool checks the scrape
# config and the alert rules and runs the rules' unit tests; the Grafana
# dashboard is valid JSON that queries only rill's metrics; and the checks
# prove they refuse broken copies (tests/monitoring/check.sh).
check-monitoring: check-deps
	$(Q)tests/monitoring/check.sh

# The binaries record no library they do not use (ldd -u lists none).
check-links: $(RILL) $(UNIT)
	$(Q)for b in $(RILL) $(UNIT); do u=$$(ldd -u $$b | grep -v '^Unused direct' || true); \
	  if [ -n "$$u" ]; then echo "check-links: $$b links libraries it does not use:$$u"; exit 1; fi; \
	done; echo "check-links: $(RILL) and $(UNIT) link only libraries they use"

test-integration: check-deps $(IT) $(RILL) $(PROBE_SO) $(KPLUGIN_SO) stack-up
	RILL_BIN=$(RILL) RILL_PROBE_SO=$(CURDIR)/$(PROBE_SO) RILL_KPLUGIN_SO=$(CURDIR)/$(KPLUGIN_SO) $(IT)

# Benchmarks (not part of `make test`): restore after a crash and after
# losing the state directory, against a raw changelog consume.
BENCH_RESTORE := $(B)/bench/restore
$(BENCH_RESTORE): $(call obj,bench/restore.c $(TESTLIB_SRCS)) $(LIB)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))

bench-restore: check-deps $(BENCH_RESTORE) $(RILL) stack-up
	RILL_BIN=$(RILL) $(BENCH_RESTORE)

# `make bench-pipeline`: the order pipeline end to end in one `rill run`
# (bench/pipeline.sh; BENCH_PIPELINE_ORDERS, BENCH_RUNS, BENCH_PIPELINE_PROFILE).
bench-pipeline: check-deps $(RILL) stack-up
	$(Q)bench/pipeline.sh

# `make bench`: rill vs a raw librdkafka loop vs Kafka Streams (bench/peers,
# from Maven Central), plus latency; then the restore pair and the sink
# (bench-sink).
BENCH_TP := $(B)/bench/throughput
RAWLOOP := $(B)/bench/rawloop
PEER_CP := build/bench-peers.classpath
$(BENCH_TP): $(call obj,bench/throughput.c $(TESTLIB_SRCS)) $(LIB)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))
$(RAWLOOP): $(call obj,bench/rawloop.c tests/lib/stack.c tests/lib/util.c)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)
$(PEER_CP): bench/peers/pom.xml bench/peers/src/main/java/rill/bench/StreamsPeer.java
	@mkdir -p build/bench-peers
	mvn -q -B -f bench/peers/pom.xml dependency:build-classpath -Dmdep.outputFile=$(CURDIR)/$@
	javac -d build/bench-peers -cp "$$(cat $@)" bench/peers/src/main/java/rill/bench/StreamsPeer.java

bench: check-deps $(BENCH_TP) $(RAWLOOP) $(RILL) $(PEER_CP) stack-up
	@mkdir -p bench/results
	RILL_BIN=$(CURDIR)/$(RILL) RAWLOOP_BIN=$(CURDIR)/$(RAWLOOP) PEER_CP=$(PEER_CP) $(BENCH_TP)
	$(Q)$(MAKE) --no-print-directory bench-restore
	$(Q)$(MAKE) --no-print-directory bench-sink
	$(Q)$(MAKE) --no-print-directory bench-pipeline

# `make bench-sink`: the postgres_oltp sink vs raw COPY vs one INSERT per
# row, into the same tables of the stack's PostgreSQL (bench/sink.c);
# BENCH_SINK_ORDERS (default 50,000), BENCH_SINK_INSERT_ORDERS (5,000) and
# BENCH_RUNS (3) the size.
BENCH_SINK := $(B)/bench/sink
$(BENCH_SINK): $(call obj,bench/sink.c $(TESTLIB_SRCS)) $(LIB)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))

bench-sink: check-deps $(BENCH_SINK) $(RILL) stack-up
	@mkdir -p bench/results
	RILL_BIN=$(CURDIR)/$(RILL) $(BENCH_SINK)

# `make bench-json`: rill's bounded JSON reader vs jansson on the record-field
# paths (bench/json.c); jansson (libjansson-dev) is linked into this bench
# only. No broker needed.
BENCH_JSON := $(B)/bench/json
$(BENCH_JSON): $(call obj,bench/json.c tests/lib/util.c) $(LIB)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs jansson)
$(B)/bench/json.o: CFLAGS += $(shell pkg-config --cflags jansson)

bench-json: check-deps
	@pkg-config --exists jansson || infra/local/deps.sh
	$(Q)$(MAKE) --no-print-directory $(BENCH_JSON)
	@mkdir -p bench/results
	$(BENCH_JSON)

# Instructions per record under callgrind: rill passthrough vs the raw loop,
# an A/B that holds on a busy machine; RILL_BIN_B=/path/to/rill adds a second
# build, PROFILE_RECORDS (default 100,000) the size. Needs valgrind.
BENCH_PROFILE := $(B)/bench/profile
$(BENCH_PROFILE): $(call obj,bench/profile.c $(TESTLIB_SRCS)) $(LIB)
	$(quiet) LINK $@
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(TEST_PKGS))

bench-profile: check-deps $(BENCH_PROFILE) $(RAWLOOP) $(RILL) stack-up
	@command -v valgrind >/dev/null || { echo "bench-profile needs valgrind (apt-get install valgrind)"; exit 1; }
	RILL_BIN=$(CURDIR)/$(RILL) RAWLOOP_BIN=$(CURDIR)/$(RAWLOOP) $(BENCH_PROFILE)

# The chaos tier at full size: 100,000 records through the kill loops.
test-chaos: check-deps $(IT) $(RILL) $(PROBE_SO) stack-up
	EOS_RECORDS=100000 RILL_BIN=$(RILL) RILL_PROBE_SO=$(CURDIR)/$(PROBE_SO) $(IT) eos
	EOS_RECORDS=100000 RILL_BIN=$(RILL) $(IT) state
	WIN_RECORDS=100000 WIN_KILLS=8 RILL_BIN=$(RILL) $(IT) windows

# The layers of DESIGN.md section 1: no include points up (state/, schemas/
# and processors/ never include the engine, the CLI or admin; base includes
# nothing of rill), and the check's own test proves it refuses such includes.
check-layers:
	$(Q)tests/layers/check_layers.sh && echo "check-layers: no include points up"
	$(Q)tests/layers/test_check_layers.sh

# docs/CONFIGURATION.md is generated from the key tables (topology/model/keys.c
# and each processor's config table); the unit tier fails when it is stale.
docs: $(RILL)
	$(quiet) GEN docs/CONFIGURATION.md
	$(Q)mkdir -p docs && $(RILL) validate --describe-all --markdown > docs/CONFIGURATION.md.tmp && \
	  mv docs/CONFIGURATION.md.tmp docs/CONFIGURATION.md

# --- infra/terraform (rollout issue) ---------------------------------------
# checkov offline, the project's security-group policy (proven on a bad
# fixture), terraform fmt/test of the provider-free layout module where a
# terraform binary exists: tests/infra/check.sh says what ran and what could not.
.PHONY: check-infra
check-infra:
	$(Q)tests/infra/check.sh
# ---------------------------------------------------------------------------

test: check-deps check-layers check-infra check-ansible rill $(UNIT) $(IT) $(CHECK) $(KPLUGIN_SO)
	$(Q)$(MAKE) --no-print-directory test-unit
	$(Q)$(MAKE) --no-print-directory test-integration

# ---- Ansible (issue 13) ----------------------------------------------------
# check-ansible: `ansible-playbook --syntax-check` on every playbook at the top
# of ansible/ (globbed, so new playbooks are covered) and ansible-lint at its
# production profile, with the pinned tools of `infra/local/tools.sh ansible`.
# test-rollout: the real run of the playbooks against this machine (a 3-node
# KRaft quorum on loopback, ...), too slow for every `make test`; .ci/run calls
# it on its own.
ANSIBLE_PLAYBOOKS = $(sort $(wildcard ansible/*.yml))
check-ansible:
	$(Q)mkdir -p build && bin=$$(infra/local/tools.sh ansible) && export PATH="$$bin:$$PATH" ANSIBLE_CONFIG=$(CURDIR)/ansible/ansible.cfg && \
	  for p in $(ANSIBLE_PLAYBOOKS); do \
	    $$bin/ansible-playbook --syntax-check -i localhost, "$$p" >/dev/null 2>build/check-ansible.log || \
	      { cat build/check-ansible.log; echo "check-ansible: syntax error in $$p"; exit 1; }; \
	  done && echo "check-ansible: syntax of $(words $(ANSIBLE_PLAYBOOKS)) playbooks ok" && \
	  $$bin/ansible-lint -q --nocolor --profile production ansible/ && echo "check-ansible: ansible-lint production profile clean"

test-rollout: $(RILL)
	$(Q)tests/rollout/run.sh

clean:
	rm -rf build rill

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzzing: `make fuzz` builds the libFuzzer harnesses with clang, ASan and
# UBSan into build/fuzz/ (their own objects, compiled here with clang, not
# through the flavors above), then runs each target of FUZZ_TARGET (default:
# both) for FUZZ_SECONDS (default 600) from its seeds (FUZZ_SEEDS_NAME):
#   config  the YAML loader and the graph checker
#   serde   the Avro (Confluent-framed) and JSON decoders, with re-encoding
# e.g. `make fuzz FUZZ_TARGET=serde FUZZ_SECONDS=660`. New inputs go to
# build/fuzz/corpus/NAME/, crashes to build/fuzz/NAME-crash-*; keep a fixed
# crash as a regression (tests/data/yaml/bad/, or a case in test_serde.c).
# Memory is capped, so that an input making the code allocate hugely fails.
FUZZ_SECONDS ?= 600
FUZZ_TARGET ?= config serde
FUZZ_CC ?= clang
FUZZ := build/fuzz
FUZZ_CFLAGS = -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=all $(WARN) $(DEFS) $(INCS) $(PKG_CFLAGS) -MMD -MP
FUZZ_ARGS_config := -max_len=65536 -dict=tests/fuzz/config.dict
# The config harness seeds from the loader's own test fixtures (one copy of
# each, in tests/data/), the serde harness from its corpus of events.
FUZZ_SEEDS_config := tests/data/yaml/good tests/data/yaml/bad
FUZZ_SEEDS_serde := tests/fuzz/corpus/serde
FUZZ_ARGS_serde := -max_len=16384 -dict=tests/fuzz/serde.dict -rss_limit_mb=512 -malloc_limit_mb=64

.PHONY: fuzz
fuzz: $(foreach t,$(FUZZ_TARGET),$(FUZZ)/fuzz_$(t))
	$(Q)for t in $(FUZZ_TARGET); do \
	  mkdir -p $(FUZZ)/corpus/$$t && \
	  case $$t in config) args="$(FUZZ_ARGS_config)"; seeds="$(FUZZ_SEEDS_config)";; \
	    serde) args="$(FUZZ_ARGS_serde)"; seeds="$(FUZZ_SEEDS_serde)";; esac && \
	  echo "$(FUZZ)/fuzz_$$t for $(FUZZ_SECONDS) s" && \
	  $(FUZZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $$args -artifact_prefix=$(FUZZ)/$$t- \
	    $(FUZZ)/corpus/$$t $$seeds || exit 1; \
	done

# The library goes into an archive so that each harness links only what it
# needs.
$(FUZZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(quiet) CLANG $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/librill.a: $(patsubst %.c,$(FUZZ)/obj/%.o,$(LIB_SRCS))
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/librill.a
	$(quiet) LINK $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(LDLIBS_ALL)
