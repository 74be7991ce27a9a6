# Top Songs. `make` builds build/topsongs; `make run` runs the local pipeline;
# `make test` runs every test. Each installs what it is missing first.

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0-dev)
LIBS_PC := libmicrohttpd rdkafka jansson libpq libcurl libzstd zlib libcrypto

# `make` on a bare machine installs the C libraries first (idempotent).
ifneq ($(MAKECMDGOALS),clean)
ifneq ($(shell pkg-config --exists $(LIBS_PC) 2>/dev/null && test -f /usr/include/snappy-c.h && echo ok),ok)
$(info make: C libraries missing; running scripts/setup.sh build)
DEPS_RC := $(shell scripts/setup.sh build >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error scripts/setup.sh build failed)
endif
endif
endif

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
BUILD ?= build/fuzz
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -DFUZZING \
	-Wno-unknown-warning-option
else ifeq ($(SAN),1)
BUILD ?= build/san
CC := clang
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -Wno-unknown-warning-option
else
BUILD ?= build
SANFLAGS :=
endif

PC_CFLAGS := $(shell pkg-config --cflags $(LIBS_PC) 2>/dev/null)
PC_LIBS := $(shell pkg-config --libs $(LIBS_PC) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c17 $(WARN) $(CFLAGS) $(SANFLAGS) -fno-omit-frame-pointer -pthread \
	-Isrc -I. $(PC_CFLAGS) -DTOPSONGS_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS := $(PC_LIBS) -lsnappy -lm -pthread

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all test test-faults run bench fuzz fuzz-build san clean format format-check docs web
all: $(BUILD)/topsongs

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libtopsongs.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/topsongs: $(CLI_OBJ) $(BUILD)/libtopsongs.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libtopsongs.a $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/libtopsongs.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_OBJ) $(BUILD)/libtopsongs.a $(LDLIBS)

# libFuzzer targets: make FUZZ=1 fuzz-build
fuzz-build: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libtopsongs.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libtopsongs.a $(LDLIBS)

unit: $(BUILD)/unit_tests

run: all
	scripts/run.sh

test:
	scripts/test.sh

# The fault-injection suite: a million plays through the whole pipeline
# under SIGKILLs and service restarts, then an exact balance
# (docs/reliability.md). FAULTS_ARGS passes options to tests/faults/run.sh.
test-faults: all
	scripts/setup.sh test >/dev/null
	scripts/pyenv.sh >/dev/null
	tests/faults/run.sh $(FAULTS_ARGS)

bench:
	bench/run.sh

# The dashboard, built into web/dist (only when its sources changed).
web:
	scripts/web.sh build

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

docs: all
	scripts/gen-docs.sh

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*/*/*.d $(BUILD)/obj/*/*.d)
