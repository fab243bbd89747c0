# tests/e2e/build.mk - helpers of the end-to-end tests: the echo plugin
# (reports the request it saw), the libpam driver for pam_bast, and
# bastd/pam_bast themselves; plus the embedding example and the bastd
# benchmark's in-process baseline (fragments below this level are not
# read by the top Makefile).
E2E_DIR := $(B)/tests/e2e

$(E2E_DIR)/echo.so: $(B)/obj/tests/e2e/echo_plugin.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(B)/obj/tests/e2e/echo_plugin.o $(PLUGIN_LDFLAGS) \
	    -Wl,-rpath,'$$ORIGIN/../../lib'
	@chmod 755 $@

$(E2E_DIR)/pam_driver: $(B)/obj/tests/e2e/pam_driver.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lpam

CHECK_DEPS += $(E2E_DIR)/echo.so $(E2E_DIR)/pam_driver $(B)/bin/bastd \
              $(B)/lib/pam_bast.so

-include examples/embed/build.mk
-include tests/bench/bastd/build.mk
