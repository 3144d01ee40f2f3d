/*
 * fz_args.c -- fuzz target: the shell's command-line parser and its
 * dot-command splitter (src/shell/args.c).  The input's lines are the
 * argument vector (after "rdb"); the same lines are also split as
 * dot-command lines and their words looked up and unescaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "shell/shell.h"

#define MAX_ARGS 64

static void dot_line(const char *line)
{
	char **argv = NULL;
	int n = sh_dot_split(line, &argv), i;

	for (i = 0; i < n; i++) {
		(void)sh_dot_find(argv[i]);
		(void)sh_bool(argv[i]);
		(void)sh_mode_parse(argv[i]);
		sh_unescape(argv[i]);
	}
	sh_argv_free(argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *p, *argv[MAX_ARGS + 1];
	int argc = 1;
	sh_args a;
	char err[256];

	if (size > 8192 || (text = fz_strndup(data, size)) == NULL)
		return 0;
	argv[0] = "rdb";
	for (p = text; argc < MAX_ARGS && p != NULL; argc++) {
		argv[argc] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	argv[argc] = NULL;
	for (int i = 1; i < argc; i++)
		dot_line(argv[i]);
	(void)sh_args_parse(argc, argv, &a, err, sizeof(err));
	sh_args_free(&a);    /* also after a failure, as main.c does */
	free(text);
	return 0;
}
