# Test-only plugins for the loader and threading tests, built to
# $(B)/tests/core/plugins/NAME.so, and the threading test program.
CORE_TEST_PLUGINS := $(patsubst tests/core/plugins/%.c,$(B)/tests/core/plugins/%.so,$(wildcard tests/core/plugins/*.c))
CHECK_DEPS += $(CORE_TEST_PLUGINS) $(B)/tests/core/test_threads

$(B)/tests/core/plugins/%.so: $(B)/obj/tests/core/plugins/%.o $(LIB_SO)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(PLUGIN_LDFLAGS)
	@chmod 755 $@

$(B)/tests/core/test_threads: $(B)/obj/tests/core/test_threads.o $(LIB_SO)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LDFLAGS) -lpthread
