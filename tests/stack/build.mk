# tests/stack: the differential test against libpam (test_stack_diff), its
# libpam test module (pam_fixed_test.so, deliberately not named test_*),
# and the dispatch benchmark's fragment (tests/bench/stack/build.mk, which
# tests/*/build.mk does not reach).  The test links the static core
# archive for bast__result_raw() and exports libbast's public symbols so
# the plugins it dlopens bind to the same copy of the core.
STACK_TEST_DIR := $(B)/tests/stack
STACK_PAM_MOD  := $(STACK_TEST_DIR)/pam_fixed_test.so
STACK_DIFF     := $(STACK_TEST_DIR)/test_stack_diff

$(STACK_PAM_MOD): $(B)/obj/tests/stack/pam_fixed_test.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -o $@ $^ -lpam
	@chmod 755 $@

$(STACK_DIFF): $(B)/obj/tests/stack/test_stack_diff.o \
               $(B)/obj/tests/stack/stackgen.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -Wl,--export-dynamic -o $@ $(filter %.o,$^) $(LIB_A) \
	    -lpam $(CORE_LIBS)

CHECK_DEPS += $(STACK_PAM_MOD) $(STACK_DIFF)

-include tests/bench/stack/build.mk
