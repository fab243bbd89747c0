# jwt benchmark: bast_verify() per algorithm against raw EVP_DigestVerify,
# 1 and 2 threads, and libjwt's jwt_decode when Debian's libjwt-dev is
# there.  Included from plugins/jwt/plugin.mk; guarded.
ifndef JWT_BENCH_MK
JWT_BENCH_MK := 1
JWT_BENCH_LIBJWT := $(if $(wildcard /usr/include/jwt.h),-ljwt,)
$(B)/obj/tests/bench/jwt/bench_jwt.o: CFLAGS += $(if $(JWT_BENCH_LIBJWT),-DHAVE_LIBJWT=1,)
$(B)/bench/bench_jwt: $(B)/obj/tests/bench/jwt/bench_jwt.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) $(JWT_BENCH_LIBJWT) -lcrypto -lpthread
BENCH_DEPS += $(B)/bench/bench_jwt
endif
