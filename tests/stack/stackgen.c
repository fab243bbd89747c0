/*
 * stackgen.c - random stacks for test_stack_diff (see stackgen.h): the
 * generator, the writers for both syntaxes, and a one-line description.
 * Only syntax both engines accept is generated: bast refuses what libpam
 * would turn into a must-fail line, so those cases live in the table
 * tests instead.
 */
#include "stackgen.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const bast_words[SG_NRES + 1] = {
    "default",   "success",   "absent",      "deny",
    "forbidden", "malformed", "unavailable", "ignore"};
/* The PAM code standing for each bast result (index = bast_res). */
static const char *const pam_words[SG_NRES + 1] = {
    "default",      "success",     "cred_insufficient", "auth_err",
    "acct_expired", "service_err", "module_unknown",    "ignore"};
static const int pam_codes[SG_NRES + 1] = {-1, 0, 8, 7, 13, 3, 28, 25};

static const char *const flags[] = {"required", "requisite", "sufficient",
                                    "optional"};
static const char *const actions[] = {"ok",  "done",   "bad",
                                      "die", "ignore", "reset"};

uint64_t
sg_next(sg_rng *r)
{
    /* xorshift64*: small, seedable, good enough for test shapes. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

int
sg_below(sg_rng *r, int n)
{
    return (int)((sg_next(r) >> 33) % (uint64_t)n);
}

int
sg_pam_code(int res)
{
    return res >= 1 && res <= SG_NRES ? pam_codes[res] : 6;
}

const char *
sg_bast_name(int res)
{
    return res >= 1 && res <= SG_NRES ? bast_words[res] : "perm_denied";
}

const char *
sg_pam_name(int code)
{
    for (int i = 1; i <= SG_NRES; i++)
        if (pam_codes[i] == code)
            return pam_words[i];
    switch (code) {
    case 6:
        return "perm_denied";
    case 4:
        return "system_err";
    default:
        return "other";
    }
}

/* bast's definitions of the flags (DESIGN.md), checked against libpam's
 * by writing one side as the flag and the other as the bracket. */
static const char *const flag_brackets[] = {
    "[success=ok ignore=ignore default=bad]",
    "[success=ok ignore=ignore default=die]", "[success=done default=ignore]",
    "[success=ok default=ignore]"};
static const char binding_bracket[] =
    "[success=done ignore=ignore default=bad]";

static void
odd_case(char *buf, sg_rng *r)
{
    if (sg_below(r, 10) == 0)
        for (size_t i = 0; buf[i]; i++)
            if (sg_below(r, 2))
                buf[i] = (char)(buf[i] - 'a' + 'A');
}

/* A simple flag, sometimes in odd case (flags are case-insensitive),
 * sometimes spelt as bast's bracket on one side, and now and then bast's
 * `binding` against its libpam bracket. */
static void
gen_flag(sg_entry *e, sg_rng *r)
{
    int fi = sg_below(r, 5), spell = sg_below(r, 4);
    char buf[32];

    if (fi == 4) {
        snprintf(buf, sizeof(buf), "binding");
        odd_case(buf, r);
        snprintf(e->bast_ctl, SG_CTL, "%s", buf);
        snprintf(e->pam_ctl, SG_CTL, "%s", binding_bracket);
        return;
    }
    snprintf(buf, sizeof(buf), "%s", flags[fi]);
    odd_case(buf, r);
    snprintf(e->bast_ctl, SG_CTL, "%s", spell == 0 ? flag_brackets[fi] : buf);
    snprintf(e->pam_ctl, SG_CTL, "%s", spell == 1 ? flag_brackets[fi] : buf);
}

/* A bracket with a random subset of values (duplicates and a default in
 * any position included) and random actions, jumps among them. */
static void
gen_bracket(sg_entry *e, sg_rng *r)
{
    int k = 1 + sg_below(r, 6);
    /* Without brackets libpam reads only one pair: the field ends at a
     * space (E42). */
    int bare = k == 1 && sg_below(r, 5) == 0;
    size_t bl = 0, pl = 0;

    if (!bare) {
        e->bast_ctl[bl++] = '[';
        e->pam_ctl[pl++] = '[';
    }
    for (int i = 0; i < k; i++) {
        /* Lean on `success` and `default`: wholly random brackets route
         * almost everything to bad. */
        int roll = sg_below(r, 10);
        int v = roll < 2 ? 1 : roll < 4 ? 0 : sg_below(r, SG_NRES + 1);
        int a = sg_below(r, 9);
        char act[8];

        if (a < 6)
            snprintf(act, sizeof(act), "%s", actions[a]);
        else
            snprintf(act, sizeof(act), "%d", 1 + sg_below(r, 3));
        bl += (size_t)snprintf(e->bast_ctl + bl, SG_CTL - bl, "%s%s=%s",
                               i ? " " : "", bast_words[v], act);
        pl += (size_t)snprintf(e->pam_ctl + pl, SG_CTL - pl, "%s%s=%s",
                               i ? " " : "", pam_words[v], act);
    }
    if (!bare) {
        snprintf(e->bast_ctl + bl, SG_CTL - bl, "]");
        snprintf(e->pam_ctl + pl, SG_CTL - pl, "]");
    }
}

/* Rebuild `ctl` without its idx-th space-separated pair. */
static int
drop_word(char *ctl, int idx)
{
    char in[SG_CTL], out[SG_CTL - 2]; /* room for the brackets */
    int bracket = ctl[0] == '[', n = 0, w = 0;
    size_t at = 0;

    snprintf(in, sizeof(in), "%s", ctl + bracket);
    if (bracket && in[0] && in[strlen(in) - 1] == ']')
        in[strlen(in) - 1] = '\0';
    out[0] = '\0';
    for (char *save = NULL, *t = strtok_r(in, " ", &save); t;
         t = strtok_r(NULL, " ", &save), n++) {
        if (n == idx)
            continue;
        at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s",
                               w++ ? " " : "", t);
    }
    if (idx >= n || n < 2)
        return -1;
    snprintf(ctl, SG_CTL, "%s%s%s", bracket ? "[" : "", out,
             bracket ? "]" : "");
    return 0;
}

int
sg_drop_pair(sg_entry *e, int idx)
{
    if (strchr(e->bast_ctl, '=') == NULL)
        return -1;
    if (drop_word(e->bast_ctl, idx) != 0)
        return -1;
    return drop_word(e->pam_ctl, idx);
}

void
sg_set_flag(sg_entry *e, int flag)
{
    snprintf(e->bast_ctl, SG_CTL, "%s", flags[flag & 3]);
    snprintf(e->pam_ctl, SG_CTL, "%s", flags[flag & 3]);
}

/* The filter lines: [kind == SG_FILTERED][filter - 1]. */
static const char *const filter_lines[2][2] = {
    {"methods = GET POST\n", "paths = /* /other\n"},
    {"methods = POST PUT\n", "paths = /admin/* /x\n"}};

static int gen_file(sg_stack *st, sg_rng *r, int depth);

static void
gen_entry(sg_stack *st, sg_rng *r, int depth, sg_entry *e)
{
    int roll = sg_below(r, 100);

    memset(e, 0, sizeof(*e));
    if (roll < 16 && depth < 3) {
        e->kind = sg_below(r, 2) ? SG_SUBSTACK : SG_INCLUDE;
        /* Reuse a finished file now and then: never an ancestor (those
         * are unfinished), so no cycle. */
        e->target = -1;
        if (st->nf > 1 && sg_below(r, 5) == 0) {
            int t = 1 + sg_below(r, st->nf - 1);
            if (st->f[t].done)
                e->target = t;
        }
        if (e->target < 0)
            e->target = gen_file(st, r, depth + 1);
        if (e->target >= 0)
            return;
    }
    e->kind = roll >= 16 && roll < 23   ? SG_MISSING
              : roll >= 23 && roll < 28 ? SG_FILTERED
                                        : SG_MOD;
    e->id = st->nids++;
    /* Filters: SG_FILTERED always gets one the request (GET /) misses;
     * a plain module sometimes gets one it matches. */
    if (e->kind == SG_FILTERED)
        e->filter = 1 + sg_below(r, 2);
    else if (e->kind == SG_MOD && sg_below(r, 10) == 0)
        e->filter = 1 + sg_below(r, 2);
    /* Successes are common in real stacks and make the walk go further. */
    e->res = sg_below(r, 3) == 0 ? 1 : 1 + sg_below(r, SG_NRES);
    if (sg_below(r, 100) < 55)
        gen_flag(e, r);
    else
        gen_bracket(e, r);
}

static int
gen_file(sg_stack *st, sg_rng *r, int depth)
{
    int idx, n;
    sg_entry tmp[SG_MAXE];

    if (st->nf >= SG_MAXF)
        return -1;
    idx = st->nf++;
    n = depth == 0 ? sg_below(r, 8) : sg_below(r, 5);
    if (depth == 0 && n == 0 && sg_below(r, 4))
        n = 1 + sg_below(r, 6); /* empty top stacks: rare, not absent */
    /* Children get their own file indexes first; write entries after. */
    for (int i = 0; i < n; i++)
        gen_entry(st, r, depth, &tmp[i]);
    memcpy(st->f[idx].e, tmp, sizeof(sg_entry) * (size_t)n);
    st->f[idx].n = n;
    st->f[idx].done = 1;
    return idx;
}

void
sg_generate(sg_stack *st, sg_rng *r)
{
    memset(st, 0, sizeof(*st));
    gen_file(st, r, 0);
}

static void
file_name(char *buf, size_t len, const char *name, int file)
{
    if (file == 0)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s_%d", name, file);
}

static int
write_bast(const sg_stack *st, const char *name, int fi, const char *dir)
{
    char fn[64], path[4096];
    const sg_file *f = &st->f[fi];
    FILE *fp;

    file_name(fn, sizeof(fn), name, fi);
    snprintf(path, sizeof(path), "%s/conf.d/%s.conf", dir, fn);
    if ((fp = fopen(path, "w")) == NULL)
        return -1;
    fprintf(fp, "[app]\nrealm = stack\n");
    for (int i = 0; i < f->n; i++) {
        const sg_entry *e = &f->e[i];
        char tn[64];
        switch (e->kind) {
        case SG_MOD:
            fprintf(fp,
                    "\n[m%d]\nplugin = fixed\ncontrol = %s\nresult = %s\n"
                    "%s%s",
                    e->id, e->bast_ctl, bast_words[e->res],
                    /* one principal for all: the identity rule runs but
                     * never fires, so libpam stays the reference */
                    e->id % 3 == 0   ? "identity = u\n"
                    : e->id % 3 == 1 ? "identity = u\nbind_identity = no\n"
                                     : "",
                    e->filter ? filter_lines[0][e->filter - 1] : "");
            break;
        case SG_MISSING:
            fprintf(fp, "\n[x%d]\nplugin = -nosuchplugin\ncontrol = %s\n",
                    e->id, e->bast_ctl);
            break;
        case SG_FILTERED:
            fprintf(fp,
                    "\n[m%d]\nplugin = fixed\ncontrol = %s\nresult = %s\n%s",
                    e->id, e->bast_ctl, bast_words[e->res],
                    filter_lines[1][(e->filter + 1) & 1]);
            break;
        default:
            file_name(tn, sizeof(tn), name, e->target);
            fprintf(fp, "\n[f%d_%d]\n%s = %s\n", fi, i,
                    e->kind == SG_INCLUDE ? "include" : "substack", tn);
        }
    }
    if (fclose(fp) != 0)
        return -1;
    return chmod(path, 0644);
}

static int
write_pam(const sg_stack *st, const char *name, int fi, const char *dir,
          const char *module)
{
    char fn[64], path[4096];
    const sg_file *f = &st->f[fi];
    FILE *fp;

    file_name(fn, sizeof(fn), name, fi);
    snprintf(path, sizeof(path), "%s/%s", dir, fn);
    if ((fp = fopen(path, "w")) == NULL)
        return -1;
    for (int i = 0; i < f->n; i++) {
        const sg_entry *e = &f->e[i];
        char tn[64];
        switch (e->kind) {
        case SG_MOD:
            fprintf(fp, "auth %s %s ret=%s id=%d\n", e->pam_ctl, module,
                    pam_words[e->res], e->id);
            break;
        case SG_MISSING:
            fprintf(fp, "-auth %s /nonexistent/pam_nosuch_test.so id=%d\n",
                    e->pam_ctl, e->id);
            break;
        case SG_FILTERED:
            fprintf(fp, "auth %s %s ret=ignore id=%d notrace\n", e->pam_ctl,
                    module, e->id);
            break;
        default:
            file_name(tn, sizeof(tn), name, e->target);
            fprintf(fp, "auth %s %s/%s\n",
                    e->kind == SG_INCLUDE ? "include" : "substack", dir, tn);
        }
    }
    return fclose(fp);
}

int
sg_write(const sg_stack *st, const char *name, const char *bastdir,
         const char *pamdir, const char *pam_module)
{
    for (int i = 0; i < st->nf; i++)
        if (write_bast(st, name, i, bastdir) != 0 ||
            write_pam(st, name, i, pamdir, pam_module) != 0)
            return -1;
    return 0;
}

static size_t
describe(const sg_stack *st, int fi, char *buf, size_t len, size_t at)
{
    const sg_file *f = &st->f[fi];

    for (int i = 0; i < f->n && at < len; i++) {
        const sg_entry *e = &f->e[i];
        const char *sep = i ? "; " : "";
        int w;
        if (e->kind == SG_MOD)
            w = snprintf(buf + at, len - at, "%s%s %s#%d", sep, e->bast_ctl,
                         bast_words[e->res], e->id);
        else if (e->kind == SG_FILTERED)
            w = snprintf(buf + at, len - at, "%s%s %s#%d(filtered out)", sep,
                         e->bast_ctl, bast_words[e->res], e->id);
        else if (e->kind == SG_MISSING)
            w = snprintf(buf + at, len - at, "%s-%s missing#%d", sep,
                         e->bast_ctl, e->id);
        else
            w = snprintf(buf + at, len - at, "%s%s{ ", sep,
                         e->kind == SG_INCLUDE ? "include" : "substack");
        if (w < 0)
            return at;
        at += (size_t)w;
        if (e->kind == SG_INCLUDE || e->kind == SG_SUBSTACK) {
            at = describe(st, e->target, buf, len, at);
            if (at < len)
                at += (size_t)snprintf(buf + at, len - at, " }");
        }
    }
    return at;
}

void
sg_describe(const sg_stack *st, int file, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (describe(st, file, buf, len, 0) == 0)
        snprintf(buf, len, "(empty)");
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

void
sg_rmtree(const char *path)
{
    int saved = errno;
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    errno = saved;
}
