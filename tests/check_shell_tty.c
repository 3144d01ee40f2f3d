/*
 * check_shell_tty.c -- the rdb shell used interactively, through a
 * pseudo-terminal: prompts, multi-line statements kept whole in the
 * history, recalling history, tab completion, Ctrl-C during a long query.
 * The program is $RDB_SHELL_BIN (make check sets it to build/bin/rdb).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test_util.h"

typedef struct tty {
	pid_t pid;
	int fd;                  /* the terminal's master side */
	char buf[1 << 16];       /* everything read since the last expect */
	size_t len;
} tty;

static char home[300];

static const char *shell_bin(void)
{
	const char *b = getenv("RDB_SHELL_BIN");

	ck_assert_msg(b != NULL && access(b, X_OK) == 0,
		      "RDB_SHELL_BIN must name the built rdb program "
		      "(make check sets it)");
	return b;
}

static void setup(void)
{
	char path[256];

	tu_tmp_path(path, sizeof(path));
	snprintf(home, sizeof(home), "%s.home", path);
	ck_assert_int_eq(mkdir(home, 0700), 0);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	ck_assert_int_eq(system(cmd), 0);
}

static void start(tty *t, const char *db)
{
	const char *bin = shell_bin();

	memset(t, 0, sizeof(*t));
	t->pid = forkpty(&t->fd, NULL, NULL, NULL);
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0) {
		if (chdir(home) != 0)
			_exit(127);
		setenv("HOME", home, 1);
		setenv("TERM", "vt100", 1);
		execl(bin, "rdb", db, (char *)NULL);
		_exit(127);
	}
}

/* Read until want appears in the output (then forget the output up to
 * it); fail after 10 seconds. */
static void expect(tty *t, const char *want)
{
	time_t end = time(NULL) + 10;
	char *hit;

	for (;;) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		ssize_t n;

		t->buf[t->len] = '\0';
		if ((hit = strstr(t->buf, want)) != NULL) {
			size_t off = (size_t)(hit - t->buf) + strlen(want);

			memmove(t->buf, t->buf + off, t->len - off);
			t->len -= off;
			return;
		}
		ck_assert_msg(time(NULL) < end, "waited for '%s'; the "
			      "terminal showed: '%s'", want, t->buf);
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(t->fd, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
		ck_assert_msg(n > 0, "the shell ended while waiting for '%s' "
			      "(shown: '%s')", want, t->buf);
		t->len += (size_t)n;
		if (t->len == sizeof(t->buf) - 1) {
			memmove(t->buf, t->buf + t->len / 2, t->len / 2);
			t->len -= t->len / 2;
		}
	}
}

static void send(tty *t, const char *keys)
{
	size_t n = strlen(keys);

	ck_assert_int_eq(write(t->fd, keys, n), (ssize_t)n);
}

/* .quit, then the exit status must be 0. */
static void finish(tty *t)
{
	int status;

	send(t, ".quit\r");
	while (waitpid(t->pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	close(t->fd);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

static char *read_history_file(void)
{
	char path[512];
	FILE *f;
	static char text[8192];
	size_t n;

	snprintf(path, sizeof(path), "%s/.rdb_history", home);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "no %s", path);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

START_TEST(test_shell_tty_multiline_statement_is_one_history_entry)
{
	tty t;
	char *h, *line;

	start(&t, ":memory:");
	expect(&t, "in-memory database");
	expect(&t, "rdb> ");
	send(&t, "SELECT\r");
	expect(&t, "...> ");
	send(&t, "  6 * 7 AS answer;\r");
	expect(&t, "42");
	expect(&t, "rdb> ");
	finish(&t);
	h = read_history_file();
	/* one line of the file holds both lines of the statement (libedit
	 * writes the newline as \012) */
	ck_assert_msg(strstr(h, "SELECT\\012") != NULL, "history: '%s'", h);
	for (line = strtok(h, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "SELECT") && strstr(line, "answer;"))
			break;
	ck_assert_msg(line != NULL, "history lines split the statement");

	start(&t, ":memory:");
	expect(&t, "rdb> ");
	send(&t, "\033[A\033[A");    /* up past .quit: the statement, whole */
	expect(&t, "AS answer;");
	send(&t, "\r");
	expect(&t, "42");
	expect(&t, "rdb> ");
	finish(&t);
}
END_TEST

START_TEST(test_shell_tty_tab_completes_commands_tables_columns)
{
	tty t;

	start(&t, "tab.rdb");
	expect(&t, "rdb> ");
	send(&t, "CREATE TABLE zebra_stripes(stripe_count INTEGER);\r");
	expect(&t, "rdb> ");
	send(&t, "INSERT INTO zebra_stripes VALUES(31);\r");
	expect(&t, "rdb> ");
	send(&t, ".tabl\t\r");       /* .tables */
	expect(&t, "zebra_stripes");
	expect(&t, "rdb> ");
	send(&t, "sel\t stripe_c\t + 1 fr\t zebra_s\t;\r");
	expect(&t, "32");
	expect(&t, "rdb> ");
	finish(&t);
}
END_TEST

START_TEST(test_shell_tty_ctrl_c_cancels_query_and_shell_stays)
{
	tty t;
	int i;

	start(&t, "big.rdb");
	expect(&t, "rdb> ");
	send(&t, "CREATE TABLE n(x INTEGER);\r");
	expect(&t, "rdb> ");
	send(&t, "INSERT INTO n VALUES(1),(2),(3),(4),(5),(6),(7),(8);\r");
	expect(&t, "rdb> ");
	for (i = 0; i < 7; i++) {    /* 1024 rows */
		send(&t, "INSERT INTO n SELECT x + 8 FROM n;\r");
		expect(&t, "rdb> ");
	}
	send(&t, "SELECT count(*) FROM n a, n b, n c, n d;\r");
	usleep(500 * 1000);
	send(&t, "\003");
	expect(&t, "nterrupt");
	expect(&t, "rdb> ");
	send(&t, "SELECT count(*) FROM n;\r");
	expect(&t, "1024");
	expect(&t, "rdb> ");
	finish(&t);
}
END_TEST

Suite *shell_tty_suite(void)
{
	Suite *s = suite_create("shell_tty");
	TCase *tc = tcase_create("interactive");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shell_tty_multiline_statement_is_one_history_entry);
	tcase_add_test(tc, test_shell_tty_tab_completes_commands_tables_columns);
	tcase_add_test(tc, test_shell_tty_ctrl_c_cancels_query_and_shell_stays);
	suite_add_tcase(s, tc);
	return s;
}
