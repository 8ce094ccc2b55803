# podvm — top-level build.
#
#   make deps    install Debian packages (idempotent)
#   make         build/podvm (CLI) and build/podvm-init (static guest init)
#   make run     deps + build + guest image + sample image + run hello pod
#   make test    deps + build + unit (ASan/UBSan) + integration tests
#   make test-kvm  the KVM path under real KVM, nested in a TCG VM
#                (docs/kvm.md); KVM_MODE=reduced: the probe and one pod
#
# Sources are picked up by folder, so adding a file needs no Makefile edit.

CC      ?= gcc
BUILD   := build
PKGS    := libvirt json-c yaml-0.1 libarchive libcrypto libnl-route-3.0 \
	libmicrohttpd libcurl zlib libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -fno-strict-aliasing \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

# Each binary has its own source list; a folder's sources are picked up by
# wildcard, so adding a file needs no Makefile edit. The arrows between
# folders are in docs/architecture.md.
#
# Leaves shared by host and guest (pod/ includes only pod/ and util/).
COMMON_SRC := $(wildcard util/*.c pod/*.c)
# The host library: what podvm, podvmd (and later the shim) all use.
HOSTLIB_SRC := $(COMMON_SRC) $(wildcard host/*.c images/*.c vmm/*.c \
	vmm/libvirt/*.c netns/*.c)
DAEMON_SRC := $(wildcard daemon/*.c api/*.c)
CLI_SRC    := $(filter-out cli/main.c,$(wildcard cli/*.c))

PODVM_SRC  := $(HOSTLIB_SRC) $(CLI_SRC) cli/main.c
PODVMD_SRC := $(HOSTLIB_SRC) $(DAEMON_SRC) podvmd/main.c
INIT_SRC   := $(COMMON_SRC) $(wildcard guest/*.c)
# Unit tests link every host object but the programs' mains.
HOST_SRC   := $(HOSTLIB_SRC) $(DAEMON_SRC) $(CLI_SRC)
GUEST_SRC  := $(COMMON_SRC) $(filter-out guest/main.c,$(wildcard guest/*.c))

PODVM_OBJ  := $(PODVM_SRC:%.c=$(BUILD)/host/%.o)
PODVMD_OBJ := $(PODVMD_SRC:%.c=$(BUILD)/host/%.o)
INIT_OBJ   := $(INIT_SRC:%.c=$(BUILD)/guest-obj/%.o)
HOST_SAN   := $(HOST_SRC:%.c=$(BUILD)/san/%.o)
GUEST_SAN  := $(GUEST_SRC:%.c=$(BUILD)/san-guest/%.o)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_HOST  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(filter-out tests/unit/test_guest_%,$(UNIT_SRC)))
UNIT_GUEST := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(filter tests/unit/test_guest_%,$(UNIT_SRC)))

GUEST_DIR  := $(BUILD)/guest
STATE_DIR  ?= /var/lib/podvm

.PHONY: all deps run test unit integration bench guest-image sample-image \
	fuzz clean guest-link-check size-check test-kvm
all: $(BUILD)/podvm $(BUILD)/podvmd $(BUILD)/podvm-init

deps:
	@sh scripts/deps.sh

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -MMD -MP -c $< -o $@

# The guest init is static: no libc or loader in the initramfs.
$(BUILD)/guest-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -DPODVM_GUEST -MMD -MP -c $< -o $@

$(BUILD)/san-guest/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -DPODVM_GUEST -MMD -MP -c $< -o $@

$(BUILD)/podvm: $(PODVM_OBJ)
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/podvmd: $(PODVMD_OBJ)
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread

GUEST_LIBS := $(shell pkg-config --static --libs json-c libseccomp 2>/dev/null)
$(BUILD)/podvm-init: $(INIT_OBJ)
	$(CC) -static -o $@ $^ $(GUEST_LIBS)

# Static pattern rules: make must not pick the host rule for guest tests.
$(UNIT_GUEST): $(BUILD)/tests/test_guest_%: tests/unit/test_guest_%.c $(GUEST_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -DPODVM_GUEST -o $@ $^ \
		$(PKG_LIBS) -lseccomp -lcmocka -lpthread

$(UNIT_HOST): $(BUILD)/tests/test_%: tests/unit/test_%.c $(HOST_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lpthread

# Benchmarks link every host object but the programs' mains, as the unit
# tests do (the list, not whatever objects lie in build/).
HOST_OBJ   := $(HOST_SRC:%.c=$(BUILD)/host/%.o)
$(BUILD)/tests/bench_metrics: tests/bench/bench_metrics.c $(HOST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

# Guest kernel (Debian cloud kernel, unpacked into the build tree) and the
# initramfs; each script rebuilds only when an input changed.
guest-image: $(BUILD)/podvm-init
	@sh images/fetch-kernel.sh $(GUEST_DIR)
	@sh images/mkinitramfs.sh $(GUEST_DIR) $(BUILD)/podvm-init images/guest-modules.txt

sample-image: $(BUILD)/podvm
	@sh images/mksample.sh $(BUILD)/podvm $(STATE_DIR)

run: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory guest-image sample-image
	$(BUILD)/podvm run images/samples/hello.yaml

# podvm-init links no host code (pod/ and util/ are leaves).
guest-link-check: $(BUILD)/podvm $(BUILD)/podvmd $(BUILD)/podvm-init
	@sh tests/check-guest-link.sh $(BUILD)

# No source file over 600 lines, no function over 80 (the house sizes).
size-check:
	@sh tests/check-sizes.sh .

# libFuzzer targets (clang); `make fuzz` runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/fuzz_manifest: tests/fuzz/fuzz_manifest.c images/manifest.c images/auth.c \
		images/blob.c util/err.c util/util.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags json-c) $^ \
		$(shell pkg-config --libs json-c libcrypto) -o $@

fuzz: $(BUILD)/fuzz/fuzz_manifest
	@for f in $^; do mkdir -p $(BUILD)/fuzz-corpus/$$(basename $$f); \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
			$(BUILD)/fuzz-corpus/$$(basename $$f) 2>$(BUILD)/fuzz/$$(basename $$f).log || \
			{ tail -40 $(BUILD)/fuzz/$$(basename $$f).log; exit 1; }; \
		echo "fuzz: $$(basename $$f): $$(grep -o 'Done [0-9]* runs' $(BUILD)/fuzz/$$(basename $$f).log)"; \
	done

unit: $(UNIT_HOST) $(UNIT_GUEST)
	@sh tests/run-unit.sh $(UNIT_HOST) $(UNIT_GUEST)

integration: all guest-image sample-image
	@sh tests/integration/run.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory guest-link-check
	@$(MAKE) --no-print-directory size-check
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory integration

# Full: the bad-input cases first, then the tests; the last lines are the
# result ("kvm: N passed, N failed") and the second-level stage timings.
KVM_MODE ?= full
test-kvm: deps
	@$(MAKE) --no-print-directory all guest-image
	@if [ "$(KVM_MODE)" = full ]; then bash tests/kvm/test_bad_input.sh; fi
	@bash tests/kvm/run.sh $(KVM_MODE)

bench: all guest-image sample-image
	@sh tests/bench/run.sh

# Everything make builds; the guest kernel and initramfs (build/guest/) are a
# download cache that guest-image refreshes when an input changed.
clean:
	rm -rf $(BUILD)/host $(BUILD)/san $(BUILD)/guest-obj $(BUILD)/san-guest \
		$(BUILD)/tests $(BUILD)/podvm $(BUILD)/podvmd $(BUILD)/podvm-init

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
