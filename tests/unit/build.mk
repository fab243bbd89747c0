# Unit tests: cmocka programs linked against the static archive, so core
# internals (bast__*) are reachable.  Each tests/unit/test_X.c becomes
# $(B)/tests/unit/test_X, run by tests/run.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
CHECK_DEPS += $(UNIT_BIN)

$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(CORE_LIBS) -lcmocka
