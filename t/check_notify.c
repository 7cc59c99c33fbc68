/* t/check_notify.c - unit tests of lib/ww_notify.c: the sd_notify datagram, as systemd's
 * Type=notify receives it (a path socket and an abstract one), and its absence. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_notify.h"

static char tmp_dir[256];

static void notify_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_notify.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void notify_teardown(void)
{
    char cmd[PATH_MAX + 16];

    unsetenv("NOTIFY_SOCKET");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A datagram socket bound to <name> ("/path" or "@abstract"), as systemd's manager listens. */
static int listen_on(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    ck_assert_msg(bind(fd, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0,
                  "bind %s: %s", name, strerror(errno));
    return fd;
}

/* The next datagram on <fd> within 2 s, NUL-terminated in <buf>. */
static void receive(int fd, char *buf, size_t len)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n;

    ck_assert_msg(poll(&p, 1, 2000) == 1, "no datagram within 2 s");
    n = recv(fd, buf, len - 1, 0);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
}

START_TEST(test_notify_sends_ready_to_a_path_socket)
{
    char name[PATH_MAX], got[256];
    int fd, rc;

    snprintf(name, sizeof(name), "%s/notify", tmp_dir);
    fd = listen_on(name);
    setenv("NOTIFY_SOCKET", name, 1);
    rc = ww_notify("READY=1\nSTATUS=started");
    ck_assert_msg(rc == 1, "ww_notify to %s: %d, want 1 (sent)", name, rc);
    receive(fd, got, sizeof(got));
    ck_assert_str_eq(got, "READY=1\nSTATUS=started");
    close(fd);
}
END_TEST

START_TEST(test_notify_sends_to_an_abstract_socket)
{
    char name[108], got[256];
    int fd, rc;

    snprintf(name, sizeof(name), "@ww-check-notify-%ld", (long)getpid());
    fd = listen_on(name);
    setenv("NOTIFY_SOCKET", name, 1);
    rc = ww_notify("STOPPING=1");
    ck_assert_msg(rc == 1, "ww_notify to %s: %d, want 1 (sent)", name, rc);
    receive(fd, got, sizeof(got));
    ck_assert_str_eq(got, "STOPPING=1");
    close(fd);
}
END_TEST

START_TEST(test_notify_without_systemd_is_a_no_op)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(ww_notify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    ck_assert_int_eq(ww_notify("READY=1"), 0);
}
END_TEST

START_TEST(test_notify_bad_or_dead_socket_is_an_error)
{
    char name[PATH_MAX];

    setenv("NOTIFY_SOCKET", "relative/name", 1);
    ck_assert_int_eq(ww_notify("READY=1"), WW_EINVAL);
    snprintf(name, sizeof(name), "%s/nobody-listens", tmp_dir);
    setenv("NOTIFY_SOCKET", name, 1);
    ck_assert_int_eq(ww_notify("READY=1"), WW_EIO);
}
END_TEST

static Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");

    tcase_add_checked_fixture(tc, notify_setup, notify_teardown);
    tcase_add_test(tc, test_notify_sends_ready_to_a_path_socket);
    tcase_add_test(tc, test_notify_sends_to_an_abstract_socket);
    tcase_add_test(tc, test_notify_without_systemd_is_a_no_op);
    tcase_add_test(tc, test_notify_bad_or_dead_socket_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(notify_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
