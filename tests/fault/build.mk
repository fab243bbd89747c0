# tests/fault/build.mk - the two fault-injection plugins (badresult: an
# out-of-range answer; badopen: a failing or crashing open) built with the
# main compiler and flags to $(B)/tests/fault/plugins/, a folder the test
# runner does not execute (it runs only files named test_*).
FAULT_PLUGINS := $(B)/tests/fault/plugins/badresult.so \
    $(B)/tests/fault/plugins/badopen.so

$(B)/tests/fault/plugins/%.so: $(B)/obj/tests/fault/%.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< -shared -L$(B)/lib \
	    -Wl,-rpath,'$$ORIGIN/../../../lib' -lbast
	@chmod 755 $@

CHECK_DEPS += $(FAULT_PLUGINS)
