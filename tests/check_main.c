/*
 * check_main.c -- runs every Check suite of rdb in one SRunner.
 *
 * The suite list is not kept by hand: the Makefile generates suites.h from
 * the names of tests/check_<x>.c, declaring <x>_suite() and listing it in
 * RDB_SUITES(X).  Check itself honours CK_RUN_SUITE, CK_RUN_CASE, CK_FORK,
 * CK_VERBOSITY and CK_DEFAULT_TIMEOUT.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "suites.h"

/* Check reads an empty CK_RUN_SUITE as a suite named "" and then runs
 * nothing, which would look like success; treat empty as unset. */
static void unset_if_empty(const char *name)
{
	const char *v = getenv(name);

	if (v != NULL && v[0] == '\0')
		unsetenv(name);
}

int main(void)
{
	SRunner *sr = srunner_create(NULL);
	int n_run;
	int n_failed;

	unset_if_empty("CK_RUN_SUITE");
	unset_if_empty("CK_RUN_CASE");
#define ADD_SUITE(x) srunner_add_suite(sr, x##_suite());
	RDB_SUITES(ADD_SUITE)
#undef ADD_SUITE

	srunner_run_all(sr, CK_ENV);
	n_run = srunner_ntests_run(sr);
	n_failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	printf("%d passed, %d failed\n", n_run - n_failed, n_failed);
	if (n_run == 0 && (getenv("CK_RUN_SUITE") || getenv("CK_RUN_CASE"))) {
		/* A mistyped name must not pass silently. */
		printf("no test matched CK_RUN_SUITE=%s CK_RUN_CASE=%s\n",
		       getenv("CK_RUN_SUITE") ? getenv("CK_RUN_SUITE") : "",
		       getenv("CK_RUN_CASE") ? getenv("CK_RUN_CASE") : "");
		return EXIT_FAILURE;
	}
	return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
