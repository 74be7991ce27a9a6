/*
 * A minimal unit-test harness. Each TEST registers itself at load time; the
 * runner (test_main.c) runs them all, or those whose name contains argv[1],
 * and ends with the line "unit: N passed, N failed" that CI reads.
 *
 * CHECK records a failure and continues; REQUIRE also returns from the test.
 */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include "base/common.h"

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                                 \
	static void test_fn_##name(void);                                                          \
	static struct test_case test_case_##name = {#name, test_fn_##name, NULL};                  \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(&test_case_##name);                                                  \
	}                                                                                          \
	static void test_fn_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                       \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_,   \
			          #b, b_);                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_))                                                  \
			test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,         \
			          a_ ? a_ : "(null)", b_ ? b_ : "(null)");                         \
	} while (0)

#endif
