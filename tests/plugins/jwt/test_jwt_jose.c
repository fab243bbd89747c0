/*
 * test_jwt_jose.c - the JWS layer of the jwt plugin against the RFC 7515
 * Appendix A examples (HS256, RS256, ES256, ES512) and RFC 8037 A.4
 * (Ed25519), taken verbatim into rfc_tokens.txt / rfc7515.jwks: each
 * verifies with its key, fails when any one byte changes, and fails with
 * every other key (key and curve confusion).  Also the parser's refusals.
 * Linked with the plugin's own objects; prints ok / not ok lines.
 */
#include "../../../plugins/jwt/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void
check(int cond, const char *what, const char *name)
{
    printf("%s - %s %s\n", cond ? "ok" : "not ok", name, what);
    if (!cond)
        failures++;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 16);
    size_t n = f && buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    if (f)
        fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

typedef struct ctx {
    jwt_sig *sig;
    const jwt_token *t;
} ctx;

static int
try_key(const jwt_key *k, void *arg)
{
    ctx *c = arg;
    return jwt_sig_verify(c->sig, c->t->alg, k,
                          (const unsigned char *)c->t->input, c->t->inlen,
                          c->t->sig, c->t->siglen) > 0;
}

/* 1 when the token verifies with the key set restricted to `kid`. */
static int
verifies(jwt_sig *sig, const jwt_keyset *ks, const char *tok, const char *kid)
{
    jwt_token t;
    const char *why = NULL;
    ctx c = {sig, &t};
    int seen = 0, ok;
    if (jwt_token_parse(tok, strlen(tok), &t, &why) < 0)
        return 0;
    ok = jwt_keyset_each(ks, kid, t.alg, try_key, &c, &seen);
    jwt_token_clear(&t);
    return ok == 1;
}

static int
parses(const char *tok)
{
    jwt_token t;
    const char *why = NULL;
    int rc = jwt_token_parse(tok, strlen(tok), &t, &why);
    if (rc == 0)
        jwt_token_clear(&t);
    return rc == 0;
}

static void
b64(const char *s, char *out, size_t outlen)
{
    bast_b64_encode(s, strlen(s), out, outlen, BAST_B64_URL | BAST_B64_NOPAD);
}

int
main(void)
{
    const char *top = getenv("TOP");
    char path[4096], err[256], line[4096];
    char names[8][32], kids[8][32], toks[8][1024];
    size_t n = 0, len;
    jwt_crypto cr = {0};
    jwt_keyset *ks = jwt_keyset_new();
    jwt_sig *sig;
    char *jwks;
    FILE *f;
    static const char *const hashes[] = {"SHA256", "SHA384", "SHA512"};

    for (int h = 0; h < JWT_NHASH; h++)
        cr.md[h] = EVP_MD_fetch(NULL, hashes[h], NULL);
    cr.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    sig = jwt_sig_new(&cr, err, sizeof(err));

    snprintf(path, sizeof(path), "%s/tests/plugins/jwt/rfc7515.jwks",
             top ? top : ".");
    jwks = slurp(path, &len);
    check(jwt_keyset_add_jwks(ks, &cr, jwks, len, (1u << JWT_NALGS) - 1, err,
                              sizeof(err)) == 0 &&
              ks->n == 5,
          "loads (5 keys)", "rfc7515.jwks");
    free(jwks);

    snprintf(path, sizeof(path), "%s/tests/plugins/jwt/rfc_tokens.txt",
             top ? top : ".");
    if (!(f = fopen(path, "r"))) {
        printf("not ok - cannot open %s\n", path);
        return 1;
    }
    while (n < 8 && fgets(line, sizeof(line), f))
        if (line[0] != '#' &&
            sscanf(line, "%31s %31s %1023s", names[n], kids[n], toks[n]) == 3)
            n++;
    fclose(f);
    check(n == 5, "has five vectors", "rfc_tokens.txt");

    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(toks[i]), flips = 0, caught = 0;
        int others = 0;
        check(verifies(sig, ks, toks[i], kids[i]), "verifies", names[i]);
        check(verifies(sig, ks, toks[i], NULL), "verifies without kid",
              names[i]);
        /* every byte position, changed to another base64url character */
        for (size_t p = 0; p < tl; p++) {
            char save = toks[i][p];
            if (save == '.')
                continue;
            toks[i][p] = save == 'A' ? 'B' : 'A';
            flips++;
            caught += !verifies(sig, ks, toks[i], NULL);
            toks[i][p] = save;
        }
        printf("%s - %s fails with any one byte changed (%zu of %zu)\n",
               caught == flips ? "ok" : "not ok", names[i], caught, flips);
        if (caught != flips)
            failures++;
        for (size_t j = 0; j < n; j++)
            if (j != i)
                others += verifies(sig, ks, toks[i], kids[j]);
        check(others == 0, "does not verify with any other key", names[i]);
    }

    /* the parser's refusals */
    {
        char h[256], p[256], tok[1024];
        b64("{\"iss\":\"joe\"}", p, sizeof(p));
        b64("{\"alg\":\"none\"}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.", h, p);
        check(!parses(tok), "refused", "alg none, empty signature");
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "alg none with a signature");
        b64("{\"alg\":\"None\"}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "alg None");
        b64("{\"alg\":\"HS256\",\"alg\":\"RS256\"}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "duplicate alg");
        b64("{\"alg\":\"RS256\"}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAB", h, p);
        check(!parses(tok), "refused", "non-zero pad bits in signature");
        snprintf(tok, sizeof(tok), "%s=.%s.AAAA", h, p);
        check(!parses(tok), "refused", "padded header");
        snprintf(tok, sizeof(tok), "%s.%s.AA+A", h, p);
        check(!parses(tok), "refused", "base64 (not url) alphabet");
        snprintf(tok, sizeof(tok), "%s.%s.AAAA.AAAA", h, p);
        check(!parses(tok), "refused", "four segments");
        snprintf(tok, sizeof(tok), "%s.%s", h, p);
        check(!parses(tok), "refused", "two segments");
        b64("[\"alg\",\"RS256\"]", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "header not an object");
        b64("{\"alg\":\"RS256\",\"kid\":7}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "numeric kid");
        b64("{\"alg\":\"RS256\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"
            "}",
            h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(!parses(tok), "refused", "header nested too deep");
        b64("{\"alg\":\"RS256\"}", h, sizeof(h));
        snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
        check(parses(tok), "accepted", "a well-formed RS256 header");
    }

    jwt_keyset_unref(ks);
    jwt_sig_free(sig);
    for (int h = 0; h < JWT_NHASH; h++)
        EVP_MD_free(cr.md[h]);
    EVP_MAC_free(cr.hmac);
    return failures ? 1 : 0;
}
