/* t/check_update.c - updates: versions, manifest, signature, download failures, install,
 * min_engine, rollback, pruning, unsafe archives; against t/fake_update.py on loopback. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fake_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_http.h"
#include "ww_license.h"
#include "ww_scan.h"
#include "ww_store.h"
#include "ww_update.h"

/* ---- versions ---- */

static const struct {
    const char *a, *b;
    int want; /* sign */
} cmp_cases[] = {
    {"1", "2", -1},
    {"2", "1", 1},
    {"1.0.0", "1.0.0", 0},
    {"1.0", "1.0.0", 0},
    {"1", "1.0.0.0", 0},
    {"1.0.1", "1.0", 1},
    {"1.2", "1.10", -1},
    {"1.10", "1.9", 1},
    {"01.002", "1.2", 0},
    {"2026.11.27.1", "2026.11.27.2", -1},
    {"2026.11.27.10", "2026.11.27.9", 1},
    {"2026.12.1.1", "2026.11.30.9", 1},
    {"99999999999999999999999.1", "99999999999999999999998.9", 1},
    {"0", "0.0", 0},
    {"0.1", "0", 1},
    {"1.0.0", "garbage", 1},
    {"", "1", -1},
    {"1.a", "1", -1},
};

START_TEST(test_update_version_cmp_matches_table)
{
    int got = ww_update_version_cmp(cmp_cases[_i].a, cmp_cases[_i].b);
    int sign = got < 0 ? -1 : got > 0 ? 1 : 0;

    ck_assert_msg(sign == cmp_cases[_i].want, "cmp(\"%s\", \"%s\") = %d, want sign %d",
                  cmp_cases[_i].a, cmp_cases[_i].b, got, cmp_cases[_i].want);
}
END_TEST

static const struct {
    const char *v;
    int want;
} valid_cases[] = {
    {"1", 1},
    {"1.0.0", 1},
    {"2026.11.27.1", 1},
    {"", 0},
    {".1", 0},
    {"1.", 0},
    {"1..2", 0},
    {"1.2a", 0},
    {"../x", 0},
    {"-1", 0},
    {"1 2", 0},
    {"1234567890123456789012345678901234567890123456789012345678901234", 0},
};

START_TEST(test_update_version_valid_matches_table)
{
    int got = ww_update_version_valid(valid_cases[_i].v);
    ck_assert_msg(got == valid_cases[_i].want, "valid(\"%s\") = %d, want %d", valid_cases[_i].v,
                  got, valid_cases[_i].want);
}
END_TEST

/* ---- fixture: a fake update server (one per TCase), a store and a config per test ---- */

/* The server of the running TCase: started in its parent process (unchecked fixture), so the
 * forked tests share it; each test points it at its own payload folder. */
static struct {
    char dir[128];
    char key[256];
    pid_t pid;
    int port;
    char base[64];
} srv;

struct fx {
    char dir[128];
    char payloads[256];
    char updir[256];
    char db[256];
    char key[256];
    int port;
    char base[64];
    struct ww_store *st;
    struct ww_conf *conf;
};

static int64_t now_ms(void)
{
    return fake_now_ms();
}

static void sleep_ms(int ms)
{
    fake_sleep_ms(ms);
}

static void set_str(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    ck_assert_ptr_nonnull(*field);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

static void run_cmd(const char *cmd)
{
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

/* The public key of <key> as base64 of its DER SubjectPublicKeyInfo, or (raw) of the last 32
 * bytes of it (the bare Ed25519 key). */
static void public_key_of(const char *key, int raw, char *out, size_t outlen)
{
    char cmd[1024];
    FILE *fp;

    snprintf(cmd, sizeof(cmd),
             "openssl pkey -in %s -pubout -outform DER 2>/dev/null | %s | base64 -w0", key,
             raw ? "tail -c 32" : "cat");
    fp = popen(cmd, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(out, (int)outlen, fp));
    pclose(fp);
    out[strcspn(out, "\n")] = '\0';
}

static void gen_key(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 -out %s 2>/dev/null", path);
    run_cmd(cmd);
}

static void srv_start(int sign)
{
    const char *args[] = {"--sign-key", srv.key, NULL};

    memset(&srv, 0, sizeof(srv));
    if (fake_proc_mkdir(srv.dir, sizeof(srv.dir), "updsrv") != 0)
        abort();
    snprintf(srv.key, sizeof(srv.key), "%s/key.pem", srv.dir);
    if (sign)
        gen_key(srv.key);
    if (fake_proc_start("fake_update.py", srv.dir, 0, sign ? args : NULL, &srv.pid, &srv.port) !=
        0) {
        fprintf(stderr, "fake_update.py did not start\n");
        abort();
    }
    snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%d", srv.port);
}

static void srv_start_plain(void)
{
    srv_start(0);
}

static void srv_start_signing(void)
{
    srv_start(1);
}

static void srv_stop(void)
{
    fake_proc_stop(&srv.pid, srv.dir);
}

static void fx_wait_state(struct fx *f, int up);
static void fx_mode(struct fx *f, const char *json);

static void fx_post(struct fx *f, const char *path, const char *json);

/* Updates stop under an invalid license, or one past its grace period. */
static void fx_license_code(struct fx *f, const char *code, const char *status, const char *expires)
{
    struct ww_license lic;

    memset(&lic, 0, sizeof(lic));
    snprintf(lic.activation_code, sizeof(lic.activation_code), "%s", code);
    snprintf(lic.status, sizeof(lic.status), "%s", status);
    snprintf(lic.edition, sizeof(lic.edition), "test");
    snprintf(lic.expires, sizeof(lic.expires), "%s", expires);
    lic.grace_days = 90;
    ck_assert_int_eq(ww_store_license_set(f->st, &lic), WW_OK);
}

static void fx_license(struct fx *f, const char *status, const char *expires)
{
    fx_license_code(f, "AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345", status, expires);
}

static void fx_setup(struct fx *f, int sign)
{
    char err[WW_ERRLEN] = "", json[512];

    memset(f, 0, sizeof(*f));
    ck_assert_msg(srv.port > 0, "no fake server");
    f->port = srv.port;
    snprintf(f->base, sizeof(f->base), "%s", srv.base);
    snprintf(f->key, sizeof(f->key), "%s", srv.key);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ww-update-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->payloads, sizeof(f->payloads), "%s/payloads", f->dir);
    snprintf(f->updir, sizeof(f->updir), "%s/updates", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/state.db", f->dir);
    ck_assert_int_eq(mkdir(f->payloads, 0755), 0);
    fx_wait_state(f, 1); /* an earlier test may have taken it down for a while */
    snprintf(json, sizeof(json),
             "{\"mode\": \"normal\", \"absolute\": false, \"payloads\": \"%s\"}", f->payloads);
    fx_mode(f, json);
    fx_post(f, "/_reset", "{}");
    ck_assert_msg(ww_store_open(f->db, WW_STORE_MIGRATE, &f->st, err, sizeof(err)) == WW_OK,
                  "store: %s", err);
    fx_license(f, "active", "2099-12-31");
    f->conf = ww_conf_create_defaults();
    ck_assert_ptr_nonnull(f->conf);
    set_str(&f->conf->update.server, f->base);
    set_str(&f->conf->update.dir, f->updir);
    f->conf->update.timeout_s = 2;
    if (sign) {
        char pub[256];
        public_key_of(f->key, 0, pub, sizeof(pub));
        set_str(&f->conf->update.public_key, pub);
    }
}

static void fx_teardown(struct fx *f)
{
    char cmd[300];

    ww_store_close(f->st);
    ww_conf_free(f->conf);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (strncmp(f->dir, "/tmp/ww-update-", 15) == 0)
        run_cmd(cmd);
}

static void fx_post(struct fx *f, const char *path, const char *json)
{
    struct ww_http_opts o = {.timeout_ms = 5000, .tls_verify = 1};
    struct ww_http *h = ww_http_create(&o);
    struct ww_http_result res;
    char url[128];
    int rc;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    ck_assert_ptr_nonnull(h);
    rc = ww_http_post_json(h, url, json, strlen(json), &res);
    ck_assert_msg(rc == WW_OK && res.status == 200, "%s %s: %d %ld", path, json, rc, res.status);
    ww_http_free(h);
}

static void fx_mode(struct fx *f, const char *json)
{
    fx_post(f, "/_mode", json);
}

static void fx_set_mode(struct fx *f, const char *mode)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"mode\": \"%s\", \"ms\": 1500}", mode);
    fx_mode(f, json);
}

/* How many times the server was asked for a path under /files/. */
static long fx_file_requests(struct fx *f)
{
    struct ww_http_opts o = {.timeout_ms = 5000, .tls_verify = 1};
    struct ww_http *h = ww_http_create(&o);
    struct ww_http_result res;
    char url[128];
    long n = 0;
    const char *k;
    json_t *root = NULL, *v;

    snprintf(url, sizeof(url), "%s/_stats", f->base);
    if (ww_http_get(h, url, &res) == WW_OK && res.status == 200)
        root = json_loadb(res.body, res.body_len, 0, NULL);
    ck_assert_ptr_nonnull(root);
    json_object_foreach(json_object_get(root, "requests"), k, v)
    {
        if (strncmp(k, "/files/", 7) == 0)
            n += (long)json_integer_value(v);
    }
    json_decref(root);
    ww_http_free(h);
    return n;
}

/* Waits until the server accepts connections (<up>) or refuses them (after mode "down"). */
static void fx_wait_state(struct fx *f, int up)
{
    int64_t deadline = now_ms() + 10000;

    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)f->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok == up)
            return;
        ck_assert_msg(now_ms() < deadline, "fake server did not go %s", up ? "up" : "down");
        sleep_ms(50);
    }
}

struct tar_entry {
    const char *name;
    char type; /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link */
    const char *content;
};

static void make_tar(const char *path, int gz, const struct tar_entry *ents, size_t n)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae;

    ck_assert_ptr_nonnull(a);
    archive_write_set_format_pax_restricted(a);
    if (gz)
        archive_write_add_filter_gzip(a);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        size_t len = ents[i].content != NULL ? strlen(ents[i].content) : 0;
        ae = archive_entry_new();
        archive_entry_set_pathname(ae, ents[i].name);
        archive_entry_set_mtime(ae, 1700000000, 0);
        switch (ents[i].type) {
        case 'd':
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, 0755);
            break;
        case 'l':
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, ents[i].content);
            archive_entry_set_perm(ae, 0777);
            len = 0;
            break;
        case 'h':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, ents[i].content);
            archive_entry_set_perm(ae, 0644);
            len = 0;
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_size(ae, (la_int64_t)len);
        }
        ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
        if (len > 0)
            ck_assert_int_eq(archive_write_data(a, ents[i].content, len), (la_ssize_t)len);
        archive_entry_free(ae);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* The body that pattern <version> detects, and its .hsb line. */
static void sample_body(const char *version, char *body, size_t len)
{
    snprintf(body, len, "webwarden update test body for pattern %s\n", version);
}

static void hsb_line(const char *version, char *line, size_t len)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char body[128], hex[65];

    sample_body(version, body, sizeof(body));
    EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(line, len, "%s:%zu:Test.Update.V%s\n", hex, strlen(body), version);
}

/* Publishes a good pattern <version> (tar.gz with one .hsb file). */
static void fx_publish_pattern(struct fx *f, const char *version)
{
    char path[512], line[256];
    struct tar_entry e[] = {{"./", 'd', NULL}, {"./update.hsb", 'f', line}};

    hsb_line(version, line, sizeof(line));
    snprintf(path, sizeof(path), "%s/pattern-%s.tar.gz", f->payloads, version);
    make_tar(path, 1, e, 2);
}

static void fx_publish_tar(struct fx *f, const char *version, const struct tar_entry *e, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/pattern-%s.tar", f->payloads, version);
    make_tar(path, 0, e, n);
}

static void fx_publish_urldb(struct fx *f, const char *version, const char *extra)
{
    char path[512], text[1024];
    snprintf(path, sizeof(path), "%s/urldb-%s.urldb", f->payloads, version);
    snprintf(text, sizeof(text), "webwarden-urldb 1 %s\nexample.com 80 news\n%s", version,
             extra != NULL ? extra : "");
    write_file(path, text, strlen(text));
}

static void fx_current(struct fx *f, const char *name, char *out, size_t len)
{
    struct ww_component c;
    int rc = ww_store_component_get(f->st, name, &c);

    ck_assert_msg(rc == WW_OK || rc == WW_ENOTFOUND, "component_get %s: %d", name, rc);
    snprintf(out, len, "%s", rc == WW_OK ? c.version : "");
}

static void ck_current(struct fx *f, const char *name, const char *want)
{
    char got[64];
    fx_current(f, name, got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "current %s = \"%s\", want \"%s\"", name, got, want);
}

static void ck_kv(struct fx *f, const char *key, const char *want_sub)
{
    char got[1024] = "";
    ck_assert_int_eq(ww_store_kv_get(f->st, key, got, sizeof(got)), WW_OK);
    ck_assert_msg(strstr(got, want_sub) != NULL, "kv %s = \"%s\", want it to contain \"%s\"", key,
                  got, want_sub);
}

/* No temporary name left anywhere under update.dir. */
static void ck_no_temp(struct fx *f)
{
    const char *sub[] = {"", "/pattern", "/urldb"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        DIR *d;
        struct dirent *de;
        snprintf(path, sizeof(path), "%s%s", f->updir, sub[i]);
        d = opendir(path);
        if (d == NULL)
            continue;
        while ((de = readdir(d)) != NULL)
            ck_assert_msg(strncmp(de->d_name, ".tmp-", 5) != 0, "temporary %s/%s left", path,
                          de->d_name);
        closedir(d);
    }
}

static int run(struct fx *f, char *result, size_t len)
{
    int rc = ww_update_run_once(f->st, f->conf, NULL, result, len);
    ck_assert_msg(rc != WW_EBUSY, "busy: %s", result);
    return rc;
}

static void ck_run_ok(struct fx *f)
{
    char result[1024] = "";
    int rc = run(f, result, sizeof(result));
    ck_assert_msg(rc == WW_OK, "run: %d %s", rc, result);
}

/* 1 if the current pattern's engine finds the sample body of <version>. */
static int pattern_detects(struct fx *f, const char *version)
{
    struct ww_component c;
    struct ww_engine *e = NULL;
    struct ww_scan *s;
    char body[128], err[WW_ERRLEN] = "";
    int hit;

    ck_assert_int_eq(ww_store_component_get(f->st, "pattern", &c), WW_OK);
    ck_assert_msg(ww_engine_load_dir(c.path, &e, NULL, err, sizeof(err)) == WW_OK, "%s", err);
    sample_body(version, body, sizeof(body));
    s = ww_scan_create(e, (int64_t)strlen(body), 0);
    ww_scan_feed(s, body, strlen(body));
    hit = ww_scan_finish(s);
    ww_scan_free(s);
    ww_engine_unref(e);
    return hit;
}

/* ---- good updates ---- */

START_TEST(test_update_good_update_installs_and_records)
{
    struct fx f;
    char result[1024] = "";
    struct stat sb;
    long files;

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    fx_publish_urldb(&f, "2026.11.27.1", NULL);
    ck_run_ok(&f);
    ck_current(&f, "pattern", "1");
    ck_current(&f, "urldb", "2026.11.27.1");
    ck_current(&f, "engine", WW_ENGINE_VERSION);
    ck_kv(&f, "update.result", "ok");
    ck_kv(&f, "update.reason", "pattern 1");
    ck_assert_msg(pattern_detects(&f, "1"), "pattern 1 does not detect its sample");
    ck_assert_int_eq(stat(f.updir, &sb), 0);
    ck_no_temp(&f);

    /* Nothing newer: nothing downloaded, "not needed". */
    files = fx_file_requests(&f);
    ck_assert_int_eq(run(&f, result, sizeof(result)), WW_OK);
    ck_assert_msg(strncmp(result, "not needed", 10) == 0, "result \"%s\"", result);
    ck_kv(&f, "update.result", "not needed");
    ck_assert_int_eq(fx_file_requests(&f), files);

    /* A newer pattern replaces it; the urldb stays. */
    fx_publish_pattern(&f, "2");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "2");
    ck_current(&f, "urldb", "2026.11.27.1");
    ck_assert(pattern_detects(&f, "2"));
    ck_assert(!pattern_detects(&f, "1"));
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_absolute_payload_url_is_followed)
{
    struct fx f;

    fx_setup(&f, 0);
    fx_mode(&f, "{\"absolute\": true}");
    fx_publish_pattern(&f, "3.1");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "3.1");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_without_server_is_not_configured)
{
    struct fx f;
    char result[256];

    fx_setup(&f, 0);
    set_str(&f.conf->update.server, "");
    ck_assert_int_eq(run(&f, result, sizeof(result)), WW_OK);
    ck_assert_msg(strstr(result, "not configured") != NULL, "%s", result);
    fx_teardown(&f);
}
END_TEST

/* ---- each failure leaves the installed version current, says why, recovers ---- */

static const struct {
    const char *mode;
    const char *reason; /* in update.reason */
} fail_cases[] = {
    {"down", "unavailable"},
    {"hang", "timeout"},
    {"404", "404"},
    {"truncated", "truncated"},
    {"corrupt", "SHA-256 mismatch"},
    {"malformed", "not JSON"},
    {"bigger", "larger than"},
};

START_TEST(test_update_failure_keeps_installed_version)
{
    struct fx f;
    char result[1024] = "";
    int rc;

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    fx_publish_urldb(&f, "1", NULL);
    ck_run_ok(&f);
    fx_publish_pattern(&f, "2");
    fx_publish_urldb(&f, "2", NULL);
    fx_set_mode(&f, fail_cases[_i].mode);
    if (strcmp(fail_cases[_i].mode, "down") == 0)
        fx_wait_state(&f, 0);
    rc = run(&f, result, sizeof(result));
    ck_assert_msg(rc != WW_OK, "mode %s: run succeeded: %s", fail_cases[_i].mode, result);
    ck_current(&f, "pattern", "1");
    ck_current(&f, "urldb", "1");
    ck_assert(pattern_detects(&f, "1"));
    ck_kv(&f, "update.result", "failed");
    ck_kv(&f, "update.reason", fail_cases[_i].reason);
    ck_kv(&f, "update.last_attempt", "");
    ck_no_temp(&f);

    /* The next run after recovery fetches the newest; nothing else needed. */
    if (strcmp(fail_cases[_i].mode, "down") == 0)
        fx_wait_state(&f, 1);
    else
        fx_set_mode(&f, "normal");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "2");
    ck_current(&f, "urldb", "2");
    ck_kv(&f, "update.result", "ok");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_dead_server_fails_fast)
{
    struct fx f;
    char result[1024] = "", url[64];
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int64_t t0;

    /* A port that nobody listens on: bound, then closed. */
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    close(s);
    fx_setup(&f, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    set_str(&f.conf->update.server, url);
    t0 = now_ms();
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_assert_int_lt(now_ms() - t0, 2500);
    ck_kv(&f, "update.result", "failed");
    ck_kv(&f, "update.reason", "unavailable");
    ck_current(&f, "pattern", "");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_non_compiling_pattern_is_refused)
{
    struct fx f;
    char result[1024] = "";
    struct tar_entry bad[] = {{"broken.ndb", 'f', "this is not a signature line\n"}};
    struct tar_entry none[] = {{"README", 'f', "no signatures here\n"}};

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    fx_publish_tar(&f, "2", bad, 1);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_kv(&f, "update.reason", "does not compile");
    ck_no_temp(&f);
    fx_publish_tar(&f, "3", none, 1);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_kv(&f, "update.reason", "does not compile");
    ck_no_temp(&f);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_bad_urldb_is_refused)
{
    struct fx f;
    char result[1024] = "";

    fx_setup(&f, 0);
    fx_publish_urldb(&f, "1", NULL);
    ck_run_ok(&f);
    fx_publish_urldb(&f, "2", "bad line without score\n");
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "urldb", "1");
    ck_kv(&f, "update.reason", "urldb does not load");
    ck_no_temp(&f);
    fx_teardown(&f);
}
END_TEST

/* Disk full, as far as a test can make it: a file size limit makes writes fail (EFBIG). */
START_TEST(test_update_write_error_keeps_installed_version)
{
    struct fx f;
    char result[1024] = "", path[512];
    struct rlimit old, lim;
    FILE *fp;
    int rc;

    fx_setup(&f, 0);
    fx_publish_urldb(&f, "1", NULL);
    ck_run_ok(&f);
    snprintf(path, sizeof(path), "%s/urldb-2.urldb", f.payloads);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "webwarden-urldb 1 2\n");
    for (int i = 0; i < 200000; i++)
        fprintf(fp, "host%d.example.com 50 news\n", i);
    fclose(fp);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 3 << 20; /* the payload is ~5.5 MiB; the store stays far below */
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = run(&f, result, sizeof(result));
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_msg(rc != WW_OK, "run succeeded: %s", result);
    ck_current(&f, "urldb", "1");
    ck_kv(&f, "update.result", "failed");
    ck_kv(&f, "update.reason", "write");
    ck_no_temp(&f);
    ck_run_ok(&f);
    ck_current(&f, "urldb", "2");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_over_max_download_is_refused)
{
    struct fx f;
    char result[1024] = "";

    fx_setup(&f, 0);
    f.conf->update.max_download = 10;
    fx_publish_pattern(&f, "1");
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "");
    ck_kv(&f, "update.reason", "update.max_download");
    ck_assert_int_eq(fx_file_requests(&f), 0);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_busy_lock_is_reported)
{
    struct fx f;
    char result[256] = "", path[512];
    int fd;

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    ck_assert_int_eq(mkdir(f.updir, 0755), 0);
    snprintf(path, sizeof(path), "%s/.update.lock", f.updir);
    fd = open(path, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    ck_assert_int_eq(ww_update_run_once(f.st, f.conf, NULL, result, sizeof(result)), WW_EBUSY);
    close(fd);
    ck_current(&f, "pattern", "");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "1");
    fx_teardown(&f);
}
END_TEST

/* ---- signatures ---- */

START_TEST(test_update_signed_manifest_is_accepted)
{
    struct fx f;
    char pub[256];

    fx_setup(&f, 1);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "1");
    /* The raw 32-byte form of the key works too. */
    public_key_of(f.key, 1, pub, sizeof(pub));
    set_str(&f.conf->update.public_key, pub);
    fx_publish_pattern(&f, "2");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "2");
    fx_teardown(&f);
}
END_TEST

static const struct {
    const char *mode;
    const char *reason;
} sig_cases[] = {
    {"badsig", "does not match"},
    {"nosig", "signature missing"},
};

START_TEST(test_update_bad_or_missing_signature_fails)
{
    struct fx f;
    char result[1024] = "";

    fx_setup(&f, 1);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    fx_publish_pattern(&f, "2");
    fx_set_mode(&f, sig_cases[_i].mode);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_kv(&f, "update.result", "failed");
    ck_kv(&f, "update.reason", sig_cases[_i].reason);
    ck_assert_int_eq(fx_file_requests(&f), 1); /* only pattern 1, earlier */
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_other_key_fails)
{
    struct fx f;
    char result[1024] = "", other[512], pub[256];

    fx_setup(&f, 1);
    snprintf(other, sizeof(other), "%s/other.pem", f.dir);
    gen_key(other);
    public_key_of(other, 0, pub, sizeof(pub));
    set_str(&f.conf->update.public_key, pub);
    fx_publish_pattern(&f, "1");
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_kv(&f, "update.reason", "does not match");
    set_str(&f.conf->update.public_key, "not base64!");
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_kv(&f, "update.reason", "update.public_key");
    ck_current(&f, "pattern", "");
    ck_assert_int_eq(fx_file_requests(&f), 0);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_unsigned_server_with_key_fails)
{
    struct fx f;
    char result[1024] = "", pub[256], other[512];

    fx_setup(&f, 0); /* this server signs nothing */
    snprintf(other, sizeof(other), "%s/other.pem", f.dir);
    gen_key(other);
    public_key_of(other, 0, pub, sizeof(pub));
    set_str(&f.conf->update.public_key, pub);
    fx_publish_pattern(&f, "1");
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_kv(&f, "update.reason", "signature missing");
    ck_current(&f, "pattern", "");
    fx_teardown(&f);
}
END_TEST

/* ---- engine ---- */

START_TEST(test_update_pattern_needing_newer_engine_is_not_installed)
{
    struct fx f;
    char result[1024] = "", path[512], status[4096];

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    fx_publish_pattern(&f, "2");
    snprintf(path, sizeof(path), "%s/pattern-2.tar.gz.min_engine", f.payloads);
    write_file(path, "9.0\n", 4);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_kv(&f, "update.reason", "pattern 2 needs engine 9.0");
    ck_assert_int_eq(fx_file_requests(&f), 1);
    ck_assert_int_eq(ww_update_status_text(f.st, status, sizeof(status)), WW_OK);
    ck_assert_msg(strstr(status, "needs engine 9.0") != NULL, "status:\n%s", status);
    /* One our engine satisfies is installed. */
    write_file(path, WW_ENGINE_VERSION "\n", strlen(WW_ENGINE_VERSION) + 1);
    ck_run_ok(&f);
    ck_current(&f, "pattern", "2");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_engine_announcement_shows_in_status)
{
    struct fx f;
    char path[512], status[4096];

    fx_setup(&f, 0);
    snprintf(path, sizeof(path), "%s/engine-1.0.0", f.payloads);
    write_file(path, "", 0);
    ck_run_ok(&f);
    ck_assert_int_eq(ww_update_status_text(f.st, status, sizeof(status)), WW_OK);
    ck_assert_msg(strstr(status, "engine update available") == NULL, "status:\n%s", status);
    snprintf(path, sizeof(path), "%s/engine-1.2.0", f.payloads);
    write_file(path, "", 0);
    ck_run_ok(&f);
    ck_kv(&f, "update.engine_available", "1.2.0");
    ck_current(&f, "engine", WW_ENGINE_VERSION);
    ck_assert_int_eq(ww_update_status_text(f.st, status, sizeof(status)), WW_OK);
    ck_assert_msg(strstr(status, "engine update available: 1.2.0") != NULL, "status:\n%s", status);
    ck_assert_msg(strstr(status, "last attempt:") != NULL, "status:\n%s", status);
    fx_teardown(&f);
}
END_TEST

/* ---- license ---- */

static const struct {
    const char *code, *status, *expires; /* expires "old" = long past the grace period */
    const char *reason;
} lic_cases[] = {
    {"AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345", "invalid", "2099-12-31", "license invalid"},
    {"AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345", "expired", "2001-01-01", "updates stopped"},
};

START_TEST(test_update_without_license_in_force_fails_and_says_why)
{
    struct fx f;
    char result[1024] = "";

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    fx_license_code(&f, lic_cases[_i].code, lic_cases[_i].status, lic_cases[_i].expires);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "");
    ck_kv(&f, "update.result", "failed");
    ck_kv(&f, "update.reason", lic_cases[_i].reason);
    ck_assert_int_eq(fx_file_requests(&f), 0);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_without_any_license_updates)
{
    struct fx f;

    fx_setup(&f, 0);
    fx_license_code(&f, "", "", ""); /* never activated: open-source use */
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "1");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_in_grace_period_still_updates)
{
    struct fx f;
    char expires[16];
    time_t t = time(NULL) - 10 * 86400;
    struct tm tm;

    fx_setup(&f, 0);
    strftime(expires, sizeof(expires), "%Y-%m-%d", gmtime_r(&t, &tm));
    fx_license(&f, "expired", expires);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "1");
    fx_teardown(&f);
}
END_TEST

/* ---- rollback and pruning ---- */

START_TEST(test_update_rollback_returns_to_previous_version)
{
    struct fx f;
    char msg[1024] = "", result[1024] = "";

    fx_setup(&f, 0);
    ck_assert_int_eq(ww_update_rollback(f.st, f.conf, "pattern", msg, sizeof(msg)), WW_ENOTFOUND);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    ck_assert_int_eq(ww_update_rollback(f.st, f.conf, "pattern", msg, sizeof(msg)), WW_ENOTFOUND);
    fx_publish_pattern(&f, "2");
    ck_run_ok(&f);
    ck_assert(pattern_detects(&f, "2"));
    ck_assert_msg(ww_update_rollback(f.st, f.conf, "pattern", msg, sizeof(msg)) == WW_OK, "%s",
                  msg);
    ck_current(&f, "pattern", "1");
    ck_assert(pattern_detects(&f, "1"));
    ck_kv(&f, "update.pattern.rolled_back", "2");
    /* The rolled-back version is not reinstalled by the next run... */
    ck_assert_int_eq(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_assert_msg(strstr(result, "rolled back") != NULL, "result \"%s\"", result);
    /* ...a newer one is. */
    fx_publish_pattern(&f, "3");
    ck_run_ok(&f);
    ck_current(&f, "pattern", "3");
    ck_kv(&f, "update.pattern.rolled_back", "");
    ck_assert_int_eq(ww_update_rollback(f.st, f.conf, "engine", msg, sizeof(msg)), WW_EINVAL);
    ck_assert_int_eq(ww_update_rollback(f.st, f.conf, "nosuch", msg, sizeof(msg)), WW_EINVAL);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_rollback_refuses_missing_files)
{
    struct fx f;
    char msg[1024] = "", cmd[600];

    fx_setup(&f, 0);
    fx_publish_urldb(&f, "1", NULL);
    ck_run_ok(&f);
    fx_publish_urldb(&f, "2", NULL);
    ck_run_ok(&f);
    snprintf(cmd, sizeof(cmd), "rm -f %s/urldb/1.urldb", f.updir);
    run_cmd(cmd);
    ck_assert_int_eq(ww_update_rollback(f.st, f.conf, "urldb", msg, sizeof(msg)), WW_ENOTFOUND);
    ck_assert_msg(strstr(msg, "gone") != NULL, "msg \"%s\"", msg);
    ck_current(&f, "urldb", "2");
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_keeps_last_versions_on_disk)
{
    struct fx f;
    char path[512], v[8];
    struct stat sb;

    fx_setup(&f, 0);
    for (int i = 1; i <= 5; i++) {
        snprintf(v, sizeof(v), "%d", i);
        fx_publish_pattern(&f, v);
        ck_run_ok(&f);
        ck_current(&f, "pattern", v);
    }
    for (int i = 1; i <= 5; i++) {
        int want = i > 5 - WW_UPDATE_KEEP;
        snprintf(path, sizeof(path), "%s/pattern/%d", f.updir, i);
        ck_assert_msg((stat(path, &sb) == 0) == want, "%s: exists %d, want %d", path,
                      stat(path, &sb) == 0, want);
    }
    fx_teardown(&f);
}
END_TEST

/* ---- unsafe archives ---- */

static const struct {
    const char *what;
    struct tar_entry e[2];
    const char *reason;
} tar_cases[] = {
    {"dotdot", {{"../evil.hsb", 'f', "x"}, {NULL, 0, NULL}}, "unsafe path"},
    {"dotdot-inner", {{"a/../../evil.hsb", 'f', "x"}, {NULL, 0, NULL}}, "unsafe path"},
    {"absolute", {{"/tmp/ww-evil.hsb", 'f', "x"}, {NULL, 0, NULL}}, "unsafe path"},
    {"symlink", {{"link.hsb", 'l', "/etc/passwd"}, {NULL, 0, NULL}}, "not a plain file"},
    {"hardlink", {{"a.hsb", 'f', "x"}, {"b.hsb", 'h', "a.hsb"}}, "not a plain file"},
    {"nested", {{"sub/a.hsb", 'f', "x"}, {NULL, 0, NULL}}, "refused file name"},
    {"folder", {{"sub/", 'd', NULL}, {NULL, 0, NULL}}, "not a plain file"},
    {"dotfile", {{".hidden.hsb", 'f', "x"}, {NULL, 0, NULL}}, "refused file name"},
};

START_TEST(test_update_unsafe_archive_is_refused)
{
    struct fx f;
    char result[1024] = "", path[512];
    struct stat sb;
    size_t n = tar_cases[_i].e[1].name != NULL ? 2 : 1;

    fx_setup(&f, 0);
    fx_publish_pattern(&f, "1");
    ck_run_ok(&f);
    fx_publish_tar(&f, "2", tar_cases[_i].e, n);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_current(&f, "pattern", "1");
    ck_kv(&f, "update.reason", tar_cases[_i].reason);
    snprintf(path, sizeof(path), "%s/pattern/evil.hsb", f.updir);
    ck_assert_int_ne(stat(path, &sb), 0);
    ck_assert_int_ne(stat("/tmp/ww-evil.hsb", &sb), 0);
    ck_no_temp(&f);
    fx_teardown(&f);
}
END_TEST

START_TEST(test_update_too_many_files_is_refused)
{
    struct fx f;
    char result[1024] = "", path[512], names[WW_UPDATE_MAX_FILES + 1][32];
    static struct tar_entry e[WW_UPDATE_MAX_FILES + 1];

    fx_setup(&f, 0);
    for (int i = 0; i <= WW_UPDATE_MAX_FILES; i++) {
        snprintf(names[i], sizeof(names[i]), "f%d.txt", i);
        e[i].name = names[i];
        e[i].type = 'f';
        e[i].content = "x\n";
    }
    snprintf(path, sizeof(path), "%s/pattern-1.tar", f.payloads);
    make_tar(path, 0, e, WW_UPDATE_MAX_FILES + 1);
    ck_assert_int_ne(run(&f, result, sizeof(result)), WW_OK);
    ck_kv(&f, "update.reason", "more than");
    ck_no_temp(&f);
    fx_teardown(&f);
}
END_TEST

static Suite *update_suite(void)
{
    Suite *s = suite_create("update");
    TCase *tc;

    tc = tcase_create("version");
    tcase_add_loop_test(tc, test_update_version_cmp_matches_table, 0,
                        (int)(sizeof(cmp_cases) / sizeof(cmp_cases[0])));
    tcase_add_loop_test(tc, test_update_version_valid_matches_table, 0,
                        (int)(sizeof(valid_cases) / sizeof(valid_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("install");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_plain, srv_stop);
    tcase_add_test(tc, test_update_good_update_installs_and_records);
    tcase_add_test(tc, test_update_absolute_payload_url_is_followed);
    tcase_add_test(tc, test_update_without_server_is_not_configured);
    tcase_add_test(tc, test_update_busy_lock_is_reported);
    suite_add_tcase(s, tc);

    tc = tcase_create("failure");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_plain, srv_stop);
    tcase_add_loop_test(tc, test_update_failure_keeps_installed_version, 0,
                        (int)(sizeof(fail_cases) / sizeof(fail_cases[0])));
    tcase_add_test(tc, test_update_dead_server_fails_fast);
    tcase_add_test(tc, test_update_non_compiling_pattern_is_refused);
    tcase_add_test(tc, test_update_bad_urldb_is_refused);
    tcase_add_test(tc, test_update_write_error_keeps_installed_version);
    tcase_add_test(tc, test_update_over_max_download_is_refused);
    tcase_add_test(tc, test_update_unsigned_server_with_key_fails);
    suite_add_tcase(s, tc);

    tc = tcase_create("signature");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_signing, srv_stop);
    tcase_add_test(tc, test_update_signed_manifest_is_accepted);
    tcase_add_loop_test(tc, test_update_bad_or_missing_signature_fails, 0,
                        (int)(sizeof(sig_cases) / sizeof(sig_cases[0])));
    tcase_add_test(tc, test_update_other_key_fails);
    suite_add_tcase(s, tc);

    tc = tcase_create("engine");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_plain, srv_stop);
    tcase_add_test(tc, test_update_pattern_needing_newer_engine_is_not_installed);
    tcase_add_test(tc, test_update_engine_announcement_shows_in_status);
    tcase_add_loop_test(tc, test_update_without_license_in_force_fails_and_says_why, 0,
                        (int)(sizeof(lic_cases) / sizeof(lic_cases[0])));
    tcase_add_test(tc, test_update_without_any_license_updates);
    tcase_add_test(tc, test_update_in_grace_period_still_updates);
    suite_add_tcase(s, tc);

    tc = tcase_create("rollback");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_plain, srv_stop);
    tcase_add_test(tc, test_update_rollback_returns_to_previous_version);
    tcase_add_test(tc, test_update_rollback_refuses_missing_files);
    tcase_add_test(tc, test_update_keeps_last_versions_on_disk);
    suite_add_tcase(s, tc);

    tc = tcase_create("archive");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, srv_start_plain, srv_stop);
    tcase_add_loop_test(tc, test_update_unsafe_archive_is_refused, 0,
                        (int)(sizeof(tar_cases) / sizeof(tar_cases[0])));
    tcase_add_test(tc, test_update_too_many_files_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(update_suite());
    int failed;

    ww_http_global_init();
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
