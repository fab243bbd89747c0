/*
 * test_codec.c - strict base64/base64url (RFC 4648 vectors, padding
 * rules, non-zero pad bits, wrong alphabet), constant-time equality, the
 * path normaliser behind `paths` filters, and the request JSON parser's
 * refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bast_int.h"

#include <stdlib.h>
#include <string.h>

static void
enc(const char *in, unsigned flags, const char *want)
{
    char out[64];
    long n = bast_b64_encode(in, strlen(in), out, sizeof(out), flags);
    assert_int_equal(n, (long)strlen(want));
    assert_string_equal(out, want);
    unsigned char back[64];
    long m = bast_b64_decode(out, (size_t)n, back, sizeof(back), flags);
    assert_int_equal(m, (long)strlen(in));
    assert_memory_equal(back, in, strlen(in));
}

static long
dec(const char *in, unsigned flags)
{
    unsigned char out[64];
    return bast_b64_decode(in, strlen(in), out, sizeof(out), flags);
}

static void
test_b64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    enc("", 0, "");
    enc("f", 0, "Zg==");
    enc("fo", 0, "Zm8=");
    enc("foo", 0, "Zm9v");
    enc("foob", 0, "Zm9vYg==");
    enc("fooba", 0, "Zm9vYmE=");
    enc("foobar", 0, "Zm9vYmFy");
    enc("f", BAST_B64_URL | BAST_B64_NOPAD, "Zg");
    enc("fo", BAST_B64_URL | BAST_B64_NOPAD, "Zm8");
    enc("\xfb\xff", BAST_B64_URL | BAST_B64_NOPAD, "-_8");
    enc("\xfb\xff", 0, "+/8=");
}

static void
test_b64_strict(void **state)
{
    (void)state;
    unsigned url = BAST_B64_URL | BAST_B64_NOPAD;
    assert_int_equal(dec("Zg", url), 1);
    assert_int_equal(dec("Zg==", url), -1); /* padding where none allowed */
    assert_int_equal(dec("Zh", url), -1);   /* non-zero pad bits */
    assert_int_equal(dec("Zm9=", 0), -1);   /* non-zero pad bits */
    assert_int_equal(dec("Z", url), -1);    /* impossible length */
    assert_int_equal(dec("+/8", url), -1);  /* wrong alphabet */
    assert_int_equal(dec("-_8=", 0), -1);   /* wrong alphabet */
    assert_int_equal(dec("Zg", 0), -1);     /* padding required */
    assert_int_equal(dec("Zg=", 0), -1);
    assert_int_equal(dec("Zg===", 0), -1);
    assert_int_equal(dec("Z=g=", 0), -1);
    assert_int_equal(dec("Zm 9v", 0), -1); /* whitespace */
    assert_int_equal(dec("Zm9v\n", 0), -1);
    unsigned char small[2];
    assert_int_equal(bast_b64_decode("Zm9v", 4, small, 2, 0), -1);
    char tiny[4];
    assert_int_equal(bast_b64_encode("foo", 3, tiny, sizeof(tiny), 0), -1);
}

static void
test_ct_equal(void **state)
{
    (void)state;
    assert_true(bast_ct_equal("abcd", "abcd", 4));
    assert_false(bast_ct_equal("abcd", "abce", 4));
    assert_true(bast_ct_equal("", "", 0));
}

static void
norm(const char *in, const char *want)
{
    char out[256];
    assert_int_equal(bast__path_normalise(in, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void
test_path_normalise(void **state)
{
    (void)state;
    norm("/admin/x", "/admin/x");
    norm("/%61dmin/x", "/admin/x");
    norm("//admin///x", "/admin/x");
    norm("/a/./admin/../admin/x", "/a/admin/x");
    norm("/x/../admin", "/admin");
    norm("/../../admin", "/admin");
    norm("/admin/.", "/admin/");
    norm("/admin/..", "/");
    norm("/a%2fb", "/a%2Fb"); /* an encoded slash stays encoded */
    norm("/%7euser", "/~user");
    norm("", "/");
    norm("/%zz", "/%zz");
    char out[4];
    assert_int_equal(bast__path_normalise("/abcdef", out, sizeof(out)), -1);
}

static void
bad_request(const char *json, const char *needle)
{
    char err[256] = "";
    bast_request *r =
        bast_request_from_json(json, strlen(json), err, sizeof(err));
    assert_null(r);
    if (strstr(err, needle) == NULL)
        fail_msg("%s: '%s' lacks '%s'", json, err, needle);
}

static void
test_request_json(void **state)
{
    (void)state;
    const char *ok = "{\"method\":\"POST\",\"path\":\"/v1/x\",\"query\":"
                     "\"a=1\",\"headers\":[[\"X-A\",\"1\"],[\"x-a\",\"2\"]],"
                     "\"body_base64\":\"aGk=\",\"tls\":true,\"remote_addr\":"
                     "\"203.0.113.7\"}";
    char err[256];
    bast_request *r = bast_request_from_json(ok, strlen(ok), err, sizeof(err));
    assert_non_null(r);
    assert_string_equal(bast_req_method(r), "POST");
    assert_string_equal(bast_req_query(r), "a=1");
    assert_int_equal(bast_req_header_count(r, "X-a"), 2);
    assert_string_equal(bast_req_header(r, "X-A", 1), "2");
    assert_null(bast_req_header(r, "X-A", 2));
    size_t len;
    int present;
    const unsigned char *b = bast_req_body(r, &len, &present);
    assert_int_equal(present, 1);
    assert_int_equal(len, 2);
    assert_memory_equal(b, "hi", 2);
    assert_int_equal(bast_req_tls(r), 1);
    bast_request_free(r);

    bad_request("{\"method\":1}", "not a string");
    bad_request("{\"headers\":[[\"a\"]]}", "[name, value]");
    bad_request("{\"bogus\":1}", "unknown member 'bogus'");
    bad_request("{\"path\":\"/\",\"path\":\"/x\"}", "duplicate");
    bad_request("{\"body\":\"a\",\"body_base64\":\"YQ==\"}", "both");
    bad_request("{\"body_base64\":\"YQ\"}", "not base64");
    bad_request("[1]", "not a JSON object");
    bad_request("{", "line");
    /* headers over 16 KiB */
    size_t n = 20000;
    char *big = malloc(n + 64);
    strcpy(big, "{\"headers\":[[\"X\",\"");
    size_t at = strlen(big);
    memset(big + at, 'a', n);
    strcpy(big + at + n, "\"]]}");
    bad_request(big, "16 KiB");
    free(big);
}

static void
test_options(void **state)
{
    (void)state;
    char err[256];
    long long v;
    int b;
    bast_option o = {"n", "-5", "f.conf", 3};
    assert_int_equal(bast_opt_int(&o, -10, 10, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -5);
    assert_int_equal(bast_opt_int(&o, 0, 10, &v, err, sizeof(err)), -1);
    assert_string_equal(err, "f.conf:3: n: expected an integer in 0..10, "
                             "got '-5'");
    o.value = "12x";
    assert_int_equal(bast_opt_int(&o, 0, 100, &v, err, sizeof(err)), -1);
    o.value = "5m";
    assert_int_equal(bast_opt_duration(&o, 1, 3600, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 300);
    o.value = "2d";
    assert_int_equal(bast_opt_duration(&o, 1, 86400, &v, err, sizeof(err)), -1);
    o.value = "Yes";
    assert_int_equal(bast_opt_bool(&o, &b, err, sizeof(err)), 0);
    assert_int_equal(b, 1);
    o.value = "maybe";
    assert_int_equal(bast_opt_bool(&o, &b, err, sizeof(err)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_path_normalise),
        cmocka_unit_test(test_request_json),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
