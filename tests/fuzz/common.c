/*
 * common.c - the shared part of the fuzz targets (see common.h): temp
 * config directory, plugin directory, context opening, the mini request
 * parser and a verify that touches every field of the result.
 */
#include "common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];
static char plugdir[PATH_MAX];
static char pathbuf[PATH_MAX];

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    remove(p);
    return 0;
}

static void
rm_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fz_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/bast-fuzz.XXXXXX");
        if (mkdtemp(tmpdir) == NULL) {
            perror("mkdtemp");
            abort();
        }
        chmod(tmpdir, 0755);
        atexit(rm_tmpdir);
    }
    return tmpdir;
}

const char *
fz_path(const char *rel)
{
    snprintf(pathbuf, sizeof pathbuf, "%s/%s", fz_tmpdir(), rel);
    return pathbuf;
}

static void
mkparents(const char *path)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + strlen(fz_tmpdir()) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(d, 0755);
        *p = '/';
    }
}

void
fz_write(const char *rel, const void *data, size_t len, unsigned mode)
{
    const char *p = fz_path(rel);
    mkparents(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) ||
        fchmod(fd, (mode_t)mode) != 0) {
        perror(p);
        abort();
    }
    close(fd);
}

void
fz_write_text(const char *rel, const char *text, unsigned mode)
{
    fz_write(rel, text, strlen(text), mode);
}

void
fz_global_conf(void)
{
    fz_write_text("bast.conf",
                  "[bast]\naudit = off\nreplay = memory:max=4096\n", 0644);
}

char *
fz_read_data(const char *name, size_t *len)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", FZ_DATA, name);
    FILE *f = fopen(p, "rb");
    if (f == NULL) {
        perror(p);
        abort();
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            buf = realloc(buf, cap);
            if (buf == NULL)
                abort();
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

void
fz_copy_data(const char *name, unsigned mode)
{
    size_t n;
    char *d = fz_read_data(name, &n);
    fz_write(name, d, n, mode);
    free(d);
}

const char *
fz_plugin_dir(void)
{
    if (!plugdir[0]) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            abort();
        exe[n] = 0;
        snprintf(plugdir, sizeof plugdir, "%s/../plugins", dirname(exe));
        char *r = realpath(plugdir, NULL);
        if (r == NULL) {
            fprintf(stderr, "fuzz: no plugin dir %s\n", plugdir);
            abort();
        }
        snprintf(plugdir, sizeof plugdir, "%s", r);
        free(r);
    }
    return plugdir;
}

void
fz_keep_plugins(const char *names)
{
    char buf[256], path[PATH_MAX + 300];
    snprintf(buf, sizeof buf, "%s", names);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        snprintf(path, sizeof path, "%s/%s.so", fz_plugin_dir(), w);
        if (dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL) {
            fprintf(stderr, "fuzz: %s\n", dlerror());
            abort();
        }
    }
}

void
fz_only_plugins(const char *names)
{
    char buf[256], from[PATH_MAX + 300], to[PATH_MAX + 300];
    fz_keep_plugins(names);
    snprintf(buf, sizeof buf, "%s", names);
    mkdir(fz_path("plugins"), 0755);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        snprintf(from, sizeof from, "%s/%s.so", fz_plugin_dir(), w);
        snprintf(to, sizeof to, "%s/plugins/%s.so", fz_tmpdir(), w);
        if (symlink(from, to) != 0) {
            perror(to);
            abort();
        }
    }
    snprintf(plugdir, sizeof plugdir, "%s/plugins", fz_tmpdir());
}

bast_ctx *
fz_open(char *err, size_t errlen)
{
    bast_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.plugin_dir = fz_plugin_dir();
    return bast_open(fz_tmpdir(), &o, err, errlen);
}

bast_ctx *
fz_open_or_die(void)
{
    char err[1024] = "";
    bast_ctx *ctx = fz_open(err, sizeof err);
    if (ctx == NULL) {
        fprintf(stderr, "fuzz: config did not load: %s\n", err);
        abort();
    }
    return ctx;
}

/* A bounded copy of [p, p+n) as a C string (NULs end it early). */
static char *
dupn(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

bast_request *
fz_request(const uint8_t *data, size_t size)
{
    bast_request *req = bast_request_new();
    if (req == NULL)
        abort();
    bast_request_set_time(req, FZ_NOW);
    bast_request_set_tls(req, 1);
    bast_request_set_remote_addr(req, "127.0.0.1");
    size_t i = 0;
    int bad = 0;
    while (i < size && !bad) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - i;
        if (len && data[end - 1] == '\r')
            len--;
        if (len == 0) { /* the empty line: the rest is the body */
            i = end + 1;
            if (i <= size &&
                bast_request_set_body(req, data + i, size - i) != 0)
                bad = 1;
            i = size;
            break;
        }
        char *line = dupn(data + i, len);
        char *v;
        if (line[0] == ':') {
            v = strchr(line, ' ');
            v = v ? v + 1 : line + strlen(line);
            if (strncmp(line, ":method ", 8) == 0)
                bad = bast_request_set_method(req, v) != 0;
            else if (strncmp(line, ":path ", 6) == 0)
                bad = bast_request_set_path(req, v) != 0;
            else if (strncmp(line, ":query ", 7) == 0)
                bad = bast_request_set_query(req, v) != 0;
            else if (strncmp(line, ":addr ", 6) == 0)
                bad = bast_request_set_remote_addr(req, v) != 0;
            else if (strcmp(line, ":notls") == 0)
                bast_request_set_tls(req, 0);
        } else if ((v = strchr(line, ':')) != NULL) {
            *v++ = 0;
            while (*v == ' ' || *v == '\t')
                v++;
            bad = bast_request_add_header(req, line, v) != 0;
        }
        free(line);
        i = end + 1;
    }
    if (bad) {
        bast_request_free(req);
        return NULL;
    }
    return req;
}

static volatile size_t sink;

static void
touch(const char *s)
{
    if (s)
        sink += strlen(s);
}

void
fz_verify(const bast_ctx *ctx, const char *app, const bast_request *req)
{
    bast_result *res = NULL;
    bast_decision d = bast_verify(ctx, app, req, &res);
    if (res == NULL)
        return;
    if (bast_result_decision(res) != d)
        abort();
    int st = bast_result_status(res);
    if ((d == BAST_ALLOW) != (st == 200))
        abort(); /* an allow is 200 and only an allow is */
    if (d != BAST_ALLOW && bast_result_identity(res) != NULL)
        abort(); /* identity only on allow */
    touch(bast_result_app(res));
    touch(bast_result_identity(res));
    touch(bast_result_scheme(res));
    touch(bast_result_module(res));
    touch(bast_result_error(res));
    touch(bast_result_error_description(res));
    for (size_t i = 0; i < bast_result_challenge_count(res); i++)
        touch(bast_result_challenge(res, i));
    for (size_t i = 0; i < bast_result_trace_count(res); i++) {
        touch(bast_result_trace_module(res, i));
        touch(bast_result_trace_result(res, i));
    }
    char *a = bast_result_attributes_json(res);
    touch(a);
    bast_free(a);
    char *j = bast_result_to_json(res);
    touch(j);
    if (getenv("FZ_DEBUG")) /* to check by hand what a seed reaches */
        fprintf(stderr, "%s: %s\n", app, j ? j : "(null)");
    bast_free(j);
    bast_result_free(res);
}

void
fz_two_apps(const bast_ctx *ctx, const uint8_t *data, size_t size)
{
    if (size < 1 || size > 32768)
        return;
    bast_request *req = fz_request(data + 1, size - 1);
    if (req == NULL)
        return;
    fz_verify(ctx, (data[0] & 1) ? "b" : "a", req);
    bast_request_free(req);
}
