/*
 * args.c -- the rdb shell's command line (options as sqlite3 spells
 * them, plus rdb's -pagesize, -cachesize and -sync), the splitting of
 * dot-command lines, and the table of dot-commands behind .help.
 */
#include "shell.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ====================================================================
 * Command line
 * ==================================================================== */

static const struct {
	const char *opt;         /* without dashes */
	const char *arg;         /* NULL: takes no argument */
	const char *help;
} options[] = {
	{"bail", NULL, "stop after hitting an error"},
	{"batch", NULL, "force batch I/O"},
	{"box", NULL, "set output mode to 'box'"},
	{"cachesize", "N", "buffer pool of N pages (default 2000)"},
	{"cmd", "COMMAND", "run \"COMMAND\" before reading stdin"},
	{"column", NULL, "set output mode to 'column'"},
	{"csv", NULL, "set output mode to 'csv'"},
	{"echo", NULL, "print inputs before execution"},
	{"header", NULL, "turn headers on"},
	{"help", NULL, "show this message"},
	{"html", NULL, "set output mode to HTML"},
	{"init", "FILENAME", "read/process named file"},
	{"interactive", NULL, "force interactive I/O"},
	{"json", NULL, "set output mode to 'json'"},
	{"line", NULL, "set output mode to 'line'"},
	{"list", NULL, "set output mode to 'list'"},
	{"markdown", NULL, "set output mode to 'markdown'"},
	{"newline", "SEP", "set output row separator. Default: '\\n'"},
	{"noheader", NULL, "turn headers off"},
	{"nullvalue", "TEXT", "set text string for NULL values. Default ''"},
	{"pagesize", "N", "page size of a new database file (512..65536)"},
	{"quote", NULL, "set output mode to 'quote'"},
	{"readonly", NULL, "open the database read-only"},
	{"separator", "SEP", "set output column separator. Default: '|'"},
	{"sync", "MODE", "durability: off, normal or full (default)"},
	{"table", NULL, "set output mode to 'table'"},
	{"tabs", NULL, "set output mode to 'tabs'"},
	{"version", NULL, "show rdb version"},
};
#define N_OPTIONS ((int)(sizeof(options) / sizeof(options[0])))

void sh_usage(FILE *out, const char *argv0)
{
	int i;

	fprintf(out, "Usage: %s [OPTIONS] [FILENAME [SQL...]]\n"
		"FILENAME is the name of an rdb database. A new database is "
		"created\nif the file does not previously exist; without "
		"FILENAME the database\nis a temporary one in memory.\n"
		"OPTIONS include:\n", argv0);
	for (i = 0; i < N_OPTIONS; i++) {
		char left[32];

		snprintf(left, sizeof(left), "-%s%s%s", options[i].opt,
			 options[i].arg ? " " : "",
			 options[i].arg ? options[i].arg : "");
		fprintf(out, "   %-20s %s\n", left, options[i].help);
	}
}

static int find_option(const char *word)
{
	int i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strcmp(word, options[i].opt) == 0)
			return i;
	return -1;
}

static int parse_long(const char *z, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*z))
		return -1;
	v = strtol(z, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* An option that takes a value. */
static int option_value(sh_args *a, const char *opt, const char *v,
			char *err, size_t errcap)
{
	long n;

	if (strcmp(opt, "separator") == 0) {
		snprintf(a->fmt.colsep, sizeof(a->fmt.colsep), "%s", v);
	} else if (strcmp(opt, "newline") == 0) {
		snprintf(a->fmt.rowsep, sizeof(a->fmt.rowsep), "%s", v);
	} else if (strcmp(opt, "nullvalue") == 0) {
		snprintf(a->fmt.nullvalue, sizeof(a->fmt.nullvalue), "%s", v);
	} else if (strcmp(opt, "cmd") == 0) {
		a->cmds = sh_realloc(a->cmds, (size_t)(a->n_cmds + 1) *
				     sizeof(*a->cmds));
		a->cmds[a->n_cmds++] = v;
	} else if (strcmp(opt, "init") == 0) {
		a->init = v;
	} else if (strcmp(opt, "pagesize") == 0) {
		if (parse_long(v, 512, 65536, &n) != 0 || (n & (n - 1)) != 0) {
			snprintf(err, errcap, "-pagesize: expected a power of "
				 "two from 512 to 65536, not '%s'", v);
			return -1;
		}
		a->page_size = (unsigned)n;
	} else if (strcmp(opt, "cachesize") == 0) {
		if (parse_long(v, 1, 1L << 30, &n) != 0) {
			snprintf(err, errcap, "-cachesize: expected a number "
				 "of pages from 1, not '%s'", v);
			return -1;
		}
		a->cache_pages = n;
	} else if (strcasecmp(v, "off") == 0) {
		a->sync = RDB_SYNC_OFF;
	} else if (strcasecmp(v, "normal") == 0) {
		a->sync = RDB_SYNC_NORMAL;
	} else if (strcasecmp(v, "full") == 0) {
		a->sync = RDB_SYNC_FULL;
	} else {
		snprintf(err, errcap, "-sync: expected off, normal or full, "
			 "not '%s'", v);
		return -1;
	}
	return 0;
}

/* An option without a value. */
static void option_flag(sh_args *a, const char *opt)
{
	int m = sh_mode_parse(opt);

	if (strcmp(opt, "header") == 0 || strcmp(opt, "noheader") == 0) {
		a->fmt.header = opt[0] == 'h';
		a->header_set = 1;
	} else if (strcmp(opt, "bail") == 0) {
		a->bail = 1;
	} else if (strcmp(opt, "batch") == 0) {
		a->batch = 1;
		a->interactive = 0;
	} else if (strcmp(opt, "interactive") == 0) {
		a->interactive = 1;
		a->batch = 0;
	} else if (strcmp(opt, "echo") == 0) {
		a->echo = 1;
	} else if (strcmp(opt, "readonly") == 0) {
		a->readonly = 1;
	} else if (strcmp(opt, "version") == 0) {
		a->version = 1;
	} else if (strcmp(opt, "help") == 0) {
		a->help = 1;
	} else if (m >= 0) {
		sh_format_flag_mode(&a->fmt, (sh_mode)m);
	}
}

int sh_args_parse(int argc, char **argv, sh_args *a, char *err,
		  size_t errcap)
{
	int i, k;

	memset(a, 0, sizeof(*a));
	sh_format_default(&a->fmt);
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (w[0] != '-' || w[1] == '\0') {
			if (a->file == NULL) {
				a->file = w;
				continue;
			}
			a->sql = sh_realloc(a->sql, (size_t)(a->n_sql + 1) *
					    sizeof(*a->sql));
			a->sql[a->n_sql++] = w;
			continue;
		}
		w += w[1] == '-' ? 2 : 1;
		if ((k = find_option(w)) < 0) {
			snprintf(err, errcap, "unknown option: %s", argv[i]);
			return -1;
		}
		if (options[k].arg == NULL) {
			option_flag(a, w);
			continue;
		}
		if (i + 1 >= argc) {
			snprintf(err, errcap, "missing argument to %s",
				 argv[i]);
			return -1;
		}
		if (option_value(a, w, argv[++i], err, errcap) != 0)
			return -1;
	}
	return 0;
}

void sh_args_free(sh_args *a)
{
	free(a->sql);
	free(a->cmds);
	a->sql = a->cmds = NULL;
}

/* ====================================================================
 * Dot-command lines
 * ==================================================================== */

void sh_unescape(char *z)
{
	size_t i, j;
	char c;

	for (i = j = 0; (c = z[i]) != '\0'; i++, j++) {
		if (c == '\\' && z[i + 1] != '\0') {
			static const char from[] = "abtnvfr\"'\\";
			static const char to[] = "\a\b\t\n\v\f\r\"'\\";
			const char *p;

			c = z[++i];
			if ((p = strchr(from, c)) != NULL) {
				c = to[p - from];
			} else if (c >= '0' && c <= '7') {
				int v = c - '0', d;

				for (d = 0; d < 2 && z[i + 1] >= '0' &&
				     z[i + 1] <= '7'; d++)
					v = v * 8 + (z[++i] - '0');
				c = (char)v;
			}
		}
		z[j] = c;
	}
	z[j] = '\0';
}

int sh_dot_split(const char *line, char ***argv)
{
	char **v = sh_malloc(2 * sizeof(*v));
	int n = 0, cap = 2;
	const char *p = line;

	if (*p == '.')
		p++;
	for (;;) {
		const char *start;
		char *w;
		char q = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '\'' || *p == '"')
			q = *p++;
		start = p;
		if (q) {
			while (*p && *p != q) {
				if (*p == '\\' && q == '"' && p[1])
					p++;
				p++;
			}
		} else {
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		w = sh_strndup(start, (size_t)(p - start));
		if (q && *p == q)
			p++;
		if (q != '\'')
			sh_unescape(w);
		if (n + 2 > cap) {
			cap *= 2;
			v = sh_realloc(v, (size_t)cap * sizeof(*v));
		}
		v[n++] = w;
	}
	v[n] = NULL;
	*argv = v;
	return n;
}

void sh_argv_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

int sh_bool(const char *z)
{
	static const char *const yes[] = {"on", "yes", "1", "true"};
	static const char *const no[] = {"off", "no", "0", "false"};
	const char *p = z + (*z == '-' || *z == '+');
	int i;

	if (isdigit((unsigned char)*p) && p[strspn(p, "0123456789")] == '\0')
		return strtol(z, NULL, 10) != 0;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(z, yes[i]) == 0)
			return 1;
		if (strcasecmp(z, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* ====================================================================
 * The dot-commands
 * ==================================================================== */

const sh_dot sh_dots[] = {
	{"bail", 1, ".bail on|off", "Stop after hitting an error.  "
	 "Default OFF"},
	{"changes", 2, ".changes on|off", "Show number of rows changed by "
	 "SQL"},
	{"check", 2, ".check", "Check the integrity of every table, index, "
	 "the KV store and the\n     free list; print \"ok\" or each "
	 "problem found"},
	{"dump", 1, ".dump ?TABLE?", "Render database content as SQL\n"
	 "     The output recreates the database when fed back to rdb; "
	 "with TABLE,\n     only the tables whose names match the LIKE "
	 "pattern TABLE"},
	{"echo", 1, ".echo on|off", "Turn command echo on or off"},
	{"exit", 1, ".exit ?CODE?", "Exit this program with return-code "
	 "CODE"},
	{"headers", 2, ".headers on|off", "Turn display of headers on or "
	 "off"},
	{"help", 1, ".help ?-all? ?PATTERN?", "Show help text for "
	 "PATTERN"},
	{"import", 2, ".import ?--csv? ?--skip N? FILE TABLE",
	 "Import data from FILE into TABLE\n"
	 "     FILE is RFC 4180 CSV.  A missing TABLE is created from the "
	 "header line;\n     otherwise the header line is data unless "
	 "--skip 1.  One transaction:\n     a malformed line is an error "
	 "naming the line, and nothing is imported.\n"
	 "       --csv      Use , and \\n as column and row separators\n"
	 "       --skip N   Skip the first N rows of input"},
	{"indexes", 3, ".indexes ?TABLE?", "Show names of indexes\n"
	 "     If TABLE is specified, only show indexes for tables "
	 "matching the\n     LIKE pattern TABLE."},
	{"indices", 3, ".indices ?TABLE?", "Same as .indexes"},
	{"kv", 2, ".kv get|put|del|list|compact ...",
	 "Use the key-value blob store\n"
	 "       .kv get KEY           print the value stored under KEY\n"
	 "       .kv put KEY VALUE     store VALUE (text) under KEY\n"
	 "       .kv put KEY @FILE     store the bytes of FILE under KEY\n"
	 "       .kv del KEY           delete KEY\n"
	 "       .kv list ?PREFIX?     list the keys (with PREFIX)\n"
	 "       .kv compact           reclaim the space of dead values"},
	{"mode", 1, ".mode MODE ?OPTIONS?", "Set output mode\n"
	 "   MODE is one of:\n"
	 "     box         Tables using unicode box-drawing characters\n"
	 "     csv         Comma-separated values\n"
	 "     column      Output in columns.  (See .width)\n"
	 "     html        HTML <table> code\n"
	 "     insert      SQL insert statements for TABLE\n"
	 "     json        Results in a JSON array\n"
	 "     line        One value per line\n"
	 "     list        Values delimited by \"|\"\n"
	 "     markdown    Markdown table format\n"
	 "     quote       Escape answers as for SQL\n"
	 "     table       ASCII-art table\n"
	 "     tabs        Tab-separated values\n"
	 "   OPTIONS: (for columnar modes: box, column, markdown, table)\n"
	 "     --wrap N       Wrap output lines to no longer than N "
	 "characters\n"
	 "     --wordwrap B   Wrap or not at word boundaries per B "
	 "(on/off)\n"
	 "     --ww           Shorthand for \"--wordwrap 1\"\n"
	 "     --quote        Quote output text as SQL literals\n"
	 "     --noquote      Do not quote output text"},
	{"nullvalue", 1, ".nullvalue STRING", "Use STRING in place of NULL "
	 "values"},
	{"once", 2, ".once FILE", "Output for the next SQL command only to "
	 "FILE"},
	{"open", 2, ".open ?OPTIONS? ?FILE?", "Close existing database and "
	 "reopen FILE\n"
	 "       --new        Initialize FILE to an empty database\n"
	 "       --readonly   Open FILE readonly"},
	{"output", 1, ".output ?FILE?", "Send output to FILE or stdout if "
	 "FILE is omitted"},
	{"print", 2, ".print STRING...", "Print literal STRING"},
	{"quit", 1, ".quit", "Exit this program"},
	{"read", 1, ".read FILE", "Read input from FILE"},
	{"schema", 2, ".schema ?PATTERN?", "Show the CREATE statements "
	 "matching PATTERN"},
	{"separator", 2, ".separator COL ?ROW?", "Change the column and "
	 "row separators"},
	{"show", 2, ".show", "Show the current values for various "
	 "settings"},
	{"stats", 2, ".stats", "Show page size, page count, free pages, "
	 "buffer-pool and WAL\n     figures and the KV store's live and "
	 "dead bytes"},
	{"tables", 2, ".tables ?TABLE?", "List names of tables matching "
	 "LIKE pattern TABLE"},
	{"timer", 2, ".timer on|off", "Turn SQL timer on or off"},
	{"width", 1, ".width NUM1 NUM2 ...", "Set minimum column widths "
	 "for columnar output\n     Negative values right-justify"},
	{NULL, 0, NULL, NULL},
};

const sh_dot *sh_dot_find(const char *word)
{
	size_t n = strlen(word);
	const sh_dot *d;

	for (d = sh_dots; d->name; d++)
		if (strcmp(word, d->name) == 0)
			return d;
	for (d = sh_dots; d->name; d++)
		if (n >= (size_t)d->min && strncmp(word, d->name, n) == 0)
			return d;
	return NULL;
}

static void help_line(FILE *out, const sh_dot *d, int details)
{
	const char *nl = strchr(d->help, '\n');
	int len = nl ? (int)(nl - d->help) : (int)strlen(d->help);

	fprintf(out, "%-24s %.*s\n", d->usage, len, d->help);
	if (details && nl)
		fprintf(out, "%s\n", nl + 1);
}

int sh_dot_help(FILE *out, const char *topic)
{
	const sh_dot *d;
	int n = 0, all = topic && strcmp(topic, "-all") == 0;

	for (d = sh_dots; d->name; d++) {
		const char *t = topic && topic[0] == '.' ? topic + 1 : topic;

		if (t == NULL || all || strncmp(d->name, t, strlen(t)) == 0) {
			help_line(out, d, t != NULL);
			n++;
		}
	}
	return n;
}
