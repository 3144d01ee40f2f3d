/*
 * fz_csv.c -- fuzz target: the CSV reader behind the shell's .import
 * (src/shell/csv.c).  The first byte picks the separator; the rest is
 * read record by record through a memory stream.  Every field must lie
 * inside its record (checked), and the reader must stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "shell/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = {',', '\t', '|', ';'};
	sh_csv *c;
	FILE *in;
	char **fields;
	size_t *lens;
	int n, rc, k = 0, i;

	if (size < 1 || size > 65536)
		return 0;
	if ((in = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	c = sh_csv_open(in, seps[data[0] & 3]);
	while (k++ < 100000 &&
	       (rc = sh_csv_next(c, &fields, &lens, &n)) == RDB_ROW) {
		for (i = 0; i < n; i++)
			if (strlen(fields[i]) > lens[i] || lens[i] > size)
				abort();
	}
	(void)sh_csv_line(c);
	(void)sh_csv_errmsg(c);
	sh_csv_close(c);
	fclose(in);
	return 0;
}
