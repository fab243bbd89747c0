/*
 * ipallow.c - an out-of-tree bast plugin, built only against the
 * installed headers and bast.pc: it answers `success` when the request's
 * peer address is inside one of the networks of `allow`, `forbidden`
 * otherwise, and `absent` when the host passed no address.
 *
 *   [office]
 *   plugin  = ipallow
 *   control = requisite
 *   allow   = 127.0.0.0/8 ::1/128 203.0.113.0/24
 */
#include <bast_plugin.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct net {
    int family;
    unsigned char addr[16];
    int bits;
};

struct ipallow {
    struct net *nets;
    size_t n;
};

static int
parse_net(const char *word, struct net *out)
{
    char buf[64];
    const char *slash = strchr(word, '/');
    size_t len = slash ? (size_t)(slash - word) : strlen(word);
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, word, len);
    buf[len] = '\0';
    out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(out->family, buf, out->addr) != 1)
        return -1;
    int max = out->family == AF_INET ? 32 : 128;
    out->bits = slash ? atoi(slash + 1) : max;
    return out->bits < 0 || out->bits > max ? -1 : 0;
}

static int
contains(const struct net *n, const unsigned char *a)
{
    int full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (a[full] & mask);
}

static int
ipallow_open(const bast_instance *inst, const bast_option *opts, size_t n,
             void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"allow", NULL};
    (void)inst;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *o = bast_opts_get(opts, n, "allow");
    if (o == NULL)
        return bast_opt_error(NULL, err, errlen, "allow: missing");
    struct ipallow *ip = calloc(1, sizeof(*ip));
    char *copy = strdup(o->value);
    if (ip == NULL || copy == NULL) {
        free(ip);
        free(copy);
        return -1;
    }
    for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        struct net *nets = realloc(ip->nets, (ip->n + 1) * sizeof(*nets));
        if (nets == NULL || parse_net(w, &nets[ip->n]) != 0) {
            if (nets)
                ip->nets = nets;
            bast_opt_error(o, err, errlen,
                           "'%s' is not an address or "
                           "network",
                           w);
            free(copy);
            free(ip->nets);
            free(ip);
            return -1;
        }
        ip->nets = nets;
        ip->n++;
    }
    free(copy);
    *state = ip;
    return 0;
}

static bast_res
ipallow_verify(void *state, bast_call *call)
{
    const struct ipallow *ip = state;
    const char *addr = bast_req_remote_addr(bast_call_request(call));
    if (addr == NULL)
        return BAST_RES_ABSENT;
    unsigned char a[16];
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, addr, a) == 1)
        for (size_t i = 0; i < ip->n; i++)
            if (ip->nets[i].family == family && contains(&ip->nets[i], a))
                return BAST_RES_SUCCESS;
    bast_call_set_error(call, "address_not_allowed", "%s is not allowed", addr);
    return BAST_RES_FORBIDDEN;
}

static void
ipallow_close(void *state)
{
    struct ipallow *ip = state;
    free(ip->nets);
    free(ip);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "ipallow", "1.0", ipallow_open,
                   ipallow_verify, ipallow_close, NULL);
