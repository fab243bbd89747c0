# The replay store's own test, compiled with core/replay*.c directly so it
# needs nothing else from the core.  Included from plugins/hmac/plugin.mk
# (and perhaps later by a tests/*/*/build.mk wildcard): guard the second time.
ifndef HMAC_TESTS_MK
HMAC_TESTS_MK := 1
HMAC_TEST_REPLAY := $(B)/tests/hmac/test_replay
$(HMAC_TEST_REPLAY): tests/plugins/hmac/test_replay.c core/replay.c \
		core/replay_redis.c core/replay.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) -lcrypto -lhiredis -lpthread
CHECK_DEPS += $(HMAC_TEST_REPLAY)
endif
