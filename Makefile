# blast: `make` builds ./blast; `make check` builds and runs every test
# (unit, unit under ASan+UBSan, end to end against real brokers); `make fuzz`
# runs each libFuzzer target for FUZZ_TIME seconds. V=1 shows commands.

CC       ?= gcc
CLANG    ?= clang
OUT      := .output
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -MMD -MP
# Includes name their room: "engine/worker.h", "encoders/mqtt.h",
# "bpf/wire_probe.h". encoders/ is pure wire code and sees only itself.
# Which room may include which is written down in scripts/check-includes.sh.
CFLAGS   := $(BASE_CFLAGS) -I. -Iuserspace -I$(OUT)/proto -I$(OUT)/bpf
ENC_CFLAGS := $(BASE_CFLAGS) -Iencoders
LDLIBS   := -luring -lprotobuf-c -lssl -lcrypto -lz -lm -lbpf -lelf -lpthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_TIME ?= 30

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ENC_SRCS  := $(wildcard encoders/*.c)
US_SRCS   := $(wildcard userspace/*/*.c)
LIB_SRCS  := $(ENC_SRCS) $(US_SRCS)
# Protobuf payloads: protoc-c turns proto/*.proto, and the two well-known
# types blast needs (Timestamp; descriptor.proto to read .desc files), into
# C under $(OUT)/proto at build time.
PROTO_INC   := /usr/include
PROTO_NAMES := $(patsubst proto/%.proto,%,$(wildcard proto/*.proto)) \
               google/protobuf/timestamp google/protobuf/descriptor
PROTO_GEN_C := $(patsubst %,$(OUT)/proto/%.pb-c.c,$(PROTO_NAMES))
PROTO_GEN_H := $(PROTO_GEN_C:.c=.h)
PROTO_OBJS  := $(PROTO_GEN_C:.c=.o)
PROTO_ASAN  := $(patsubst $(OUT)/%,$(OUT)/asan/%,$(PROTO_OBJS))
# protoc-c output is not ours to keep -Werror clean.
PROTO_CFLAGS := $(filter-out -Werror,$(CFLAGS))
LIB_OBJS  := $(patsubst %.c,$(OUT)/%.o,$(LIB_SRCS)) $(PROTO_OBJS)
ASAN_OBJS := $(patsubst %.c,$(OUT)/asan/%.o,$(LIB_SRCS)) $(PROTO_ASAN)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
ASAN_BINS := $(patsubst tests/unit/%.c,$(OUT)/asan/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
E2E_TESTS := $(sort $(wildcard tests/e2e/test_*.sh))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))
# Helper programs for the tests (a Kafka mock cluster, a consumer, SASL in
# front of the mock): real implementations from librdkafka and Cyrus SASL,
# never blast's own code.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUT)/tools/%,$(TOOL_SRCS))

# eBPF (--probe): bpf/X.bpf.c -> clang -target bpf -> bpftool gen skeleton
# -> $(OUT)/bpf/X.skel.h, included by userspace/witness/probe.c. The ABI header is
# an explicit prerequisite of both sides ($(wildcard %.h) would match nothing).
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.skel.h,$(BPF_SRCS))
BPF_ABI   := bpf/wire_probe.h bpf/rx_stamp.h
# The verifier budget (tests/unit/test_bpf_budget.c) loads every object as
# each installed clang builds it: a compiler upgrade must not tip a program
# over. $(OUT)/bpf/clang-N/X.bpf.o, one rule per clang-N.
BPF_CLANGS  := $(sort $(notdir $(wildcard /usr/bin/clang-[0-9] /usr/bin/clang-[0-9][0-9])))
BPF_BUDGET_OBJS := $(foreach c,$(BPF_CLANGS),$(patsubst bpf/%.bpf.c,$(OUT)/bpf/$(c)/%.bpf.o,$(BPF_SRCS)))
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 | sed -n \
	'/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

.PHONY: all bpf check check-includes test-unit test-asan test-e2e fuzz bench clean
.DELETE_ON_ERROR:
.SECONDARY:

all: blast $(UNIT_BINS) $(BENCH_BINS) $(TOOL_BINS) $(BPF_BUDGET_OBJS)

blast: $(OUT)/userspace/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# A grouped pattern rule: one protoc-c run writes both .c and .h.
$(OUT)/proto/%.pb-c.c $(OUT)/proto/%.pb-c.h: proto/%.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)protoc-c --c_out=$(OUT)/proto -Iproto -I$(PROTO_INC) $<

$(OUT)/proto/google/protobuf/%.pb-c.c $(OUT)/proto/google/protobuf/%.pb-c.h: \
		$(PROTO_INC)/google/protobuf/%.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)protoc-c --c_out=$(OUT)/proto -I$(PROTO_INC) $<

$(OUT)/proto/%.pb-c.o: $(OUT)/proto/%.pb-c.c | $(PROTO_GEN_H)
	$(call msg,CC,$@)
	$(Q)$(CC) $(PROTO_CFLAGS) -c $< -o $@

$(OUT)/asan/proto/%.pb-c.o: $(OUT)/proto/%.pb-c.c | $(PROTO_GEN_H)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PROTO_CFLAGS) $(SAN) -c $< -o $@

BPF_CFLAGS := -g -O2 -Wall -Werror -MMD -MP -mcpu=v3 -target bpf -Ibpf $(CLANG_BPF_SYS_INCLUDES)

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_ABI)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One rule per installed clang-N: $(OUT)/bpf/clang-N/X.bpf.o.
define bpf_by_clang
$(OUT)/bpf/$(1)/%.bpf.o: bpf/%.bpf.c $(BPF_ABI)
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(1) $$(BPF_CFLAGS) -c $$< -o $$@
endef
$(foreach c,$(BPF_CLANGS),$(eval $(call bpf_by_clang,$(c))))

$(OUT)/bpf/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)bpftool gen skeleton $< name $*_bpf > $@

# Skeletons only.
bpf: $(BPF_SKELS)

$(OUT)/userspace/witness/probe.o $(OUT)/asan/userspace/witness/probe.o $(OUT)/userspace/engine/rxseg.o $(OUT)/asan/userspace/engine/rxseg.o: $(BPF_SKELS) $(BPF_ABI)
$(OUT)/tests/test_wire_probe $(OUT)/asan/tests/test_wire_probe: | $(BPF_SKELS)

# Order-only: a first build must generate the headers before compiling
# anything that may include them; after that the .d files track them.
$(OUT)/encoders/%.o: encoders/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENC_CFLAGS) -c $< -o $@

$(OUT)/asan/encoders/%.o: encoders/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENC_CFLAGS) $(SAN) -c $< -o $@

$(OUT)/%.o: %.c | $(PROTO_GEN_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/asan/%.o: %.c | $(PROTO_GEN_H)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(OUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(PROTO_GEN_H)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(OUT)/asan/tests/%: tests/unit/%.c $(ASAN_OBJS) | $(PROTO_GEN_H)
	$(call msg,TEST-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# Fuzz targets link the encoders (decoders are pure), the capture matcher
# with the histogram it records into and its TLS decryption, and the JSON reader with what it
# reads a run report into, the reports `blast merge` reads, and the transport stack (TLS's
# layer over OpenSSL), and the run form of `blast dashboard`.
FUZZ_LIB := $(ENC_SRCS) userspace/stats/hist.c userspace/witness/wire_match.c \
            userspace/witness/wire_parse.c userspace/witness/wire_pend.c userspace/witness/wire_http.c \
            userspace/witness/wire_tls.c userspace/witness/tls_decrypt.c userspace/witness/tls_keys.c \
            userspace/config/names.c userspace/config/http_ok.c userspace/report/json_read.c userspace/report/report_read.c userspace/report/wire.c \
            userspace/report/json.c userspace/report/exact.c userspace/report/merge_read.c \
            userspace/stats/fanout.c userspace/config/split.c \
            userspace/stats/stats.c userspace/transport/stack.c userspace/transport/tls.c \
            userspace/transport/tls_ctx.c userspace/transport/tls_bio.c userspace/transport/tls_ident.c \
            userspace/transport/tls_plain.c userspace/transport/tcp.c userspace/transport/websocket.c \
            userspace/dist/control_form.c
$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -Iuserspace \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $^ -lssl -lcrypto -lz -lm

$(OUT)/bench/%: bench/%.c $(LIB_OBJS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lrdkafka -lpthread

$(OUT)/tools/%: tests/tools/%.c
	$(call msg,TOOL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< -lrdkafka -lsasl2 -lpthread

test-unit: $(UNIT_BINS) $(BPF_BUDGET_OBJS)
	$(Q)tests/run.sh $(UNIT_BINS)

test-asan: $(ASAN_BINS) $(BPF_BUDGET_OBJS)
	$(Q)tests/run.sh $(ASAN_BINS)

test-e2e: blast $(BENCH_BINS) $(TOOL_BINS)
	$(Q)tests/run.sh $(E2E_TESTS)

# Which room may include which (scripts/check_includes.py), and no circles.
check-includes:
	$(Q)python3 scripts/check_includes.py

# One runner over everything, so the last line is the whole tally.
check: check-includes blast $(UNIT_BINS) $(ASAN_BINS) $(BENCH_BINS) $(TOOL_BINS) $(BPF_BUDGET_OBJS)
	$(Q)tests/run.sh $(UNIT_BINS) $(ASAN_BINS) $(E2E_TESTS)

fuzz: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); mkdir -p $(OUT)/corpus/$$name; \
		seeds=tests/fuzz/corpus/$$name; [ -d $$seeds ] || seeds=; \
		echo "  RUN      $$name for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=0 \
			$(OUT)/corpus/$$name $$seeds 2>$(OUT)/fuzz/$$name.log || \
			{ tail -40 $(OUT)/fuzz/$$name.log; exit 1; }; \
	done; echo "fuzz: $(words $(FUZZ_BINS)) targets ran $(FUZZ_TIME)s each without a crash"

bench: blast $(BENCH_BINS) $(TOOL_BINS)
	$(Q)bench/mqtt.sh
	$(Q)bench/kafka.sh
	$(Q)bench/ws.sh
	$(Q)bench/http.sh
	$(Q)bench/probe.sh
	$(Q)bench/probe_startup.sh
	$(Q)bench/pacing.sh
	$(Q)bench/limit_window.sh
	$(Q)bench/distributed.sh

clean:
	rm -rf $(OUT) blast

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
