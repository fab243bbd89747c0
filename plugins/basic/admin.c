/*
 * admin.c - `bast basic add|remove|list --app APP --module NAME`: edit the
 * instance's users_file.  `add ID [--hash bcrypt|yescrypt|sha512crypt]
 * [--cost N] [--replace]` (bcrypt cost 10 by default) reads the secret from
 * stdin (a prompt with echo off on a terminal), never from argv; `remove ID`;
 * `list [--json]`.  The file is rewritten atomically: a temporary file in the
 * same folder, fsync, rename, fsync of the folder, under an exclusive lock on
 * the folder.
 */
#include "basic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

static int
usage(int help)
{
    fprintf(help ? stdout : stderr,
            "usage: bast basic add ID [--hash bcrypt|yescrypt|sha512crypt] "
            "[--cost N] [--replace] --app APP --module NAME\n"
            "       bast basic remove ID --app APP --module NAME\n"
            "       bast basic list [--json] --app APP --module NAME\n"
            "The secret of `add` is read from standard input.\n");
    return help ? 0 : 2;
}

/* One line of secret: from the terminal with echo off, or from stdin. */
static int
read_line(FILE *in, char *buf, size_t len)
{
    size_t n;

    if (fgets(buf, (int)len, in) == NULL)
        return -1;
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(in))
        return -1; /* longer than the buffer */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}

static int
read_secret(const char *id, char *buf, size_t len)
{
    struct termios old, quiet;
    char again[BASIC_MAX_SECRET + 2];
    int tty = isatty(STDIN_FILENO), ret = -1;

    if (!tty)
        return read_line(stdin, buf, len);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return -1;
    fprintf(stderr, "Secret for %s: ", id);
    if (read_line(stdin, buf, len) == 0) {
        fprintf(stderr, "\nAgain: ");
        if (read_line(stdin, again, sizeof(again)) == 0) {
            if (strcmp(buf, again) == 0)
                ret = 0;
            else
                fprintf(stderr, "\nthe two secrets differ");
        }
    }
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    OPENSSL_cleanse(again, sizeof(again));
    return ret;
}

static int
make_hash(const char *kind, unsigned long cost, const char *secret, char *out,
          size_t outlen)
{
    const char *prefix = strcmp(kind, "bcrypt") == 0        ? "$2b$"
                         : strcmp(kind, "yescrypt") == 0    ? "$y$"
                         : strcmp(kind, "sha512crypt") == 0 ? "$6$"
                                                            : NULL;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd;
    const char *h;
    int ret = -1;

    if (prefix == NULL)
        return -1;
    /* libcrypt's default bcrypt cost (5, as htpasswd's) is low for a
     * secret that may be guessed offline: 10 unless asked otherwise.
     * Count 0 is the library's default; it draws the salt itself. */
    if (cost == 0 && prefix[1] == '2')
        cost = 10;
    if (crypt_gensalt_rn(prefix, cost, NULL, 0, setting, sizeof(setting)) ==
        NULL)
        return -1;
    cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return -1;
    h = crypt_rn(secret, setting, cd, (int)sizeof(*cd));
    if (h != NULL && h[0] != '*' && strlen(h) < outlen &&
        basic_hash_refusal(h) == NULL) {
        strcpy(out, h);
        ret = 0;
    }
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return ret;
}

/* Copy the file's lines, minus the entry `drop` (if any), plus `add`
 * (if any), to a temporary file beside it, then rename over it. */
static int
rewrite(const char *path, const char *drop, const char *add)
{
    char tmp[4200], line[BASIC_MAX_LINE + 2];
    FILE *in = fopen(path, "re"), *out = NULL;
    struct stat st;
    mode_t mode = 0640;
    int fd, ret = -1;
    size_t dl = drop ? strlen(drop) : 0;

    if (in == NULL && errno != ENOENT) {
        fprintf(stderr, "bast basic: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (in != NULL && fstat(fileno(in), &st) == 0)
        mode = st.st_mode & 0755; /* never group/world-writable */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        goto done;
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "bast basic: cannot create %s: %s\n", tmp,
                strerror(errno));
        goto done;
    }
    if (fchmod(fd, mode) != 0 || (out = fdopen(fd, "w")) == NULL) {
        close(fd);
        goto unlink;
    }
    /* Keep the owner when we may (root); otherwise the file becomes ours. */
    if (in != NULL && fchown(fd, st.st_uid, st.st_gid) != 0) {
    }
    while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
        char *colon = strrchr(line, ':');
        if (drop != NULL && line[0] != '#' && colon != NULL &&
            (size_t)(colon - line) == dl && memcmp(line, drop, dl) == 0)
            continue;
        fputs(line, out);
        if (strchr(line, '\n') == NULL)
            fputc('\n', out);
    }
    if (add != NULL)
        fprintf(out, "%s\n", add);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        fprintf(stderr, "bast basic: cannot write %s\n", tmp);
        goto unlink;
    }
    if (fclose(out) != 0) {
        out = NULL;
        goto unlink;
    }
    out = NULL;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "bast basic: cannot rename to %s: %s\n", path,
                strerror(errno));
        goto unlink;
    }
    ret = 0;
    goto done;
unlink:
    if (out != NULL)
        fclose(out);
    unlink(tmp);
done:
    if (in != NULL)
        fclose(in);
    return ret;
}

static int
with_dir_lock(const char *path, int *dfd)
{
    char copy[4096];

    snprintf(copy, sizeof(copy), "%s", path);
    *dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0 || flock(*dfd, LOCK_EX) != 0) {
        fprintf(stderr, "bast basic: cannot lock the folder of %s\n", path);
        return -1;
    }
    return 0;
}

static int
cmd_list(const basic_users *u, int json)
{
    size_t i;

    if (json) {
        json_t *a = json_array();
        char *s;
        for (i = 0; a != NULL && i < u->n; i++)
            json_array_append_new(
                a, json_pack("{s:s%,s:s,s:i}", "id", u->v[i].id, u->v[i].idlen,
                             "hash", basic_hash_kind(u->v[i].hash), "line",
                             u->v[i].line));
        s = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (s == NULL)
            return 1;
        printf("%s\n", s);
        free(s);
        return 0;
    }
    for (i = 0; i < u->n; i++)
        printf("%s\t%s\n", u->v[i].id, basic_hash_kind(u->v[i].hash));
    return 0;
}

int
basic_admin(void *state, const bast_instance *inst, int argc, char **argv)
{
    const char *path = basic_path(state), *id = NULL, *kind = "bcrypt", *why;
    char err[600], secret[BASIC_MAX_SECRET + 2], hash[CRYPT_OUTPUT_SIZE];
    char *entry = NULL;
    basic_users *u = NULL;
    int json = 0, replace = 0, dfd = -1, ret = 1, i;
    unsigned long cost = 0;

    (void)inst;
    if (argc < 1)
        return usage(0);
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0)
        return usage(1);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--replace") == 0)
            replace = 1;
        else if (strcmp(argv[i], "--hash") == 0 && i + 1 < argc)
            kind = argv[++i];
        else if (strcmp(argv[i], "--cost") == 0 && i + 1 < argc) {
            char *end;
            cost = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || cost == 0)
                return usage(0);
        } else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return usage(0);
    }
    if (strcmp(argv[0], "list") == 0 ? id != NULL
        : strcmp(argv[0], "add") == 0 || strcmp(argv[0], "remove") == 0
            ? id == NULL
            : 1)
        return usage(0);
    if (id != NULL && (why = basic_id_refusal(id, strlen(id))) != NULL) {
        fprintf(stderr, "bast basic: %s\n", why);
        return 2;
    }
    if (strcmp(argv[0], "list") != 0 && with_dir_lock(path, &dfd) != 0)
        goto done;
    u = basic_users_load(path, 1, NULL, err, sizeof(err));
    if (u == NULL) {
        fprintf(stderr, "bast basic: %s\n", err);
        goto done;
    }
    if (strcmp(argv[0], "list") == 0) {
        ret = cmd_list(u, json);
        goto done;
    }
    int exists = basic_users_find(u, id, strlen(id)) != NULL;
    if (strcmp(argv[0], "remove") == 0) {
        if (!exists) {
            fprintf(stderr, "bast basic: no client '%s' in %s\n", id, path);
            goto done;
        }
        if (rewrite(path, id, NULL) == 0 && fsync(dfd) == 0) {
            printf("removed %s\n", id);
            ret = 0;
        }
        goto done;
    }
    if (exists && !replace) {
        fprintf(stderr, "bast basic: client '%s' exists (use --replace)\n", id);
        goto done;
    }
    if (read_secret(id, secret, sizeof(secret)) != 0 || secret[0] == '\0' ||
        strlen(secret) > BASIC_MAX_SECRET ||
        !basic_text_ok(secret, strlen(secret))) {
        fprintf(stderr, "bast basic: no usable secret read (one line of "
                        "UTF-8 text, at most 1024 bytes)\n");
        goto done;
    }
    if (make_hash(kind, cost, secret, hash, sizeof(hash)) != 0) {
        fprintf(stderr,
                "bast basic: cannot hash with '%s' (bcrypt, "
                "yescrypt or sha512crypt; --cost in its range)\n",
                kind);
        goto done;
    }
    if (asprintf(&entry, "%s:%s", id, hash) < 0) {
        entry = NULL;
        goto done;
    }
    if (rewrite(path, exists ? id : NULL, entry) == 0 && fsync(dfd) == 0) {
        printf("%s %s\n", exists ? "replaced" : "added", id);
        ret = 0;
    }
done:
    OPENSSL_cleanse(secret, sizeof(secret));
    free(entry);
    basic_users_free(u);
    if (dfd >= 0)
        close(dfd); /* releases the lock */
    return ret;
}
