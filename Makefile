# bast - GNU make, non-recursive.  Everything is built under $(B).
#   make            libbast, plugins, the bast command (and whatever else is here)
#   make check      the test suite (SAN=address,undefined for the sanitizer build)
#   make demo       build, then verify example requests against conf.d/
#   make bench      benchmarks (ratios against a baseline in the same run)
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS=N each
#   make install    PREFIX=/usr/local DESTDIR=
#   make lint       clang-format check
# Folders hook in with fragments: plugins/<name>.mk, plugins/<name>/plugin.mk,
# <folder>/build.mk.  Missing Debian packages are installed when root.

PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
BINDIR    ?= $(PREFIX)/bin
INCDIR    ?= $(PREFIX)/include
PLUGINDIR ?= $(LIBDIR)/bast/plugins
CONFDIR   ?= /etc/bast
SAN       ?=
B         ?= build$(if $(SAN),-san)
WERROR    ?= -Werror
CC        ?= cc
SOVERSION := 0

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wvla $(WERROR)
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=3
OPT := -O2 -g
ifneq ($(SAN),)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all
HARDEN := -fstack-protector-strong
endif
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(HARDEN) $(WARN) -fPIC \
           -fvisibility=hidden -MMD -MP -Iinclude -Icore \
           -DBAST_DEFAULT_PLUGIN_DIR='"$(PLUGINDIR)"' \
           -DBAST_DEFAULT_CONFDIR='"$(CONFDIR)"'
LDFLAGS ?=
LDFLAGS += $(if $(SAN),-fsanitize=$(SAN)) -Wl,-z,relro,-z,now

CORE_LIBS := -lssl -lcrypto -linih -ljansson -lhiredis -lpthread -ldl
PLUGIN_LDFLAGS = -shared -L$(B)/lib -Wl,-rpath,'$$ORIGIN/../lib' -Wl,-rpath,$(LIBDIR) -lbast
BIN_LDFLAGS = -L$(B)/lib -Wl,-rpath,'$$ORIGIN/../lib' -Wl,-rpath,$(LIBDIR) -lbast
# test and bench programs live deeper: an absolute rpath to the build
TEST_LDFLAGS = -L$(B)/lib -Wl,-rpath,$(abspath $(B))/lib -lbast

DEPS_STAMP := $(B)/.deps-ok
LIB_SO     := $(B)/lib/libbast.so
LIB_SONAME := libbast.so.$(SOVERSION)
LIB_A      := $(B)/lib/libbast.a

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o)

# plugins: single files plugins/<name>.c, or folders plugins/<name>/*.c
PLUGIN_FILES := $(wildcard plugins/*.c)
PLUGIN_DIRS  := $(patsubst %/,%,$(dir $(wildcard plugins/*/*.c)))
PLUGIN_NAMES := $(sort $(basename $(notdir $(PLUGIN_FILES))) $(notdir $(PLUGIN_DIRS)))
PLUGIN_SOS   := $(PLUGIN_NAMES:%=$(B)/plugins/%.so)
plugin_srcs   = $(wildcard plugins/$(1).c plugins/$(1)/*.c)

CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)

ALL_TARGETS := $(LIB_SO) $(LIB_A) $(PLUGIN_SOS) $(B)/bin/bast $(B)/bast.pc
CHECK_DEPS  :=

# keep objects of pattern chains (no rm of intermediate .o files)
.SECONDARY:

.DEFAULT_GOAL := all
# fragments first: they add to ALL_TARGETS, CHECK_DEPS, BENCH_DEPS, ...
-include $(wildcard plugins/*.mk plugins/*/plugin.mk */build.mk tests/*/build.mk tests/*/*/build.mk)

.PHONY: all check demo bench fuzz install lint clean deps test-deps
all: $(ALL_TARGETS)

$(DEPS_STAMP): mk/packages.txt mk/deps.sh
	@mkdir -p $(@D)
	@sh mk/deps.sh build
	@touch $@
deps: $(DEPS_STAMP)
test-deps: $(DEPS_STAMP)
	@sh mk/deps.sh test

Q := $(if $(V),,@)

$(B)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_SO): $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) $(LDFLAGS) -o $@.$(SOVERSION) $^ $(CORE_LIBS)
	ln -sf libbast.so.$(SOVERSION) $@

$(LIB_A): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/bast: $(CLI_OBJ) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BIN_LDFLAGS) -ljansson

# one rule per plugin; a fragment may set LIBS_<name>
define plugin_rule
$(B)/plugins/$(1).so: $(patsubst %.c,$(B)/obj/%.o,$(call plugin_srcs,$(1))) $(LIB_SO)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(PLUGIN_LDFLAGS) $$(LIBS_$(1))
	@chmod 755 $$@
endef

$(B)/bast.pc: mk/bast.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@PLUGINDIR@|$(PLUGINDIR)|' \
	    -e 's|@VERSION@|0.1.0|' $< > $@

$(foreach p,$(PLUGIN_NAMES),$(eval $(call plugin_rule,$(p))))

check: all test-deps $(CHECK_DEPS)
	@B=$(B) SAN=$(SAN) CC=$(CC) bash tests/run

demo: all
	@sh mk/deps.sh demo
	@B=$(B) bash mk/demo.sh

bench: all $(BENCH_DEPS)
	@B=$(B) bash tests/bench/run

fuzz: $(FUZZ_DEPS)
	@B=$(B) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),10) bash tests/fuzz/run

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(LIB_SO).$(SOVERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libbast.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libbast.so
	install -m 644 include/bast.h include/bast_plugin.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(B)/bast.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 755 $(PLUGIN_SOS) $(DESTDIR)$(PLUGINDIR)/
	install -m 755 $(INSTALL_BINS) $(B)/bin/bast $(DESTDIR)$(BINDIR)/
	$(INSTALL_EXTRA)

lint:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "lint: ok"

clean:
	rm -rf build build-san

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
