/*
 * test_stack_diff.c - the differential test of bast's stack engine
 * against the real libpam.  Generates random stacks (stackgen.c: every
 * flag and bracket word, jumps past the end, reset, missing `-name`
 * plugins, nested include/substack), writes each as a bast confdir and a
 * libpam confdir, runs libpam's pam_authenticate() over pam_fixed_test.so
 * and bast_verify() over the `fixed` plugin, and compares the final
 * status (bast__result_raw mapped to PAM codes), the modules that ran, the
 * result each module reported, and the decision and HTTP status that
 * follow from them.  Environment: STACK_DIFF_SEED (default: time), STACK_DIFF_N
 * (default 10000), BAST_PLUGIN_DIR.  Prints `ok - N stacks identical`, or
 * `not ok` with the first differing stack, shrunk, in both syntaxes.
 */
#include "bast.h"
#include "bast_int.h"
#include "stackgen.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <linux/capability.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCH 100
#define MAXRAN 512

typedef struct outcome {
    int code;        /* PAM code (bast: raw result mapped) */
    int ran[MAXRAN]; /* module ids, in order */
    int nran;
    int bad_result; /* bast: a module reported another result */
    int decision;   /* bast only */
    int status;     /* bast only */
} outcome;

static char pam_module[PATH_MAX];
static char plugin_dir[PATH_MAX];

static int
conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
        void *data)
{
    (void)n;
    (void)msg;
    (void)resp;
    (void)data;
    return PAM_CONV_ERR;
}

static const struct pam_conv conv = {conv_fn, NULL};

/*
 * libpam passes each result through its audit hook, which can turn it
 * into PAM_SYSTEM_ERR when root may write audit records and the write
 * fails (PAM-STACKING.md section 11).  Without CAP_AUDIT_WRITE the
 * write fails with EPERM, which the hook accepts.
 */
static void
drop_audit_cap(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    unsigned idx = CAP_AUDIT_WRITE / 32, bit = 1u << (CAP_AUDIT_WRITE % 32);

    if (geteuid() != 0)
        return;
    (void)prctl(PR_CAPBSET_DROP, CAP_AUDIT_WRITE, 0, 0, 0);
    if (syscall(SYS_capget, &hdr, data) != 0)
        return;
    data[idx].effective &= ~bit;
    data[idx].permitted &= ~bit;
    data[idx].inheritable &= ~bit;
    (void)syscall(SYS_capset, &hdr, data);
}

static void
parse_ids(const char *s, outcome *o)
{
    while (s && *s && o->nran < MAXRAN) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        o->ran[o->nran++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
}

static int
run_pam(const char *pamdir, const char *service, outcome *o)
{
    pam_handle_t *h = NULL;

    memset(o, 0, sizeof(*o));
    if (pam_start_confdir(service, "stacktest", &conv, pamdir, &h) !=
        PAM_SUCCESS)
        return -1;
    o->code = pam_authenticate(h, PAM_SILENT);
    parse_ids(pam_getenv(h, "TRACE"), o);
    pam_end(h, o->code);
    return 0;
}

static const sg_entry *
find_id(const sg_stack *st, int id)
{
    for (int f = 0; f < st->nf; f++)
        for (int i = 0; i < st->f[f].n; i++)
            if (SG_IS_MODULE(st->f[f].e[i].kind) && st->f[f].e[i].id == id)
                return &st->f[f].e[i];
    return NULL;
}

static int
run_bast(const bast_ctx *ctx, const char *app, const bast_request *req,
         const sg_stack *st, outcome *o)
{
    bast_result *res = NULL;
    int raw;

    memset(o, 0, sizeof(*o));
    o->decision = bast_verify(ctx, app, req, &res);
    if (res == NULL)
        return -1;
    raw = bast__result_raw(res);
    o->code = raw == 0 ? PAM_PERM_DENIED : sg_pam_code(raw);
    if (raw < 0 || raw > SG_NRES)
        o->code = -1000 - raw;
    o->status = bast_result_status(res);
    for (size_t i = 0; i < bast_result_trace_count(res); i++) {
        const char *m = bast_result_trace_module(res, i);
        const char *r = bast_result_trace_result(res, i);
        const sg_entry *e = m ? find_id(st, atoi(m + 1)) : NULL;
        if (e == NULL || (m[0] != 'm' && m[0] != 'x') || r == NULL) {
            o->bad_result = 1;
            continue;
        }
        /* Missing plugins appear in bast's trace only; libpam never
         * "calls" them. */
        if (m[0] == 'x') {
            if (strcmp(r, "unavailable") != 0)
                o->bad_result = 1;
            continue;
        }
        if (strcmp(r, sg_bast_name(e->res)) != 0)
            o->bad_result = 1;
        if (o->nran < MAXRAN)
            o->ran[o->nran++] = e->id;
    }
    bast_result_free(res);
    return 0;
}

static int
http_of(int code)
{
    switch (code) {
    case 8: /* absent */
    case 7: /* deny */
        return 401;
    case 13:
        return 403;
    case 3:
        return 400;
    case 28:
        return 503;
    default:
        return 0; /* no failure result: the "no decision" rule applies */
    }
}

/* 0 when both agree; otherwise a reason in `why`. */
static int
compare(const outcome *p, const outcome *b, char *why, size_t len)
{
    int want_allow = p->code == PAM_SUCCESS;

    if (p->code != b->code)
        snprintf(why, len, "status: libpam %s, bast %s", sg_pam_name(p->code),
                 sg_pam_name(b->code));
    else if (p->nran != b->nran ||
             memcmp(p->ran, b->ran, sizeof(int) * (size_t)p->nran) != 0)
        snprintf(why, len, "modules run differ");
    else if (b->bad_result)
        snprintf(why, len, "bast trace shows a result not configured");
    else if (b->decision != (want_allow ? BAST_ALLOW : BAST_DENY))
        snprintf(why, len, "bast decision %s for status %s",
                 b->decision == BAST_ALLOW ? "allow" : "deny",
                 sg_pam_name(b->code));
    else if (want_allow && b->status != 200)
        snprintf(why, len, "bast allow with HTTP %d", b->status);
    else if (http_of(b->code) && b->status != http_of(b->code))
        snprintf(why, len, "bast HTTP %d for final %s", b->status,
                 sg_pam_name(b->code));
    else
        return 0;
    return -1;
}

static void
print_ran(const char *who, const outcome *o)
{
    printf("#   %s: %s, ran [", who, sg_pam_name(o->code));
    for (int i = 0; i < o->nran; i++)
        printf("%s%d", i ? ", " : "", o->ran[i]);
    printf("]");
    if (o->status)
        printf(", HTTP %d", o->status);
    printf("\n");
}

static int
make_dirs(char *base, char *bastdir, char *pamdir)
{
    const char *tmp = getenv("TMPDIR");
    char cd[PATH_MAX + 16];

    snprintf(base, PATH_MAX, "%s/stackdiff.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL)
        return -1;
    snprintf(bastdir, PATH_MAX, "%s/bast", base);
    snprintf(pamdir, PATH_MAX, "%s/pam", base);
    snprintf(cd, sizeof(cd), "%s/conf.d", bastdir);
    if (chmod(base, 0755) != 0 || mkdir(bastdir, 0755) != 0 ||
        mkdir(cd, 0755) != 0 || mkdir(pamdir, 0755) != 0)
        return -1;
    /* A restrictive umask must not make mkdir's modes differ. */
    if (chmod(bastdir, 0755) != 0 || chmod(cd, 0755) != 0)
        return -1;
    return 0;
}

static bast_ctx *
open_bast(const char *bastdir, char *err, size_t errlen)
{
    bast_options opts;

    memset(&opts, 0, sizeof(opts));
    opts.size = sizeof(opts);
    opts.plugin_dir = plugin_dir;
    return bast_open(bastdir, &opts, err, errlen);
}

/* Run one stack alone: 1 differs, 0 same, -1 setup failure. */
static int
run_single(const sg_stack *st, const bast_request *req, outcome *p, outcome *b,
           char *why, size_t len, int dump)
{
    char base[PATH_MAX], bastdir[PATH_MAX], pamdir[PATH_MAX], err[512];
    bast_ctx *ctx;
    int rc = -1;

    if (make_dirs(base, bastdir, pamdir) != 0)
        return -1;
    if (sg_write(st, "s", bastdir, pamdir, pam_module) != 0)
        goto done;
    if ((ctx = open_bast(bastdir, err, sizeof(err))) == NULL) {
        snprintf(why, len, "bast refused the config: %.200s", err);
        rc = 1;
        goto dumpit;
    }
    if (run_pam(pamdir, "s", p) == 0 && run_bast(ctx, "s", req, st, b) == 0)
        rc = compare(p, b, why, len) != 0;
    bast_close(ctx);
dumpit:
    if (dump) {
        char cmd[3 * PATH_MAX];
        fflush(stdout);
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && for f in bast/conf.d/*.conf pam/*; do "
                 "echo \"# --- $f\"; sed 's/^/#   /' \"$f\"; done",
                 base);
        if (system(cmd) != 0)
            printf("# (could not list the files)\n");
    }
done:
    sg_rmtree(base);
    return rc;
}

/* Does `t` still differ the same way (same first word of the reason)? */
static int
still_differs(const sg_stack *t, const bast_request *req, const char *kind)
{
    outcome p, b;
    char why[256];

    return run_single(t, req, &p, &b, why, sizeof(why), 0) == 1 &&
           strncmp(why, kind, strcspn(kind, ":")) == 0;
}

/* Shrink a differing stack: drop entries, then bracket pairs, then try
 * simple flags, keeping each change that still shows the same kind of
 * difference.  Bounded, so a slow engine cannot hang the test. */
static void
shrink(sg_stack *st, const bast_request *req, const char *kind)
{
    sg_stack *t = malloc(sizeof(*t));
    int changed = 1, tries = 0;

    if (t == NULL)
        return;
    while (changed && tries < 3000) {
        changed = 0;
        for (int f = 0; f < st->nf && !changed; f++) {
            for (int i = 0; i < st->f[f].n && !changed; i++) {
                *t = *st;
                memmove(&t->f[f].e[i], &t->f[f].e[i + 1],
                        sizeof(sg_entry) * (size_t)(t->f[f].n - i - 1));
                t->f[f].n--;
                tries++;
                if (still_differs(t, req, kind)) {
                    *st = *t;
                    changed = 1;
                }
            }
        }
        for (int f = 0; f < st->nf && !changed; f++) {
            for (int i = 0; i < st->f[f].n && !changed; i++) {
                if (!SG_IS_MODULE(st->f[f].e[i].kind))
                    continue;
                for (int k = 0; k < 8 && !changed; k++) {
                    *t = *st;
                    if (sg_drop_pair(&t->f[f].e[i], k) != 0)
                        break;
                    tries++;
                    if (still_differs(t, req, kind)) {
                        *st = *t;
                        changed = 1;
                    }
                }
                for (int k = 0;
                     k < 4 && !changed && strchr(st->f[f].e[i].bast_ctl, '=');
                     k++) {
                    *t = *st;
                    sg_set_flag(&t->f[f].e[i], k);
                    tries++;
                    if (still_differs(t, req, kind)) {
                        *st = *t;
                        changed = 1;
                    }
                }
            }
        }
    }
    free(t);
}

static void
report(sg_stack *st, const bast_request *req, unsigned long long seed, int k,
       const char *why)
{
    outcome p, b;
    char desc[8192], why2[256];

    sg_describe(st, 0, desc, sizeof(desc));
    printf("not ok - stack %d of seed %llu differs: %s\n", k, seed, why);
    printf("#   stack: %s\n", desc);
    shrink(st, req, why);
    sg_describe(st, 0, desc, sizeof(desc));
    printf("# shrunk: %s\n", desc);
    if (run_single(st, req, &p, &b, why2, sizeof(why2), 1) == 1) {
        printf("#   why: %s\n", why2);
        print_ran("libpam", &p);
        print_ran("bast  ", &b);
    }
}

static int
locate(const char *argv0)
{
    char exe[PATH_MAX], tmp[PATH_MAX];
    const char *env = getenv("BAST_PLUGIN_DIR");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        snprintf(exe, sizeof(exe), "%s", argv0);
    else
        exe[n] = '\0';
    snprintf(tmp, sizeof(tmp), "%s", exe);
    snprintf(pam_module, sizeof(pam_module), "%s/pam_fixed_test.so",
             dirname(tmp));
    if (env && *env)
        snprintf(plugin_dir, sizeof(plugin_dir), "%s", env);
    else {
        snprintf(tmp, sizeof(tmp), "%s", pam_module);
        snprintf(plugin_dir, sizeof(plugin_dir), "%s/../../plugins",
                 dirname(tmp));
    }
    return access(pam_module, R_OK);
}

static unsigned long long
env_ull(const char *name, unsigned long long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

int
main(int argc, char **argv)
{
    unsigned long long seed, n;
    int counts[32] = {0}, allowed = 0, ranmax = 0, rc = 1;
    sg_stack *st = NULL;
    bast_request *req = NULL;
    void *pin;

    (void)argc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    seed = env_ull("STACK_DIFF_SEED", (unsigned long long)time(NULL) ^
                                          ((unsigned long long)getpid() << 20));
    n = env_ull("STACK_DIFF_N", 10000);
    printf("# seed %llu (STACK_DIFF_SEED=%llu reproduces), %llu stacks\n", seed,
           seed, n);
    if (locate(argv[0]) != 0) {
        printf("not ok - cannot find %s\n", pam_module);
        return 1;
    }
    drop_audit_cap();
    /* Keep the module loaded between pam_end() calls: no dlopen churn. */
    pin = dlopen(pam_module, RTLD_NOW | RTLD_LOCAL);
    st = calloc(BATCH, sizeof(*st));
    req = bast_request_new();
    if (st == NULL || req == NULL || bast_request_set_method(req, "GET") ||
        bast_request_set_path(req, "/")) {
        printf("not ok - out of memory\n");
        goto out;
    }

    {
        /* libpam itself must behave (audit hook, module path). */
        sg_stack one;
        outcome p, b;
        char why[256];
        memset(&one, 0, sizeof(one));
        one.nf = 1;
        one.f[0].n = 1;
        one.nids = 1;
        snprintf(one.f[0].e[0].bast_ctl, SG_CTL, "required");
        snprintf(one.f[0].e[0].pam_ctl, SG_CTL, "required");
        one.f[0].e[0].res = 1;
        if (run_single(&one, req, &p, &b, why, sizeof(why), 0) < 0 ||
            p.code != PAM_SUCCESS) {
            printf("not ok - libpam sanity: `required success` gave %s "
                   "(audit hook? module path?)\n",
                   sg_pam_name(p.code));
            goto out;
        }
        printf("ok - libpam and bast agree on `required success`\n");
    }

    sg_rng rng = {seed * 0x9E3779B97F4A7C15ULL + 1};
    for (unsigned long long done = 0; done < n;) {
        char base[PATH_MAX], bastdir[PATH_MAX], pamdir[PATH_MAX];
        char err[512], name[32], why[256];
        int nb = (int)(n - done < BATCH ? n - done : BATCH);
        bast_ctx *ctx;

        if (make_dirs(base, bastdir, pamdir) != 0) {
            printf("not ok - temp dirs: %s\n", strerror(errno));
            goto out;
        }
        for (int i = 0; i < nb; i++) {
            sg_generate(&st[i], &rng);
            snprintf(name, sizeof(name), "s%d", i);
            if (sg_write(&st[i], name, bastdir, pamdir, pam_module) != 0) {
                printf("not ok - writing configs: %s\n", strerror(errno));
                sg_rmtree(base);
                goto out;
            }
        }
        if ((ctx = open_bast(bastdir, err, sizeof(err))) == NULL) {
            printf("not ok - bast refused a generated batch: %s\n", err);
            sg_rmtree(base);
            goto out;
        }
        for (int i = 0; i < nb; i++) {
            outcome p, b;
            snprintf(name, sizeof(name), "s%d", i);
            if (run_pam(pamdir, name, &p) != 0 ||
                run_bast(ctx, name, req, &st[i], &b) != 0) {
                printf("not ok - could not run stack %llu\n", done + 1);
                bast_close(ctx);
                sg_rmtree(base);
                goto out;
            }
            if (compare(&p, &b, why, sizeof(why)) != 0) {
                bast_close(ctx);
                sg_rmtree(base);
                print_ran("libpam", &p);
                print_ran("bast  ", &b);
                report(&st[i], req, seed, (int)(done + 1), why);
                goto out;
            }
            counts[p.code & 31]++;
            allowed += b.decision == BAST_ALLOW;
            if (p.nran > ranmax)
                ranmax = p.nran;
            done++;
        }
        bast_close(ctx);
        sg_rmtree(base);
    }
    printf("# outcomes:");
    for (int c = 0; c < 32; c++)
        if (counts[c])
            printf(" %s %d", sg_pam_name(c), counts[c]);
    printf("; allowed %d; longest run %d modules\n", allowed, ranmax);
    printf("ok - %llu stacks identical\n", n);
    rc = 0;
out:
    bast_request_free(req);
    free(st);
    if (pin)
        dlclose(pin);
    return rc;
}
