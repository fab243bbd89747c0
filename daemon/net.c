/*
 * net.c - bastd's addresses: the listen socket (TCP on IPv4/IPv6, a unix
 * socket created here with the requested mode and owner, or the one
 * systemd passes; handed to libmicrohttpd either way), and the trusted-proxy
 * list: CIDRs, plus the word `unix` for peers on a unix socket.  Only trusted
 * peers may speak for the client (X-Real-IP, X-Forwarded-*, X-Client-Cert).
 */
#include "bastd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* "what arg: <errno text>" (strerror_r: glibc's strerror is not
 * thread-safe). */
static void
sys_error(char *err, size_t errlen, const char *what, const char *arg)
{
    char eb[128];
    const char *m = strerror_r(errno, eb, sizeof eb);
    snprintf(err, errlen, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "",
             m);
}

static int
parse_ip(const char *s, int *family, unsigned char out[16])
{
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

static int
parse_cidr(const char *word, bastd_cidr *c)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (strlen(word) >= sizeof buf)
        return -1;
    strcpy(buf, word);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    memset(c, 0, sizeof *c);
    if (parse_ip(buf, &c->family, c->addr) < 0)
        return -1;
    unsigned max = c->family == AF_INET ? 32 : 128;
    c->prefix = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long p = strtoul(slash, &end, 10);
        if (errno || end == slash || *end || p > max)
            return -1;
        c->prefix = (unsigned)p;
    }
    return 0;
}

int
bastd_trust_parse(bastd_trust *t, const char *spec, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char *copy = strdup(spec), *save = NULL;
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int ret = -1;
    for (char *w = strtok_r(copy, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        if (strcasecmp(w, "none") == 0)
            continue;
        if (strcasecmp(w, "unix") == 0) {
            t->unix_peers = 1;
            continue;
        }
        bastd_cidr c;
        if (parse_cidr(w, &c) < 0) {
            snprintf(err, errlen, "--trusted-proxies: bad CIDR '%s'", w);
            goto done;
        }
        bastd_cidr *nv = realloc(t->v, (t->n + 1) * sizeof *nv);
        if (!nv) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        t->v = nv;
        t->v[t->n++] = c;
    }
    ret = 0;
done:
    free(copy);
    if (ret < 0)
        bastd_trust_free(t);
    return ret;
}

void
bastd_trust_free(bastd_trust *t)
{
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

char *
bastd_trust_describe(const bastd_trust *t)
{
    size_t cap = 16 + t->n * (INET6_ADDRSTRLEN + 6);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t off = 0;
    s[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(t->v[i].family, t->v[i].addr, ip, sizeof ip);
        off += (size_t)snprintf(s + off, cap - off, "%s%s/%u", off ? " " : "",
                                ip, t->v[i].prefix);
    }
    if (t->unix_peers)
        off += (size_t)snprintf(s + off, cap - off, "%sunix", off ? " " : "");
    if (off == 0)
        snprintf(s, cap, "none");
    return s;
}

static int
match(const bastd_trust *t, int family, const unsigned char *a)
{
    for (size_t i = 0; i < t->n; i++) {
        const bastd_cidr *c = &t->v[i];
        if (c->family != family)
            continue;
        unsigned bits = c->prefix, full = bits / 8, rest = bits % 8;
        if (memcmp(c->addr, a, full) != 0)
            continue;
        if (rest) {
            unsigned char mask = (unsigned char)(0xffu << (8 - rest));
            if ((c->addr[full] & mask) != (a[full] & mask))
                continue;
        }
        return 1;
    }
    return 0;
}

/* A v4-mapped v6 address (::ffff:a.b.c.d) is the v4 peer it stands for. */
static const unsigned char *
unmap(int *family, const unsigned char *a)
{
    static const unsigned char pre[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
    if (*family == AF_INET6 && memcmp(a, pre, 12) == 0) {
        *family = AF_INET;
        return a + 12;
    }
    return a;
}

int
bastd_trust_peer(const bastd_trust *t, const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    int family = sa->sa_family;
    const unsigned char *a;
    if (family == AF_UNIX)
        return t->unix_peers;
    if (family == AF_INET)
        a = (const unsigned char *)&(
                (const struct sockaddr_in *)(const void *)sa)
                ->sin_addr;
    else if (family == AF_INET6)
        a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    else
        return 0;
    a = unmap(&family, a);
    return match(t, family, a);
}

int
bastd_trust_ip(const bastd_trust *t, const char *ip)
{
    int family;
    unsigned char a[16];
    if (parse_ip(ip, &family, a) < 0)
        return -1;
    /* unmap first: it changes family, and argument order is unspecified */
    const unsigned char *p = unmap(&family, a);
    return match(t, family, p);
}

int
bastd_ip_canon(const char *ip, char *buf, size_t len)
{
    int family;
    unsigned char a[16];
    if (parse_ip(ip, &family, a) < 0)
        return -1;
    const unsigned char *p = unmap(&family, a);
    return inet_ntop(family, p, buf, (socklen_t)len) ? 0 : -1;
}

int
bastd_peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
    if (!sa)
        return -1;
    int family = sa->sa_family;
    const unsigned char *a;
    if (family == AF_INET)
        a = (const unsigned char *)&(
                (const struct sockaddr_in *)(const void *)sa)
                ->sin_addr;
    else if (family == AF_INET6)
        a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    else
        return -1;
    a = unmap(&family, a);
    return inet_ntop(family, a, buf, (socklen_t)len) ? 0 : -1;
}

static int
set_owner(const char *path, const char *owner, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(owner) >= sizeof buf) {
        snprintf(err, errlen, "--socket-owner: too long");
        return -1;
    }
    strcpy(buf, owner);
    char *grp = strchr(buf, ':');
    if (grp)
        *grp++ = '\0';
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (*buf) {
        struct passwd *pw = getpwnam(buf); /* startup: single-threaded */
        if (!pw) {
            snprintf(err, errlen, "--socket-owner: no user '%s'", buf);
            return -1;
        }
        uid = pw->pw_uid;
    }
    if (grp && *grp) {
        struct group *gr = getgrnam(grp);
        if (!gr) {
            snprintf(err, errlen, "--socket-owner: no group '%s'", grp);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (chown(path, uid, gid) < 0) {
        sys_error(err, errlen, "chown", path);
        return -1;
    }
    return 0;
}

static int
listen_unix(const char *path, unsigned mode, const char *owner, char *err,
            size_t errlen)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (*path != '/' || strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen,
                 "unix socket path must be absolute and under "
                 "%zu bytes",
                 sizeof sun.sun_path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sys_error(err, errlen, "socket", NULL);
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        /* A leftover socket is replaced only when nobody answers on it. */
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            goto fail;
        }
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
            snprintf(err, errlen, "%s: another process is listening", path);
            goto fail;
        }
        close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || unlink(path) < 0) {
            sys_error(err, errlen, path, NULL);
            goto fail;
        }
    }
    /* Bind under a tight umask so the socket is never briefly open to all
     * before the chmod below. */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc < 0) {
        sys_error(err, errlen, "bind", path);
        goto fail;
    }
    if (owner && set_owner(path, owner, err, errlen) < 0)
        goto fail_unlink;
    if (chmod(path, (mode_t)mode) < 0) {
        sys_error(err, errlen, "chmod", path);
        goto fail_unlink;
    }
    if (listen(fd, SOMAXCONN) < 0) {
        sys_error(err, errlen, "listen", path);
        goto fail_unlink;
    }
    return fd;
fail_unlink:
    unlink(path);
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Socket activation: systemd passes the listening socket as fd 3 and
 * names our pid in LISTEN_PID (sd_listen_fds(3), without libsystemd). */
static int
listen_systemd(char *err, size_t errlen)
{
    const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
    int acc = 0;
    socklen_t len = sizeof acc;
    if (!pid || !n || strtol(pid, NULL, 10) != (long)getpid() ||
        strcmp(n, "1") != 0) {
        snprintf(err, errlen,
                 "--listen systemd: expected one socket from "
                 "systemd (LISTEN_PID, LISTEN_FDS=1)");
        return -1;
    }
    if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
        snprintf(err, errlen,
                 "--listen systemd: fd 3 is not a listening "
                 "socket");
        return -1;
    }
    fcntl(3, F_SETFD, FD_CLOEXEC);
    unsetenv("LISTEN_PID"); /* not for our children */
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return 3;
}

int
bastd_listen(const char *spec, unsigned mode, const char *owner, char *err,
             size_t errlen)
{
    if (strcmp(spec, "systemd") == 0)
        return listen_systemd(err, errlen);
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, mode, owner, err, errlen);

    char host[INET6_ADDRSTRLEN + 2];
    const char *port;
    if (*spec == '[') {
        const char *end = strchr(spec, ']');
        if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof host)
            goto bad;
        memcpy(host, spec + 1, (size_t)(end - spec - 1));
        host[end - spec - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host)
            goto bad;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (!*host || !*port || getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        goto bad;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sys_error(err, errlen, "socket", NULL);
        freeaddrinfo(ai);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) /* [::] means IPv6 only: say v4 apart */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        sys_error(err, errlen, "listen", spec);
        close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
bad:
    snprintf(err, errlen,
             "--listen: expected IP:PORT, [IPv6]:PORT or unix:/path, got '%s'",
             spec);
    return -1;
}
