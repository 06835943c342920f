# Builds every service, the zerofs command, the unit tests and the
# integration-test clients.  Generated protobuf-c code lives in build/gen and
# is never committed.
#
#   make            build everything
#   make test       unit tests, then integration tests with real clients
#   make bench      benchmarks (prints MB/s and ops/s)
#   make deps       install the Debian packages needed to build and test
#   make fmt-check  fail if a C file differs from .clang-format
#   make SAN=1      build into build-san with AddressSanitizer and UBSan
#   make san-check  unit tests and a set of integration tests under both

CC      ?= cc
SAN     ?=
ifeq ($(SAN),)
BUILD   ?= build
OPT     := -O2
else
BUILD   ?= build-san
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
endif

CFLAGS  := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -pthread \
	   -MMD -MP -Icommon -Iservices -I$(BUILD)/gen $(EXTRA_CFLAGS)
LDFLAGS := -pthread -Wl,--as-needed $(OPT)
# --as-needed drops every library a binary does not use, so one list serves
# all of them.
LDLIBS  := -lnng -lprotobuf-c -lyaml -lsodium -llz4 -lzstd -lcurl \
	   -lhiredis -lm

SERVICES := metadata chunk flusher nfs

PROTOS   := $(wildcard proto/*.proto)
GEN_C    := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H    := $(GEN_C:.c=.h)

COMMON_SRC := $(filter-out %_test.c,$(wildcard common/*.c))
COMMON_LIB := $(BUILD)/lib/libcommon.a
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) \
	      $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_C))

svc_src  = $(filter-out %_test.c services/$(1)/main.c, \
	     $(wildcard services/$(1)/*.c))
svc_lib  = $(BUILD)/lib/lib$(1).a

SVC_LIBS := $(foreach s,$(SERVICES),$(call svc_lib,$(s)))
SVC_BINS := $(foreach s,$(SERVICES),$(BUILD)/bin/zerofs-$(s))
CLI_BIN  := $(BUILD)/bin/zerofs

UNIT_SRC := $(wildcard common/*_test.c) \
	    $(foreach s,$(SERVICES),$(wildcard services/$(s)/*_test.c))
UNIT_BIN := $(patsubst %.c,$(BUILD)/test/%,$(UNIT_SRC))
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

ALL_OBJ  := $(COMMON_OBJ) \
	    $(foreach s,$(SERVICES),$(patsubst %.c,$(BUILD)/obj/%.o, \
	      $(call svc_src,$(s)) services/$(s)/main.c)) \
	    $(BUILD)/obj/services/cli/main.o

.PHONY: all test unit integration san-check bench deps fmt fmt-check clean
.SECONDARY:

all: $(SVC_BINS) $(CLI_BIN) $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

# Every object waits for the generated headers.
$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define svc_rules
$(call svc_lib,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(call svc_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/bin/zerofs-$(1): $(BUILD)/obj/services/$(1)/main.o \
		$(call svc_lib,$(1)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
$(BUILD)/test/services/$(1)/%: $(BUILD)/obj/services/$(1)/%.o \
		$(call svc_lib,$(1)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call svc_rules,$(s))))

$(CLI_BIN): $(BUILD)/obj/services/cli/main.o $(SVC_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/common/%: $(BUILD)/obj/common/%.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(COMMON_LIB) | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LDLIBS) -lnfs

test: all
	tests/run.sh $(BUILD)

unit: all
	tests/run.sh $(BUILD) unit

integration: all
	tests/run.sh $(BUILD) integration

# The sanitizer pass CI runs: every unit test, and the integration tests
# that cover each service's main paths (files, namespace, both layouts,
# crashes, malformed input) under AddressSanitizer and UBSan.
SAN_ONLY := @(010|012|013|014|015|020|041|042|047|049|050|051|052)-*

san-check:
	$(MAKE) SAN=1 all
	tests/run.sh build-san unit
	ONLY='$(SAN_ONLY)' tests/run.sh build-san integration

# The LSM benchmark links LevelDB as its peer; only `make bench` builds it,
# so `all` and CI need no LevelDB.
LSM_BENCH := $(BUILD)/bench/lsm_bench

$(LSM_BENCH): tests/bench/lsm_bench.c $(call svc_lib,metadata) \
		$(COMMON_LIB) | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call svc_lib,metadata) \
		$(COMMON_LIB) $(LDLIBS) -lleveldb

bench: all $(LSM_BENCH)
	tests/bench/run.sh $(BUILD)

deps:
	.ci/deps

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

fmt-check:
	@out=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format --dry-run --Werror $$f 2>&1 >/dev/null \
		|| echo $$f; done); \
	if [ -n "$$out" ]; then echo "not formatted:"; echo "$$out"; \
	exit 1; fi; echo "fmt-check: ok"

clean:
	rm -rf build build-san

# Unit tests and tools are listed too: a changed header must rebuild them.
-include $(ALL_OBJ:.o=.d) $(patsubst %.c,$(BUILD)/obj/%.d,$(UNIT_SRC)) \
	 $(TOOL_BIN:=.d) $(LSM_BENCH).d
