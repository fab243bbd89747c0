# tests/bench/stack: bast_verify() against libpam's pam_authenticate() on
# the same stacks.  Included from tests/stack/build.mk (tests/*/build.mk
# does not reach this folder); the guard makes a second include (a wider
# wildcard in the Makefile) harmless, in either order.
ifndef BENCH_STACK_MK
BENCH_STACK_MK := 1
BENCH_STACK := $(B)/bench/bench_stack

$(BENCH_STACK): $(B)/obj/tests/bench/stack/bench_stack.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -lpam

BENCH_DEPS += $(BENCH_STACK) $(B)/tests/stack/pam_fixed_test.so
endif
