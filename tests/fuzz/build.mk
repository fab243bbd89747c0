# tests/fuzz/build.mk - the libFuzzer targets of `make fuzz`, built with
# clang (-fsanitize=fuzzer,address,undefined) under $(B)/fuzz, whatever
# compiler the main build uses.  The core is compiled into each target and
# exported (--export-dynamic) so the instrumented plugins, built here as
# $(B)/fuzz/plugins/<name>.so without -lbast, bind to it.  A plugin's
# target exists only when plugins/<name> does.  Others' sources are built
# with -w: their warnings are the main build's business, not the fuzzer's.
FUZZ_CC ?= clang
FZ := $(B)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
    $(FUZZ_SAN) -fsanitize=fuzzer-no-link -fPIC -fvisibility=hidden \
    -MMD -MP -Iinclude -Icore -Idaemon -Itests/fuzz \
    -DBAST_DEFAULT_PLUGIN_DIR='"$(abspath $(FZ))/plugins"' \
    -DBAST_DEFAULT_CONFDIR='"/nonexistent"' \
    -DFZ_DATA='"$(abspath tests/fuzz/data)"'
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer -Wl,--export-dynamic

# clang is a test package: install the test set once per build dir
FUZZ_DEPS_STAMP := $(FZ)/.test-deps-ok
$(FUZZ_DEPS_STAMP): mk/packages.txt mk/deps.sh | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sh mk/deps.sh test
	@touch $@

$(FZ)/obj/%.o: %.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -w -c -o $@ $<

# the harness sources are ours: full warnings
$(FZ)/obj/tests/fuzz/%.o: tests/fuzz/%.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -c -o $@ $<

FUZZ_CORE_OBJ := $(CORE_SRC:%.c=$(FZ)/obj/%.o)
FUZZ_COMMON := $(FZ)/obj/tests/fuzz/common.o $(FUZZ_CORE_OBJ)

# instrumented plugins: no -lbast, their core symbols come from the target
define fuzz_plugin_rule
$(FZ)/plugins/$(1).so: $(patsubst %.c,$(FZ)/obj/%.o,$(call plugin_srcs,$(1)))
	@mkdir -p $$(@D)
	$(Q)$$(FUZZ_CC) $$(FUZZ_SAN) -shared -o $$@ $$^ $$(LIBS_$(1))
	@chmod 755 $$@
endef
$(foreach p,$(PLUGIN_NAMES),$(eval $(call fuzz_plugin_rule,$(p))))

# fuzz_target NAME, PLUGINS, EXTRA-OBJS, EXTRA-LIBS
define fuzz_target
$(FZ)/bin/fuzz_$(1): $(FZ)/obj/tests/fuzz/fuzz_$(1).o $(FUZZ_COMMON) $(3) \
		$(foreach p,$(2),$(FZ)/plugins/$(p).so)
	@mkdir -p $$(@D)
	$(Q)$$(FUZZ_CC) $$(FUZZ_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(4) $$(CORE_LIBS)
FUZZ_TARGETS += $(FZ)/bin/fuzz_$(1)
endef

FUZZ_TARGETS :=
$(eval $(call fuzz_target,b64))
$(eval $(call fuzz_target,control))
$(eval $(call fuzz_target,path))
$(eval $(call fuzz_target,request,fixed permit))
$(eval $(call fuzz_target,config,fixed permit deny))
ifneq ($(wildcard daemon/http.c daemon/main.c daemon/net.c daemon/metrics.c),)
FUZZ_BASTD_OBJ := $(patsubst %.c,$(FZ)/obj/%.o,$(wildcard daemon/*.c))
# main.c holds the logger and the generation refs the handler uses; its
# main() is renamed so libFuzzer's can run
$(FZ)/obj/daemon/main.o: FUZZ_CFLAGS += -Dmain=bastd_main_unused
$(eval $(call fuzz_target,bastd,fixed permit,$(FUZZ_BASTD_OBJ),-lmicrohttpd))
endif
# plugin targets: name -> plugin it needs (+ libs the harness links)
FUZZ_PLUGIN_TARGETS := jwt:jwt jwks:jwt apikey:apikey hmac:hmac mtls:mtls \
    basic:basic
$(foreach t,$(FUZZ_PLUGIN_TARGETS),$(if $(filter $(word 2,$(subst :, ,$(t))),$(PLUGIN_NAMES)),\
    $(eval $(call fuzz_target,$(word 1,$(subst :, ,$(t))),$(word 2,$(subst :, ,$(t))) fixed,,$(if $(findstring apikey,$(t)),-lsqlite3)))))

FUZZ_DEPS += $(FUZZ_TARGETS)

-include $(shell find $(FZ)/obj -name '*.d' 2>/dev/null)
