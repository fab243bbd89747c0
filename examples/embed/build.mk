# examples/embed/build.mk - the embedding example, built for `make check`
# (tests/e2e/embed.test.sh runs it).  Included from tests/e2e/build.mk,
# since the top Makefile only reads one level of */build.mk.
EMBED_BIN := $(B)/examples/embed/embed

$(EMBED_BIN): $(B)/obj/examples/embed/embed.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(B)/obj/examples/embed/embed.o -L$(B)/lib \
	    -Wl,-rpath,'$$ORIGIN/../../lib' -lbast -lpthread

CHECK_DEPS += $(EMBED_BIN)
