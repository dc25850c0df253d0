/* check_main.h - the main() every Check suite shares. */
#ifndef HR_TEST_CHECK_MAIN_H
#define HR_TEST_CHECK_MAIN_H

#include <check.h>

/* Run `suite` (taking ownership), return the process exit status. */
int run_suite(Suite *suite);

#endif
