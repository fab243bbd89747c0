# daemon/build.mk - bastd, the verification daemon (libmicrohttpd).
BASTD_SRC := $(wildcard daemon/*.c)
BASTD_OBJ := $(BASTD_SRC:%.c=$(B)/obj/%.o)

$(B)/bin/bastd: $(BASTD_OBJ) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(BASTD_OBJ) $(BIN_LDFLAGS) -lmicrohttpd -ljansson -lpthread

ALL_TARGETS += $(B)/bin/bastd
INSTALL_BINS += $(B)/bin/bastd
# `all:` expanded ALL_TARGETS before this fragment was read: add to it here.
all: $(B)/bin/bastd
