/*
 * replay.c -- run a fuzz target without libFuzzer: every file named on
 * the command line, or found (one level deep) in a directory named
 * there, is fed once to LLVMFuzzerTestOneInput.  `make check` runs it over
 * fuzz/corpus/<target> and fuzz/crashes/<target> in the normal and the
 * sanitizer builds.  Prints the count; a crash or sanitizer report fails.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz_util.h"

static long n_run;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (getenv("RDB_REPLAY_VERBOSE") != NULL)
		fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	n_run++;
	return 0;
}

static int run_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), i, bad = 0;
	char path[4096];
	struct stat sb;

	if (n < 0) {
		fprintf(stderr, "replay: cannot read folder '%s'\n", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && run_file(path) != 0)
			bad = 1;
		free(ents[i]);
	}
	free(ents);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct stat sb;
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) != 0)
			continue;     /* e.g. no crashes/<target> folder yet */
		if (S_ISDIR(sb.st_mode) ? run_dir(argv[i]) : run_file(argv[i]))
			bad = 1;
	}
	printf("replay %s: %ld inputs\n", argv[0], n_run);
	return bad;
}
