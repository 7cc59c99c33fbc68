/* t/check_policies.c - unit tests of named policies (lib/ww_policies.c) and of the identity they
 * match (lib/ww_who.c): CIDR edges v4/v6, user and group names, config errors. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_lists.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_urlcheck.h"
#include "ww_who.h"

static char tmp_dir[256];

static void pol_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_policies.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void pol_teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "fopen(%s): %s", path, strerror(errno));
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

static struct ww_conf *load_ok(const char *text)
{
    char err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    int rc = ww_conf_load(write_file("p.conf", text), &conf, err, sizeof(err));

    ck_assert_msg(rc == WW_OK && conf != NULL, "load of:\n%s\ngot %d \"%s\", want WW_OK", text, rc,
                  err);
    ck_assert_ptr_nonnull(conf->policy_set);
    return conf;
}

/* The name of the policy <who> gets. */
static const char *pick(const struct ww_conf *conf, const char *ip, const char *user,
                        const char *groups)
{
    struct ww_who who;
    const struct ww_policy *p;

    ww_who_init(&who);
    if (ip != NULL)
        ww_who_set_ip(&who, ip);
    if (user != NULL)
        ww_who_set_user(&who, user, 0);
    if (groups != NULL)
        ww_who_add_groups(&who, groups, 0);
    p = ww_policies_select(conf->policy_set, &who, NULL);
    ck_assert_ptr_nonnull(p);
    return p->name;
}

/* ---- identity ---- */

static const struct {
    const char *in;
    int base64;
    const char *want; /* NULL = refused */
} user_cases[] = {
    {"alice", 0, "alice"},
    {"  Alice ", 0, "alice"},
    {"EXAMPLE\\Alice", 0, "example\\alice"},
    {"alice@EXAMPLE.ORG", 0, "alice@example.org"},
    {"Local://alice", 0, "alice"},
    {"WinNT://EXAMPLE/Alice", 0, "example\\alice"},
    {"TG9jYWw6Ly9hbGljZQ==", 1, "alice"},                /* base64 "Local://alice" */
    {"V2luTlQ6Ly9FWEFNUExFL2JvYg==", 1, "example\\bob"}, /* "WinNT://EXAMPLE/bob" */
    {"YWxpY2U=", 1, "alice"},                            /* "alice" */
    {"YWxpY2U=", 0, "ywxpy2u="},                         /* plain: taken as written */
    {"bob", 1, "bob"},                                   /* not base64 (length): plain */
    {"test", 1, "test"},                                 /* base64 of binary bytes: plain */
    {"", 0, NULL},
    {"   ", 0, NULL},
    {"Local://", 0, NULL},
    {"al\x01ice", 0, NULL},
};

START_TEST(test_who_user_forms)
{
    struct ww_who who;
    int rc;

    ww_who_init(&who);
    rc = ww_who_set_user(&who, user_cases[_i].in, user_cases[_i].base64);
    if (user_cases[_i].want == NULL)
        ck_assert_msg(rc == WW_EINVAL && who.user[0] == '\0',
                      "user(\"%s\") = %d \"%s\", want refused", user_cases[_i].in, rc, who.user);
    else
        ck_assert_msg(rc == WW_OK && strcmp(who.user, user_cases[_i].want) == 0,
                      "user(\"%s\", b64 %d) = %d \"%s\", want \"%s\"", user_cases[_i].in,
                      user_cases[_i].base64, rc, who.user, user_cases[_i].want);
}
END_TEST

START_TEST(test_who_groups_several_and_base64)
{
    struct ww_who who;

    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_groups(&who, "Students, WinNT://EXAMPLE/Staff ,,Local://guests", 1),
                     WW_OK);
    ck_assert_int_eq(who.ngroups, 3);
    ck_assert_str_eq(who.groups[0], "students");
    ck_assert_str_eq(who.groups[1], "example\\staff");
    ck_assert_str_eq(who.groups[2], "guests");
    /* a second header adds; this one is base64 of "helpdesk,admins" */
    ck_assert_int_eq(ww_who_add_groups(&who, "aGVscGRlc2ssYWRtaW5z", 1), WW_OK);
    ck_assert_int_eq(who.ngroups, 5);
    ck_assert_str_eq(who.groups[3], "helpdesk");
    ck_assert_str_eq(who.groups[4], "admins");
    ck_assert_int_eq(ww_who_add_groups(&who, " , ", 1), WW_EINVAL);
    ck_assert_int_eq(ww_who_add_groups(&who, "aGVscGRlc2ssYWRtaW5z", 0), WW_OK); /* plain */
    ck_assert_str_eq(who.groups[5], "agvscgrlc2ssywrtaw5z");
}
END_TEST

START_TEST(test_who_groups_cap_counts_dropped)
{
    struct ww_who who;
    char list[4096] = "";

    for (int i = 0; i < WW_WHO_GROUPS_MAX + 5; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "g%d,", i);
    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_groups(&who, list, 0), WW_OK);
    ck_assert_int_eq(who.ngroups, WW_WHO_GROUPS_MAX);
    ck_assert_int_eq(who.groups_dropped, 5);
}
END_TEST

static const struct {
    const char *in;
    int ok;
} ip_cases[] = {
    {"10.1.2.3", 1},     {" 10.1.2.3 ", 1},         {"::ffff:10.1.2.3", 1},
    {"2001:db8::1", 1},  {"[2001:db8::1]", 1},      {"10.1.2", 0},
    {"10.1.2.3.4", 0},   {"10.1.2.3, 10.9.9.9", 0}, {"", 0},
    {"fe80::1%eth0", 0}, {"2001:db8::1]", 0},
};

START_TEST(test_who_ip_forms)
{
    struct ww_who who;
    int rc;

    ww_who_init(&who);
    rc = ww_who_set_ip(&who, ip_cases[_i].in);
    ck_assert_msg((rc == WW_OK) == ip_cases[_i].ok && who.has_ip == ip_cases[_i].ok,
                  "set_ip(\"%s\") = %d has_ip %d, want ok=%d", ip_cases[_i].in, rc, who.has_ip,
                  ip_cases[_i].ok);
}
END_TEST

START_TEST(test_who_ipv4_and_mapped_are_one_address)
{
    unsigned char a[16], b[16];

    ck_assert_int_eq(ww_who_parse_ip("192.0.2.7", a), WW_OK);
    ck_assert_int_eq(ww_who_parse_ip("::ffff:192.0.2.7", b), WW_OK);
    ck_assert_mem_eq(a, b, 16);
}
END_TEST

/* ---- matching ---- */

static const char cidr_conf[] = "[policy lab]\n"
                                "match = client 10.20.0.0/16\n"
                                "[policy host]\n"
                                "match = client 10.30.0.5\n"
                                "[policy v6]\n"
                                "match = client 2001:db8:a::/48\n"
                                "[policy v6host]\n"
                                "match = client 2001:db8:b::1/128\n"
                                "[policy wide]\n"
                                "match = client 10.0.0.0/8\n";

static const struct {
    const char *ip, *want;
} cidr_cases[] = {
    {"10.20.0.0", "lab"},
    {"10.20.255.255", "lab"},
    {"10.19.255.255", "wide"},
    {"10.21.0.0", "wide"},
    {"10.30.0.5", "host"},
    {"10.30.0.4", "wide"},
    {"10.30.0.6", "wide"},
    {"::ffff:10.20.1.1", "lab"},
    {"9.255.255.255", "default"},
    {"11.0.0.0", "default"},
    {"2001:db8:a::", "v6"},
    {"2001:db8:a:ffff:ffff:ffff:ffff:ffff", "v6"},
    {"2001:db8:9:ffff:ffff:ffff:ffff:ffff", "default"},
    {"2001:db8:b::1", "v6host"},
    {"2001:db8:b::2", "default"},
    {"2001:db8:b::0", "default"},
    {"::a14:0", "default"}, /* ::10.20.0.0 (IPv4-compatible) is not 10.20.0.0 */
};

START_TEST(test_policies_cidr_edges)
{
    struct ww_conf *conf = load_ok(cidr_conf);
    const char *got = pick(conf, cidr_cases[_i].ip, NULL, NULL);

    ck_assert_msg(strcmp(got, cidr_cases[_i].want) == 0, "client %s got policy %s, want %s",
                  cidr_cases[_i].ip, got, cidr_cases[_i].want);
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_zero_prefix_matches_everyone)
{
    struct ww_conf *conf = load_ok("[policy v4]\nmatch = client 0.0.0.0/0\n"
                                   "[policy v6]\nmatch = client ::/0\n");

    ck_assert_str_eq(pick(conf, "255.255.255.255", NULL, NULL), "v4");
    ck_assert_str_eq(pick(conf, "0.0.0.0", NULL, NULL), "v4");
    ck_assert_str_eq(pick(conf, "2001:db8::1", NULL, NULL), "v6");
    ck_assert_str_eq(pick(conf, NULL, "alice", NULL), "default"); /* no address: nothing matches */
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_terms_are_ored_first_policy_wins)
{
    struct ww_conf *conf = load_ok("[policy students]\n"
                                   "match = group students, client 10.20.0.0/16, user alice\n"
                                   "sensitivity = high\n"
                                   "[policy staff]\n"
                                   "match = group staff, user bob\n");
    const char *term = NULL;
    struct ww_who who;

    ck_assert_str_eq(pick(conf, "10.20.1.1", NULL, NULL), "students");
    ck_assert_str_eq(pick(conf, NULL, "ALICE", NULL), "students");
    ck_assert_str_eq(pick(conf, NULL, NULL, "Students"), "students");
    ck_assert_str_eq(pick(conf, NULL, "bob", NULL), "staff");
    ck_assert_str_eq(pick(conf, NULL, NULL, "others, staff"), "staff");
    /* bob is staff, but from a student address: students comes first in the file */
    ck_assert_str_eq(pick(conf, "10.20.1.1", "bob", "staff"), "students");
    ck_assert_str_eq(pick(conf, "10.21.1.1", "carol", "others"), "default");
    ww_who_init(&who);
    ww_who_set_user(&who, "alice", 0);
    ck_assert_str_eq(ww_policies_select(conf->policy_set, &who, &term)->name, "students");
    ck_assert_str_eq(term, "user alice");
    ck_assert_int_eq(ww_policies_select(conf->policy_set, &who, NULL)->sensitivity, WW_SENS_HIGH);
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_user_domain_exact_by_default)
{
    struct ww_conf *conf =
        load_ok("[policy a]\nmatch = user alice\n"
                "[policy b]\nmatch = user EXAMPLE\\bob, user carol@example.org\n");

    ck_assert_str_eq(pick(conf, NULL, "alice", NULL), "a");
    ck_assert_str_eq(pick(conf, NULL, "EXAMPLE\\alice", NULL), "default");
    ck_assert_str_eq(pick(conf, NULL, "alice@example.org", NULL), "default");
    ck_assert_str_eq(pick(conf, NULL, "example\\BOB", NULL), "b");
    ck_assert_str_eq(pick(conf, NULL, "WinNT://EXAMPLE/bob", NULL), "b");
    ck_assert_str_eq(pick(conf, NULL, "bob", NULL), "default");
    ck_assert_str_eq(pick(conf, NULL, "OTHER\\bob", NULL), "default");
    ck_assert_str_eq(pick(conf, NULL, "Carol@Example.Org", NULL), "b");
    ww_conf_free(conf);
}
END_TEST

/* X-Authenticated-User is base64 by the ICAP draft, plain text taken when it is not base64 text;
 * identity.authenticated_user_plain = on never decodes it (attack review of round 8, F9: a login
 * "YWRtaW4" read as "admin"). X-Client-Username follows identity.username_base64 alone. */
START_TEST(test_who_authenticated_user_plain_option)
{
    struct ww_conf *conf = load_ok("[identity]\nauthenticated_user_plain = on\n");
    struct ww_conf *dflt = load_ok("");
    struct ww_who who;

    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_header(&who, dflt, "X-Authenticated-User", "YWRtaW4"), WW_OK);
    ck_assert_str_eq(who.user, "admin"); /* the draft's base64, by default */
    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_header(&who, dflt, "X-Authenticated-User", "alice"), WW_OK);
    ck_assert_str_eq(who.user, "alice"); /* not base64 text: plain */
    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_header(&who, conf, "X-Authenticated-User", "YWRtaW4"), WW_OK);
    ck_assert_str_eq(who.user, "ywrtaw4"); /* as sent (names are kept lower case) */
    ww_who_init(&who);
    ck_assert_int_eq(ww_who_add_header(&who, conf, "X-Authenticated-User", "Local://bob"), WW_OK);
    ck_assert_str_eq(who.user, "bob");
    ww_conf_free(conf);
    ww_conf_free(dflt);
}
END_TEST

START_TEST(test_policies_user_strip_domain_option)
{
    struct ww_conf *conf = load_ok("[identity]\nuser_strip_domain = on\n"
                                   "[policy a]\nmatch = user alice, group staff\n"
                                   "[policy b]\nmatch = user EXAMPLE\\bob\n");

    ck_assert_str_eq(pick(conf, NULL, "alice", NULL), "a");
    ck_assert_str_eq(pick(conf, NULL, "EXAMPLE\\alice", NULL), "a");
    ck_assert_str_eq(pick(conf, NULL, "alice@EXAMPLE.ORG", NULL), "a");
    ck_assert_str_eq(pick(conf, NULL, "Local://alice", NULL), "a");
    ck_assert_str_eq(pick(conf, NULL, NULL, "WinNT://EXAMPLE/staff"), "a");
    /* an entry written with its domain still needs that domain */
    ck_assert_str_eq(pick(conf, NULL, "example\\bob", NULL), "b");
    ck_assert_str_eq(pick(conf, NULL, "OTHER\\bob", NULL), "default");
    ck_assert_str_eq(pick(conf, NULL, "bob", NULL), "default");
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_overrides_and_inherit)
{
    struct ww_conf *conf = load_ok("[reputation]\nsensitivity = low\nunrated_action = allow\n"
                                   "blocked_categories = gambling\n"
                                   "[scan]\nmax_size = 10M\n"
                                   "[policy strict]\nmatch = group students\n"
                                   "sensitivity = high\nunrated_action = block\n"
                                   "blocked_categories = games, social\n"
                                   "block_types = executable, Archive\nmax_size = 1M\ndeep = on\n"
                                   "[policy stricter]\nmatch = group kids\ninherit = strict\n"
                                   "sensitivity = medium\n");
    const struct ww_policy *d = ww_policies_at(conf->policy_set, 0);
    const struct ww_policy *s = ww_policies_find(conf->policy_set, "strict");
    const struct ww_policy *k = ww_policies_find(conf->policy_set, "stricter");

    ck_assert_uint_eq(ww_policies_count(conf->policy_set), 2);
    ck_assert_str_eq(d->name, "default");
    ck_assert_int_eq(d->sensitivity, WW_SENS_LOW);
    ck_assert_int_eq(d->unrated_action, WW_ACTION_ALLOW);
    ck_assert_str_eq(d->blocked_categories[0], "gambling");
    ck_assert_int_eq(d->max_size, 10 << 20);
    ck_assert_int_eq(d->deep, -1);
    ck_assert_uint_eq(d->block_types, 0);
    ck_assert_int_eq(s->sensitivity, WW_SENS_HIGH);
    ck_assert_int_eq(s->unrated_action, WW_ACTION_BLOCK);
    ck_assert_str_eq(s->blocked_categories[1], "social");
    ck_assert_uint_eq(s->block_types, WW_FTYPE_EXECUTABLE | WW_FTYPE_ARCHIVE);
    ck_assert_int_eq(s->max_size, 1 << 20);
    ck_assert_int_eq(s->deep, 1);
    ck_assert_int_eq(k->sensitivity, WW_SENS_MEDIUM);
    ck_assert_int_eq(k->unrated_action, WW_ACTION_BLOCK); /* from strict */
    ck_assert_uint_eq(k->block_types, WW_FTYPE_EXECUTABLE | WW_FTYPE_ARCHIVE);
    ck_assert_int_eq(k->max_size, 1 << 20);
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_decide_uses_the_policy)
{
    struct ww_conf *conf = load_ok("[policy strict]\nmatch = group students\n"
                                   "sensitivity = high\nunrated_action = block\n"
                                   "blocked_categories = games\n");
    const struct ww_policy *s = ww_policies_find(conf->policy_set, "strict");
    const struct ww_policy *d = ww_policies_at(conf->policy_set, 0);
    struct ww_rating r;
    struct ww_policy_decision out;

    ww_rating_init(&r, WW_REP_SRC_SERVER, WW_OK);
    r.score = 70; /* medium: 70 > 65 allowed; high: 70 <= 80 blocked */
    ww_policy_decide_for(conf, d, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_ALLOW);
    ww_policy_decide_for(conf, s, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_BLOCK);
    ck_assert_str_eq(out.reason, "score 70 <= 80 (high)");
    ww_rating_init(&r, WW_REP_SRC_FAILURE, WW_ETIMEOUT);
    ww_policy_decide_for(conf, d, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_ALLOW);
    ww_policy_decide_for(conf, s, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_BLOCK);
    ww_rating_init(&r, WW_REP_SRC_SERVER, WW_OK);
    r.score = 95;
    ww_rating_add_category(&r, "games");
    ww_policy_decide_for(conf, d, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_ALLOW);
    ww_policy_decide_for(conf, s, &r, &out);
    ck_assert_int_eq(out.action, WW_ACTION_BLOCK);
    ck_assert_str_eq(out.reason, "category games is blocked");
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_extra_lists_load)
{
    char text[1024];
    struct ww_conf *conf;
    const struct ww_policy *p;
    char err[WW_ERRLEN] = "";

    write_file("kids-blocked.txt", "games.example\n");
    write_file("kids-approved.txt", "school.example\n");
    snprintf(text, sizeof(text),
             "[policy kids]\nmatch = group kids\nblocked = kids-blocked.txt\n"
             "approved = %s/kids-approved.txt\n",
             tmp_dir);
    conf = load_ok(text);
    ck_assert_int_eq(ww_policies_load_lists(conf->policy_set, err, sizeof(err)), WW_OK);
    p = ww_policies_find(conf->policy_set, "kids");
    ck_assert_int_eq(ww_list_match(p->blocked, "http://www.games.example/", NULL), 1);
    ck_assert_int_eq(ww_list_match(p->approved, "http://school.example/x", NULL), 1);
    ck_assert_ptr_null(ww_policies_at(conf->policy_set, 0)->blocked);
    ww_conf_free(conf);

    snprintf(text, sizeof(text), "[policy kids]\nmatch = group kids\nblocked = missing.txt\n");
    conf = load_ok(text);
    ck_assert_int_ne(ww_policies_load_lists(conf->policy_set, err, sizeof(err)), WW_OK);
    ck_assert_msg(strstr(err, "[policy kids] blocked") != NULL && strstr(err, "missing.txt"),
                  "err \"%s\"", err);
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_policies_none_is_the_default_policy)
{
    struct ww_conf *conf = load_ok("[reputation]\nsensitivity = high\n");
    struct ww_conf *d = ww_conf_create_defaults();

    ck_assert_uint_eq(ww_policies_count(conf->policy_set), 0);
    ck_assert_str_eq(pick(conf, "10.0.0.1", "alice", "staff"), "default");
    /* No identity gathered (the module skips the ICAP headers then): the same policy. */
    ck_assert_ptr_eq(ww_policies_select(conf->policy_set, NULL, NULL),
                     ww_policies_at(conf->policy_set, 0));
    ck_assert_int_eq(ww_policies_at(conf->policy_set, 0)->sensitivity, WW_SENS_HIGH);
    ck_assert_ptr_nonnull(d->policy_set);
    ck_assert_str_eq(ww_policies_select(d->policy_set, NULL, NULL)->name, "default");
    ww_conf_free(conf);
    ww_conf_free(d);
}
END_TEST

START_TEST(test_policies_dump_round_trips)
{
    struct ww_conf *conf = load_ok("[policy kids]\nmatch = group kids, client 10.1.0.0/16\n"
                                   "sensitivity = high\nmax_size = 2M\ndeep = off\n"
                                   "block_types = executable\n");
    struct ww_conf *again;
    char *text = NULL, *text2 = NULL, err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_conf_dump(conf, &text), WW_OK);
    ck_assert_msg(strstr(text, "[policy kids]\nmatch = group kids, client 10.1.0.0/16\n") != NULL,
                  "dump:\n%s", text);
    ck_assert_int_eq(ww_conf_load(write_file("again.conf", text), &again, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_conf_dump(again, &text2), WW_OK);
    ck_assert_str_eq(strchr(text, '\n'), strchr(text2, '\n')); /* past the "from <path>" line */
    free(text);
    free(text2);
    ww_conf_free(conf);
    ww_conf_free(again);
}
END_TEST

/* 100 policies, 10,000 CIDRs: compiled fast, looked up fast, each address finds its own. */
START_TEST(test_policies_ten_thousand_cidrs)
{
    size_t cap = 400000, n = 0;
    char *text = malloc(cap);
    struct ww_conf *conf;
    struct timespec t0, t1;
    double ms;

    ck_assert_ptr_nonnull(text);
    for (int p = 0; p < 100; p++) {
        n += (size_t)snprintf(text + n, cap - n, "[policy p%d]\nmatch = ", p);
        for (int c = 0; c < 100; c++)
            n += (size_t)snprintf(text + n, cap - n, "%sclient 10.%d.%d.0/24", c ? ", " : "", p, c);
        n += (size_t)snprintf(text + n, cap - n, "\n");
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    conf = load_ok(text);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    ck_assert_msg(ms < 3000, "load took %.0f ms", ms);
    ck_assert_str_eq(pick(conf, "10.42.99.200", NULL, NULL), "p42");
    ck_assert_str_eq(pick(conf, "10.0.0.1", NULL, NULL), "p0");
    ck_assert_str_eq(pick(conf, "10.99.99.255", NULL, NULL), "p99");
    ck_assert_str_eq(pick(conf, "10.42.100.1", NULL, NULL), "default");
    free(text);
    ww_conf_free(conf);
}
END_TEST

/* The flattened ranges agree with the definition: the lowest policy whose CIDR holds the
 * address. Random nested and disjoint IPv4 CIDRs, longer prefixes in earlier policies (so no term
 * is dead), addresses near their edges, checked against a linear scan. */
START_TEST(test_policies_cidr_lookup_matches_linear_scan)
{
    enum { NPOL = 20, PER = 3, TEXT = 16 * 1024 };
    static uint32_t net[NPOL][PER];
    static int len[NPOL];
    char *text = malloc(TEXT);
    struct ww_conf *conf = NULL;
    char err[WW_ERRLEN] = "";
    unsigned int seed = 20261203u + 1000u * (unsigned int)_i;

    ck_assert_ptr_nonnull(text);
    /* A draw where earlier CIDRs together cover a later one is refused (rightly): draw again. */
    for (int tries = 0; conf == NULL && tries < 50; tries++) {
        size_t n = 0;
        for (int p = 0; p < NPOL; p++) {
            len[p] = 31 - p; /* /31 down to /12: later policies hold wider ranges */
            n += (size_t)snprintf(text + n, TEXT - n, "[policy p%d]\nmatch = ", p);
            for (int k = 0; k < PER; k++) {
                uint32_t a = 0x0a000000u | ((uint32_t)rand_r(&seed) & 0x00ffffffu);
                a &= ~((1u << (32 - len[p])) - 1);
                net[p][k] = a;
                n += (size_t)snprintf(text + n, TEXT - n, "%sclient %u.%u.%u.%u/%d", k ? ", " : "",
                                      a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len[p]);
            }
            n += (size_t)snprintf(text + n, TEXT - n, "\n");
        }
        if (ww_conf_load(write_file("rand.conf", text), &conf, err, sizeof(err)) != WW_OK) {
            ck_assert_msg(strstr(err, "can never apply") != NULL, "load: %s", err);
            conf = NULL;
        }
    }
    ck_assert_msg(conf != NULL, "no draw loaded in 50 tries: %s", err);
    for (int t = 0; t < 20000; t++) {
        int p0 = rand_r(&seed) % NPOL, k0 = rand_r(&seed) % PER;
        uint32_t span = 1u << (32 - len[p0]), a;
        int want = 0;
        char ip[32], wname[16];
        const char *got;

        switch (rand_r(&seed) % 4) { /* an edge, just outside, or anywhere inside */
        case 0:
            a = net[p0][k0];
            break;
        case 1:
            a = net[p0][k0] + span - 1;
            break;
        case 2:
            a = rand_r(&seed) % 2 ? net[p0][k0] - 1 : net[p0][k0] + span;
            break;
        default:
            a = net[p0][k0] + (uint32_t)rand_r(&seed) % span;
        }
        for (int p = 0; p < NPOL && want == 0; p++)
            for (int k = 0; k < PER; k++)
                if (a - net[p][k] < (1u << (32 - len[p]))) {
                    want = p + 1;
                    break;
                }
        snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
        if (want)
            snprintf(wname, sizeof(wname), "p%d", want - 1);
        else
            snprintf(wname, sizeof(wname), "default");
        got = pick(conf, ip, NULL, NULL);
        ck_assert_msg(strcmp(got, wname) == 0, "case %d: %s got %s, want %s", _i, ip, got, wname);
    }
    ww_conf_free(conf);
    free(text);
}
END_TEST

/* The one URL decision (lib/ww_urlcheck) with a policy: its extra lists and its settings. No
 * reputation lookup is opened, so every URL no list names is unrated. */
START_TEST(test_policies_urlcheck_decides_with_the_policy)
{
    char text[1024], err[WW_ERRLEN] = "";
    struct ww_conf *conf;
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict v;
    struct ww_urlcheck_input in = {.url = "http://games.example/x"};
    const struct ww_policy *kids, *staff;

    write_file("global-blocked.txt", "social.example\n");
    write_file("kids-blocked.txt", "games.example\n");
    write_file("staff-approved.txt", "social.example\n");
    snprintf(text, sizeof(text),
             "[lists]\nblocked = %s/global-blocked.txt\n"
             "[policy kids]\nmatch = group kids\nblocked = kids-blocked.txt\n"
             "unrated_action = block\n"
             "[policy staff]\nmatch = group staff\napproved = staff-approved.txt\n",
             tmp_dir);
    conf = load_ok(text);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    kids = ww_policies_find(conf->policy_set, "kids");
    staff = ww_policies_find(conf->policy_set, "staff");

    ww_urlcheck_decide(uc, &in, &v); /* default */
    ck_assert_int_eq(v.action, WW_ACTION_ALLOW);
    ck_assert_str_eq(v.policy, "default");
    in.policy = kids;
    ww_urlcheck_decide(uc, &in, &v);
    ck_assert_int_eq(v.action, WW_ACTION_BLOCK);
    ck_assert_str_eq(v.reason, "blocked list: games.example");
    ck_assert_str_eq(v.policy, "kids");
    in.url = "http://unknown.example/";
    ww_urlcheck_decide(uc, &in, &v); /* unrated: the kids' unrated_action */
    ck_assert_int_eq(v.action, WW_ACTION_BLOCK);
    ck_assert_int_eq(v.by, WW_URLCHECK_REPUTATION);
    in.url = "http://social.example/";
    ww_urlcheck_decide(uc, &in, &v); /* the global blocked list applies to every policy */
    ck_assert_int_eq(v.action, WW_ACTION_BLOCK);
    in.policy = staff;
    ww_urlcheck_decide(uc, &in, &v); /* ... but staff's approved list wins over it */
    ck_assert_int_eq(v.action, WW_ACTION_ALLOW);
    ck_assert_str_eq(v.reason, "approved list: social.example");
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
}
END_TEST

/* ---- config errors: each names the file and line ---- */

static const struct {
    const char *text;
    int line;
    const char *want; /* in the message */
} error_cases[] = {
    {"[policy a]\nmatch = user x\nfoo = 1\n", 3, "unknown key \"foo\" in [policy a]"},
    {"[policy a]\nmatch = client 10.20.0.0/33\n", 2, "prefix length 33 is over 32"},
    {"[policy a]\nmatch = client 10.20.0.1/16\n", 2, "write 10.20.0.0/16"},
    {"[policy a]\nmatch = client 2001:db8::1/32\n", 2, "write 2001:db8::/32"},
    {"[policy a]\nmatch = client 10.20.300.0/24\n", 2, "not an IPv4 or IPv6 address"},
    {"[policy a]\nmatch = client 10.20.0.0/\n", 2, "prefix length"},
    {"[policy a]\nmatch = client 2001:db8::/129\n", 2, "over 128"},
    {"[policy a]\nmatch = host 10.0.0.1\n", 2, "unknown kind \"host\""},
    {"[policy a]\nmatch = user\n", 2, "write group NAME"},
    {"[policy a]\n\nsensitivity = high\n", 1, "has no match"},
    {"[policy a]\nmatch = user x\ninherit = nobody\n", 3, "no policy \"nobody\""},
    {"[policy a]\nmatch = user x\ninherit = b\n[policy b]\nmatch = user y\n", 3, "defined below"},
    {"[policy a]\nmatch = user x\nblock_types = executable, pdfs\n", 3, "unknown type \"pdfs\""},
    {"[policy a]\nmatch = user x\nsensitivity = extreme\n", 3, "not one of low|medium|high"},
    {"[policy a]\nmatch = user x\nmax_size = lots\n", 3, "not a size"},
    {"[policy a]\nmatch = user x\nmatch = user y\n", 3, "set twice (first on line 2)"},
    {"[policy a]\nmatch = user x\n[policy A]\nmatch = user y\n", 3, "defined twice"},
    {"[policy default]\nmatch = user x\n", 1, "global keys"},
    {"[policy a b]\nmatch = user x\n", 1, "policy name"},
    {"[policy]\nmatch = user x\n", 1, "unknown section [policy]"},
    {"[policy wide]\nmatch = client 10.0.0.0/8\n\n[policy lab]\nmatch = client 10.20.0.0/16\n", 5,
     "can never apply: policy wide (line 1)"},
    {"[policy a]\nmatch = client 10.20.0.0/17\n[policy b]\nmatch = client 10.20.128.0/17\n"
     "[policy c]\nmatch = client 10.20.0.0/16\n",
     6, "earlier policies together cover it"},
    {"[policy a]\nmatch = client ::/0\n[policy b]\nmatch = client 2001:db8::/32\n", 4,
     "can never apply"},
    {"[policy a]\nmatch = user Alice\n[policy b]\nmatch = user alice, group g\n", 4,
     "\"user alice\" can never apply: policy a"},
    {"[policy a]\nmatch = group Staff\n[policy b]\nmatch = group staff\n", 4, "can never apply"},
    {"[identity]\nuser_strip_domain = on\n[policy a]\nmatch = user bob\n"
     "[policy b]\nmatch = user example\\bob\n",
     6, "can never apply: policy a"},
    {"[identity]\nfoo = on\n", 2, "unknown key \"foo\" in section [identity]"},
};

START_TEST(test_policies_bad_config_names_file_and_line)
{
    char err[WW_ERRLEN] = "", want[PATH_MAX + 32];
    struct ww_conf *conf = NULL;
    const char *path = write_file("bad.conf", error_cases[_i].text);
    int rc = ww_conf_load(path, &conf, err, sizeof(err));

    snprintf(want, sizeof(want), "%s:%d: ", path, error_cases[_i].line);
    ck_assert_msg(rc == WW_EINVAL && conf == NULL && strncmp(err, want, strlen(want)) == 0 &&
                      strstr(err, error_cases[_i].want) != NULL,
                  "load of:\n%s\ngot %d \"%s\", want WW_EINVAL \"%s...%s...\"",
                  error_cases[_i].text, rc, err, want, error_cases[_i].want);
}
END_TEST

/* Not errors: the same term twice in one policy, a narrower term of an earlier policy later,
 * a later policy that is reachable by another term. */
START_TEST(test_policies_reachable_terms_are_accepted)
{
    struct ww_conf *conf = load_ok("[policy lab]\nmatch = client 10.20.0.0/16\n"
                                   "[policy wide]\nmatch = client 10.0.0.0/8, client 10.0.0.0/8\n"
                                   "[policy a]\nmatch = client 192.168.0.0/17, user x\n"
                                   "[policy b]\nmatch = client 192.168.0.0/16, user y\n");

    ck_assert_str_eq(pick(conf, "10.20.200.1", NULL, NULL), "lab");
    ck_assert_str_eq(pick(conf, "10.21.0.1", "x", NULL), "wide");
    ck_assert_str_eq(pick(conf, "192.168.200.1", NULL, NULL), "b");
    ck_assert_str_eq(pick(conf, "192.168.1.1", "y", NULL), "a");
    ck_assert_str_eq(pick(conf, "192.0.2.1", "y", NULL), "b");
    ww_conf_free(conf);
}
END_TEST

static Suite *policies_suite(void)
{
    Suite *s = suite_create("policies");
    TCase *tc;

    tc = tcase_create("who");
    tcase_add_loop_test(tc, test_who_user_forms, 0, sizeof(user_cases) / sizeof(user_cases[0]));
    tcase_add_test(tc, test_who_groups_several_and_base64);
    tcase_add_test(tc, test_who_groups_cap_counts_dropped);
    tcase_add_loop_test(tc, test_who_ip_forms, 0, sizeof(ip_cases) / sizeof(ip_cases[0]));
    tcase_add_test(tc, test_who_ipv4_and_mapped_are_one_address);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_checked_fixture(tc, pol_setup, pol_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_policies_cidr_edges, 0,
                        sizeof(cidr_cases) / sizeof(cidr_cases[0]));
    tcase_add_test(tc, test_policies_zero_prefix_matches_everyone);
    tcase_add_test(tc, test_policies_terms_are_ored_first_policy_wins);
    tcase_add_test(tc, test_policies_user_domain_exact_by_default);
    tcase_add_test(tc, test_policies_user_strip_domain_option);
    tcase_add_test(tc, test_who_authenticated_user_plain_option);
    tcase_add_test(tc, test_policies_overrides_and_inherit);
    tcase_add_test(tc, test_policies_decide_uses_the_policy);
    tcase_add_test(tc, test_policies_extra_lists_load);
    tcase_add_test(tc, test_policies_urlcheck_decides_with_the_policy);
    tcase_add_test(tc, test_policies_none_is_the_default_policy);
    tcase_add_test(tc, test_policies_dump_round_trips);
    tcase_add_test(tc, test_policies_ten_thousand_cidrs);
    tcase_add_loop_test(tc, test_policies_cidr_lookup_matches_linear_scan, 0, 5);
    tcase_add_test(tc, test_policies_reachable_terms_are_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, pol_setup, pol_teardown);
    tcase_add_loop_test(tc, test_policies_bad_config_names_file_and_line, 0,
                        sizeof(error_cases) / sizeof(error_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(policies_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
