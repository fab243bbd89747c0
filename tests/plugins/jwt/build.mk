# tests/plugins/jwt: the JWS-layer vector test (test_jwt_jose, linked with
# the plugin's own objects and libbast for base64), test_jwt_threads
# (concurrent bast_verify with a refreshing jwks_uri) and jwt_driver, a
# long-lived host the shell tests feed requests to.  Included from
# plugins/jwt/plugin.mk (tests/*/build.mk does not reach this folder).
ifndef JWT_TESTS_MK
JWT_TESTS_MK := 1
JWT_TEST_DIR := $(B)/tests/plugins/jwt
JWT_LAYER_OBJ := $(patsubst %.c,$(B)/obj/%.o,plugins/jwt/alg.c \
    plugins/jwt/keys.c plugins/jwt/sig.c plugins/jwt/jose.c)

$(JWT_TEST_DIR)/test_jwt_jose: $(B)/obj/tests/plugins/jwt/test_jwt_jose.o \
		$(JWT_LAYER_OBJ) $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -Wl,-rpath,'$$ORIGIN/../../../lib' -ljansson -lcrypto -lpthread

$(JWT_TEST_DIR)/jwt_driver: $(B)/obj/tests/plugins/jwt/jwt_driver.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -Wl,-rpath,'$$ORIGIN/../../../lib'

$(JWT_TEST_DIR)/test_jwt_threads: $(B)/obj/tests/plugins/jwt/test_jwt_threads.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BIN_LDFLAGS) -Wl,-rpath,'$$ORIGIN/../../../lib' -lpthread

CHECK_DEPS += $(JWT_TEST_DIR)/test_jwt_jose $(JWT_TEST_DIR)/jwt_driver \
    $(JWT_TEST_DIR)/test_jwt_threads
endif
