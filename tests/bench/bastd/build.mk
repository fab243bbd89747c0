# tests/bench/bastd/build.mk - the in-process baseline of the bastd
# benchmark (run.sh).  Included from tests/e2e/build.mk.
ifndef BASTD_BENCH_MK
BASTD_BENCH_MK := 1
$(B)/bench/bastd_inproc: $(B)/obj/tests/bench/bastd/inproc.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(B)/obj/tests/bench/bastd/inproc.o $(BIN_LDFLAGS) -lpthread
BENCH_DEPS += $(B)/bench/bastd_inproc $(B)/bin/bastd
endif
