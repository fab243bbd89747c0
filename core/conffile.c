/*
 * conffile.c - read one INI file (an app's conf.d/<app>.conf, or
 * bast.conf) into sections with inih, keeping every key's line.  Our own
 * line reader feeds inih, so line numbers are known (Debian's inih has
 * none in its callback), lines over 199 characters are refused instead
 * of truncated, sections are registered as their header is read (so empty
 * and repeated sections are caught), and a repeated key - which is also
 * what an indented continuation line looks like - is an error.  Files
 * must not be writable by group or others.  Also bast.conf's [bast].
 */
#include "bast_int.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- reading one file ------------------------------------------------- */

struct reader {
    const char *buf;
    size_t len, pos;
    int line;
    struct bast__sections *s;
    const char *rel;
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct reader *r, const char *fmt, ...)
{
    if (!r->failed) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        bast__seterr(r->err, r->errlen, "%s:%d: %s", r->rel, r->line, msg);
        r->failed = 1;
    }
    return 0;
}

static int
add_section(struct reader *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->s->nsec; i++)
        if (strlen(r->s->sec[i].name) == len &&
            memcmp(r->s->sec[i].name, name, len) == 0)
            return fail(r, "[%.*s]: repeated section (first at line %d)",
                        (int)len, name, r->s->sec[i].line);
    struct bast__section *s = realloc(r->s->sec, (r->s->nsec + 1) * sizeof(*s));
    if (s == NULL)
        return fail(r, "out of memory");
    r->s->sec = s;
    s = &s[r->s->nsec];
    memset(s, 0, sizeof(*s));
    s->name = strndup(name, len);
    s->line = r->line;
    if (s->name == NULL)
        return fail(r, "out of memory");
    r->s->nsec++;
    return 1;
}

static char *
read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (r->pos >= r->len || r->failed)
        return NULL;
    const char *start = r->buf + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
    r->pos += n + (nl ? 1 : 0);
    r->line++;
    if (memchr(start, '\0', n)) {
        fail(r, "NUL byte in file");
        return NULL;
    }
    if (n > BAST_MAX_LINE || (int)n >= num) {
        fail(r, "line longer than %d characters", BAST_MAX_LINE);
        return NULL;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    /* register sections here, where the line number is known, so empty
     * and repeated sections are caught too */
    const char *p = str;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (end == NULL) {
            fail(r, "section header without ']'");
            return NULL;
        }
        size_t len = (size_t)(end - p - 1);
        if (len == 0) {
            fail(r, "empty section name");
            return NULL;
        }
        for (const char *c = p + 1; c < end; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' ||
                  *c == '.')) {
                fail(r, "[%.*s]: section names use letters, digits, - _ .",
                     (int)len, p + 1);
                return NULL;
            }
        if (!add_section(r, p + 1, len))
            return NULL;
    }
    return str;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    if (r->failed)
        return 0;
    if (r->s->nsec == 0 || strcmp(section, r->s->sec[r->s->nsec - 1].name))
        return fail(r, "%s: key outside a section", name);
    struct bast__section *s = &r->s->sec[r->s->nsec - 1];
    for (size_t i = 0; i < s->nkv; i++)
        if (strcmp(s->kv[i].key, name) == 0)
            return fail(r,
                        "%s: repeated key (first at line %d; indented lines "
                        "continue a value and count as a repeat)",
                        name, s->kv[i].line);
    struct bast__kv *kv = realloc(s->kv, (s->nkv + 1) * sizeof(*kv));
    if (kv == NULL)
        return fail(r, "out of memory");
    s->kv = kv;
    kv[s->nkv].key = strdup(name);
    kv[s->nkv].value = strdup(value);
    kv[s->nkv].line = r->line;
    s->nkv++;
    if (!kv[s->nkv - 1].key || !kv[s->nkv - 1].value)
        return fail(r, "out of memory");
    return 1;
}

static int
slurp(const char *path, const char *rel, char **out, size_t *len, char *err,
      size_t errlen)
{
    char eb[128];
    FILE *fp = fopen(path, "re");
    struct stat st;
    if (fp == NULL) {
        bast__seterr(err, errlen, "%s: %s", rel,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        bast__seterr(err, errlen, "%s: not a regular file", rel);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        fclose(fp);
        bast__seterr(err, errlen,
                     "%s: writable by group or others (mode %04o): anyone "
                     "could change this stack",
                     rel, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    if ((size_t)st.st_size > BAST_MAX_CONF_BYTES) {
        fclose(fp);
        bast__seterr(err, errlen, "%s: larger than 1 MiB", rel);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
    fclose(fp);
    if (buf == NULL) {
        bast__seterr(err, errlen, "%s: out of memory", rel);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int
bast__conf_read(struct bast__sections *s, const char *path, const char *rel,
                char *err, size_t errlen)
{
    char *buf;
    size_t len;
    if (slurp(path, rel, &buf, &len, err, errlen) != 0)
        return -1;
    struct reader r = {buf, len, 0, 0, s, rel, err, errlen, 0};
    char *line = malloc(BAST_MAX_LINE + 2);
    int rc = line ? ini_parse_stream(read_line, &r, on_key, &r) : -2;
    free(line);
    free(buf);
    if (r.failed)
        return -1;
    if (rc != 0) {
        bast__seterr(err, errlen,
                     "%s:%d: syntax error (expected "
                     "[section], key = value or a comment)",
                     rel, rc > 0 ? rc : r.line);
        return -1;
    }
    return 0;
}

void
bast__sections_free(struct bast__sections *s)
{
    for (size_t i = 0; i < s->nsec; i++) {
        for (size_t k = 0; k < s->sec[i].nkv; k++) {
            free(s->sec[i].kv[k].key);
            free(s->sec[i].kv[k].value);
        }
        free(s->sec[i].kv);
        free(s->sec[i].name);
    }
    free(s->sec);
    s->sec = NULL;
    s->nsec = 0;
}

/* ---- bast.conf: [bast] plugin_dir, audit, replay ----------------------- */

int
bast__global_conf(const char *confdir, char *plugin_dir, size_t pdlen,
                  char *audit, size_t alen, char *replay, size_t rlen,
                  char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/bast.conf", confdir);
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    struct bast__sections f = {0};
    int rc = bast__conf_read(&f, path, "bast.conf", err, errlen);
    for (size_t i = 0; rc == 0 && i < f.nsec; i++) {
        const struct bast__section *s = &f.sec[i];
        if (strcmp(s->name, "bast") != 0) {
            bast__seterr(err, errlen,
                         "bast.conf:%d: [%s]: unknown section "
                         "(only [bast])",
                         s->line, s->name);
            rc = -1;
            break;
        }
        for (size_t k = 0; rc == 0 && k < s->nkv; k++) {
            const struct bast__kv *kv = &s->kv[k];
            char *dst = NULL;
            size_t dl = 0;
            if (strcmp(kv->key, "plugin_dir") == 0) {
                dst = plugin_dir;
                dl = pdlen;
            } else if (strcmp(kv->key, "audit") == 0) {
                dst = audit;
                dl = alen;
            } else if (strcmp(kv->key, "replay") == 0) {
                dst = replay;
                dl = rlen;
            }
            if (dst == NULL) {
                bast__seterr(err, errlen,
                             "bast.conf:%d: %s: unknown key "
                             "(plugin_dir, audit, replay)",
                             kv->line, kv->key);
                rc = -1;
            } else if (snprintf(dst, dl, "%s", kv->value) >= (int)dl) {
                bast__seterr(err, errlen, "bast.conf:%d: %s: too long",
                             kv->line, kv->key);
                rc = -1;
            }
        }
    }
    bast__sections_free(&f);
    return rc;
}
