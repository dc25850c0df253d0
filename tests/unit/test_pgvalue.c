/*
 * test_pgvalue.c - pgoutput wire values into typed batch cells
 * (lib/pgoutput/pgvalue.c) and hr_pgtxn_to_batch.
 *
 * The numeric and float vectors were printed by PostgreSQL 15 itself
 * (numeric_send / float8send next to ::text), so these tests hold the
 * conversions to the server's own output.
 */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/pgoutput.h>

#include "check_main.h"
#include "failing_allocator.h"
#include "pgoutput/pgvalue.h"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

/* A batch with one nullable column "v" of type `oid`. */
static hr_batch *batch_of(uint32_t oid)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "v", oid, 1), 0);
    return b;
}

static int put_t(hr_batch *b, const char *s)
{
    return hr__pgvalue_append(b, 0, 't', (const uint8_t *)s, strlen(s));
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static int put_b(hr_batch *b, const char *hex)
{
    uint8_t buf[4096];
    ck_assert_uint_lt(strlen(hex) / 2, sizeof buf);
    const size_t n = unhex(hex, buf);
    return hr__pgvalue_append(b, 0, 'b', n ? buf : NULL, n);
}

static int64_t last_int(const hr_batch *b)
{
    int64_t v;
    ck_assert_uint_gt(hr_batch_rows(b), 0);
    ck_assert_int_eq(hr_batch_get_int64(b, 0, hr_batch_rows(b) - 1, &v), HR_OK);
    return v;
}

static uint64_t last_f8_bits(const hr_batch *b)
{
    double v;
    uint64_t bits;
    ck_assert_int_eq(hr_batch_get_float8(b, 0, hr_batch_rows(b) - 1, &v),
                     HR_OK);
    memcpy(&bits, &v, 8);
    return bits;
}

static uint32_t last_f4_bits(const hr_batch *b)
{
    float v;
    uint32_t bits;
    ck_assert_int_eq(hr_batch_get_float4(b, 0, hr_batch_rows(b) - 1, &v),
                     HR_OK);
    memcpy(&bits, &v, 4);
    return bits;
}

/* The last cell's bytes as a NUL-terminated string (static buffer). */
static const char *last_bytes(const hr_batch *b, size_t *len_out)
{
    static char buf[65536];
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, 0, hr_batch_rows(b) - 1, &p, &len),
                     HR_OK);
    ck_assert_uint_lt(len, sizeof buf);
    if (len)
        memcpy(buf, p, len);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* ---- bool -------------------------------------------------------------- */

START_TEST(bool_text_and_binary)
{
    hr_batch *b = batch_of(HR_OID_BOOL);
    static const struct {
        const char *text;
        int value;
    } ok[] = {{"t", 1},   {"f", 0},  {"true", 1}, {"FALSE", 0},
              {"yes", 1}, {"no", 0}, {"on", 1},   {"off", 0},
              {"1", 1},   {"0", 0},  {"T", 1},    {"n", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(put_t(b, ok[i].text) == HR_OK, "%s", ok[i].text);
        int v;
        ck_assert_int_eq(hr_batch_get_bool(b, 0, i, &v), HR_OK);
        ck_assert_int_eq(v, ok[i].value);
    }
    const char *bad[] = {"", "x", "tru", "2", "t ", "maybe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(put_t(b, bad[i]) == HR_EPROTO, "'%s'", bad[i]);
    ck_assert_int_eq(put_b(b, "00"), HR_OK);
    ck_assert_int_eq(put_b(b, "01"), HR_OK);
    ck_assert_int_eq(put_b(b, "02"), HR_OK); /* boolrecv: non-zero is true */
    ck_assert_int_eq(put_b(b, ""), HR_EPROTO);
    ck_assert_int_eq(put_b(b, "0101"), HR_EPROTO);
    int v;
    size_t n = hr_batch_rows(b);
    ck_assert_int_eq(hr_batch_get_bool(b, 0, n - 3, &v), HR_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(hr_batch_get_bool(b, 0, n - 1, &v), HR_OK);
    ck_assert_int_eq(v, 1);
    hr_batch_free(b);
}
END_TEST

/* ---- integers ---------------------------------------------------------- */

START_TEST(int_text_ranges)
{
    static const struct {
        uint32_t oid;
        const char *text;
        int64_t value; /* when ok */
        int ok;
    } cases[] = {
        {HR_OID_INT2, "0", 0, 1},
        {HR_OID_INT2, "-0", 0, 1},
        {HR_OID_INT2, "+7", 7, 1},
        {HR_OID_INT2, "32767", 32767, 1},
        {HR_OID_INT2, "-32768", -32768, 1},
        {HR_OID_INT2, "32768", 0, 0},
        {HR_OID_INT2, "-32769", 0, 0},
        {HR_OID_INT2, "000000000000000000000000012", 12, 1},
        {HR_OID_INT4, "2147483647", 2147483647, 1},
        {HR_OID_INT4, "-2147483648", INT32_MIN, 1},
        {HR_OID_INT4, "2147483648", 0, 0},
        {HR_OID_INT4, "-2147483649", 0, 0},
        {HR_OID_INT8, "9223372036854775807", INT64_MAX, 1},
        {HR_OID_INT8, "-9223372036854775808", INT64_MIN, 1},
        {HR_OID_INT8, "9223372036854775808", 0, 0},
        {HR_OID_INT8, "-9223372036854775809", 0, 0},
        {HR_OID_INT8, "18446744073709551616", 0, 0},
        {HR_OID_INT8, "99999999999999999999999", 0, 0},
        {HR_OID_INT8, "", 0, 0},
        {HR_OID_INT8, "-", 0, 0},
        {HR_OID_INT8, "+", 0, 0},
        {HR_OID_INT8, "1a", 0, 0},
        {HR_OID_INT8, " 1", 0, 0},
        {HR_OID_INT8, "1.0", 0, 0},
        {HR_OID_INT8, "0x10", 0, 0},
        {HR_OID_INT4, "--1", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_batch *b = batch_of(cases[i].oid);
        const int rc = put_t(b, cases[i].text);
        ck_assert_msg(rc == (cases[i].ok ? HR_OK : HR_EPROTO),
                      "'%s' (oid %u): %d %s", cases[i].text, cases[i].oid, rc,
                      hr_batch_errmsg(b));
        if (cases[i].ok)
            ck_assert_int_eq(last_int(b), cases[i].value);
        else
            ck_assert_uint_eq(hr_batch_rows(b), 0);
        hr_batch_free(b);
    }
}
END_TEST

START_TEST(int_binary)
{
    hr_batch *b2 = batch_of(HR_OID_INT2), *b4 = batch_of(HR_OID_INT4),
             *b8 = batch_of(HR_OID_INT8);
    ck_assert_int_eq(put_b(b2, "8000"), HR_OK);
    ck_assert_int_eq(last_int(b2), -32768);
    ck_assert_int_eq(put_b(b2, "7fff"), HR_OK);
    ck_assert_int_eq(last_int(b2), 32767);
    ck_assert_int_eq(put_b(b2, "000001"), HR_EPROTO);
    ck_assert_int_eq(put_b(b4, "ffffffff"), HR_OK);
    ck_assert_int_eq(last_int(b4), -1);
    ck_assert_int_eq(put_b(b4, "80000000"), HR_OK);
    ck_assert_int_eq(last_int(b4), INT32_MIN);
    ck_assert_int_eq(put_b(b4, "0001"), HR_EPROTO);
    ck_assert_int_eq(put_b(b8, "8000000000000000"), HR_OK);
    ck_assert_int_eq(last_int(b8), INT64_MIN);
    ck_assert_int_eq(put_b(b8, "0102030405060708"), HR_OK);
    ck_assert_int_eq(last_int(b8), 0x0102030405060708LL);
    ck_assert_int_eq(put_b(b8, "01020304"), HR_EPROTO);
    ck_assert_uint_eq(hr_batch_rows(b8), 2);
    hr_batch_free(b2);
    hr_batch_free(b4);
    hr_batch_free(b8);
}
END_TEST

/* ---- floats ------------------------------------------------------------ */

/* float8out / float4out (extra_float_digits = 3, PostgreSQL 15) next to
 * float8send / float4send. */
static const struct {
    const char *text, *hex;
} float8_golden[] = {
    {"0", "0000000000000000"},
    {"-0", "8000000000000000"},
    {"1.5", "3ff8000000000000"},
    {"0.1", "3fb999999999999a"},
    {"1e+300", "7e37e43c8800759c"},
    {"5e-324", "0000000000000001"},
    {"2.2250738585072014e-308", "0010000000000000"},
    {"1.7976931348623157e+308", "7fefffffffffffff"},
    {"NaN", "7ff8000000000000"},
    {"Infinity", "7ff0000000000000"},
    {"-Infinity", "fff0000000000000"},
    {"123456789.12345679", "419d6f34547e6b75"},
    {"1e+22", "4480f0cf064dd592"},
    {"9.999999999999999e+22", "44b52d02c7e14af6"},
    {"9.007199254740992e+15", "4340000000000000"},
    {"0.3", "3fd3333333333333"},
    {"2.5e-07", "3e90c6f7a0b5ed8d"},
    {"1e+15", "430c6bf526340000"},
    {"1e+16", "4341c37937e08000"},
    {"1e-05", "3ee4f8b588e368f1"},
    {"1e-07", "3e7ad7f29abcaf48"},
    {"1.23e-18", "3c36b082c2148b8e"},
    {"4.35", "4011666666666666"},
    {"1e+21", "444b1ae4d6e2ef50"},
};

static const struct {
    const char *text, *hex;
} float4_golden[] = {
    {"0", "00000000"},
    {"-0", "80000000"},
    {"1.5", "3fc00000"},
    {"0.1", "3dcccccd"},
    {"3.4028235e+38", "7f7fffff"},
    {"1e-45", "00000001"},
    {"1.1754944e-38", "00800000"},
    {"NaN", "7fc00000"},
    {"Infinity", "7f800000"},
    {"1.6777216e+07", "4b800000"},
    {"0.3", "3e99999a"},
    {"1e+10", "501502f9"},
    {"1e+11", "51ba43b7"},
    {"7.038531e-26", "15ae43fd"},
    {"3.1415927", "40490fdb"},
};

START_TEST(float_golden)
{
    hr_batch *b8 = batch_of(HR_OID_FLOAT8), *b4 = batch_of(HR_OID_FLOAT4);
    for (size_t i = 0; i < sizeof float8_golden / sizeof float8_golden[0];
         i++) {
        uint8_t raw[8];
        unhex(float8_golden[i].hex, raw);
        uint64_t want = 0;
        for (int k = 0; k < 8; k++)
            want = want << 8 | raw[k];
        ck_assert_int_eq(put_t(b8, float8_golden[i].text), HR_OK);
        ck_assert_msg(last_f8_bits(b8) == want, "text %s",
                      float8_golden[i].text);
        ck_assert_int_eq(put_b(b8, float8_golden[i].hex), HR_OK);
        ck_assert_msg(last_f8_bits(b8) == want, "binary %s",
                      float8_golden[i].hex);
    }
    for (size_t i = 0; i < sizeof float4_golden / sizeof float4_golden[0];
         i++) {
        uint8_t raw[4];
        unhex(float4_golden[i].hex, raw);
        const uint32_t want = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                              (uint32_t)raw[2] << 8 | raw[3];
        ck_assert_int_eq(put_t(b4, float4_golden[i].text), HR_OK);
        ck_assert_msg(last_f4_bits(b4) == want, "text %s: %08x",
                      float4_golden[i].text, last_f4_bits(b4));
        ck_assert_int_eq(put_b(b4, float4_golden[i].hex), HR_OK);
        ck_assert_msg(last_f4_bits(b4) == want, "binary %s",
                      float4_golden[i].hex);
    }
    /* Binary NaN payloads and signs survive bit for bit. */
    ck_assert_int_eq(put_b(b8, "fff8000000000123"), HR_OK);
    ck_assert(last_f8_bits(b8) == 0xfff8000000000123ULL);
    ck_assert_int_eq(put_b(b4, "ffc00001"), HR_OK);
    ck_assert_uint_eq(last_f4_bits(b4), 0xffc00001u);
    ck_assert_int_eq(put_b(b8, "3ff80000"), HR_EPROTO);
    ck_assert_int_eq(put_b(b4, "3ff8000000000000"), HR_EPROTO);
    hr_batch_free(b8);
    hr_batch_free(b4);
}
END_TEST

START_TEST(float_text_forms_and_errors)
{
    hr_batch *b8 = batch_of(HR_OID_FLOAT8), *b4 = batch_of(HR_OID_FLOAT4);
    static const char *ok[] = {"-Infinity", "infinity",
                               "inf",       "-inf",
                               "nan",       "1E5",
                               "+1.5",      ".5",
                               "5.",        "1e-5",
                               "0e999",     "-0.0",
                               "0x1p3",     "4.9406564584124654e-324"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(put_t(b8, ok[i]) == HR_OK, "float8 '%s': %s", ok[i],
                      hr_batch_errmsg(b8));
        double want = strtod(ok[i], NULL);
        uint64_t wbits;
        memcpy(&wbits, &want, 8);
        if (!isnan(want))
            ck_assert_msg(last_f8_bits(b8) == wbits, "float8 '%s'", ok[i]);
    }
    static const char *bad[] = {"",      "-",      ".",      "e5",   "1e",
                                "1e+",   "1.5x",   "--1",    "1 2",  "1,5",
                                "1e400", "-1e400", "1e-400", "NaNa", "\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(put_t(b8, bad[i]) == HR_EPROTO, "float8 '%s'", bad[i]);
        ck_assert_msg(put_t(b4, bad[i]) == HR_EPROTO, "float4 '%s'", bad[i]);
    }
    /* Out of float4's range but not float8's. */
    ck_assert_int_eq(put_t(b4, "1e39"), HR_EPROTO);
    ck_assert_int_eq(put_t(b4, "1e-46"), HR_EPROTO);
    ck_assert_int_eq(put_t(b8, "1e39"), HR_OK);
    /* NaN from text is PostgreSQL's NaN, whatever sign was written. */
    ck_assert_int_eq(put_t(b8, "-NaN"), HR_OK);
    ck_assert(last_f8_bits(b8) == 0x7ff8000000000000ULL);
    ck_assert_int_eq(put_t(b4, "-nan"), HR_OK);
    ck_assert_uint_eq(last_f4_bits(b4), 0x7fc00000u);
    /* A long text takes the slow path; a too long one is refused. */
    char lng[700];
    memset(lng, '0', sizeof lng);
    lng[0] = '1';
    lng[1] = '.';
    lng[300] = '\0';
    ck_assert_int_eq(put_t(b8, lng), HR_OK);
    ck_assert(last_f8_bits(b8) == 0x3ff0000000000000ULL);
    lng[300] = '0';
    lng[sizeof lng - 1] = '\0';
    ck_assert_int_eq(put_t(b8, lng), HR_EPROTO);
    hr_batch_free(b8);
    hr_batch_free(b4);
}
END_TEST

/* xorshift64*: reproducible random numbers. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* The shortest %.*g text that reads back as `v` (what float8out prints). */
static void shortest_double(double v, char *buf, size_t cap)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void shortest_float(float v, char *buf, size_t cap)
{
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, cap, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
}

START_TEST(float_random_round_trip)
{
    hr_batch *b8 = batch_of(HR_OID_FLOAT8), *b4 = batch_of(HR_OID_FLOAT4);
    char text[64];
    for (int i = 0; i < 40000; i++) {
        uint64_t bits = rnd();
        double v;
        if (i & 1) {
            /* Human-scale values: the fast path's ground. */
            v = (double)(int64_t)(rnd() % 2000000001) / 1000.0 *
                ((i & 2) ? 1 : -1);
            memcpy(&bits, &v, 8);
        }
        memcpy(&v, &bits, 8);
        if (isnan(v) || isinf(v))
            continue;
        if (i % 3 == 0)
            snprintf(text, sizeof text, "%.17g", v);
        else
            shortest_double(v, text, sizeof text);
        ck_assert_msg(put_t(b8, text) == HR_OK, "%s", text);
        ck_assert_msg(last_f8_bits(b8) == bits, "float8 %s", text);

        float f = (float)v;
        uint32_t fbits;
        if (i & 4) {
            fbits = (uint32_t)rnd();
            memcpy(&f, &fbits, 4);
        }
        if (isnan(f) || isinf(f))
            continue;
        memcpy(&fbits, &f, 4);
        if (i % 3 == 0)
            snprintf(text, sizeof text, "%.9g", (double)f);
        else
            shortest_float(f, text, sizeof text);
        ck_assert_msg(put_t(b4, text) == HR_OK, "%s", text);
        ck_assert_msg(last_f4_bits(b4) == fbits, "float4 %s: %08x vs %08x",
                      text, last_f4_bits(b4), fbits);
        if ((i & 1023) == 0) {
            hr_batch_clear_rows(b8);
            hr_batch_clear_rows(b4);
        }
    }
    hr_batch_free(b8);
    hr_batch_free(b4);
}
END_TEST

START_TEST(float_random_decimals)
{
    /* Random short decimals, where the exact fast path decides: every one
     * must equal strtod / strtof. */
    hr_batch *b8 = batch_of(HR_OID_FLOAT8), *b4 = batch_of(HR_OID_FLOAT4);
    char text[64];
    for (int i = 0; i < 200000; i++) {
        const int digits = 1 + (int)(rnd() % 17);
        int pos = 0;
        if (rnd() & 1)
            text[pos++] = '-';
        const int point = (int)(rnd() % (unsigned)(digits + 1));
        for (int d = 0; d < digits; d++) {
            if (d == point && d)
                text[pos++] = '.';
            text[pos++] = (char)('0' + rnd() % 10);
        }
        if (rnd() & 1)
            pos += snprintf(text + pos, sizeof text - (size_t)pos, "e%d",
                            (int)(rnd() % 61) - 30);
        text[pos] = '\0';
        const double want = strtod(text, NULL);
        const float wantf = strtof(text, NULL);
        ck_assert_msg(put_t(b8, text) == HR_OK, "%s", text);
        double got;
        ck_assert_int_eq(
            hr_batch_get_float8(b8, 0, hr_batch_rows(b8) - 1, &got), HR_OK);
        ck_assert_msg(memcmp(&got, &want, 8) == 0, "float8 %s: %.17g vs %.17g",
                      text, got, want);
        if (isinf(wantf) || (wantf == 0.0f && want != 0.0))
            continue; /* out of float4's range: an error there */
        ck_assert_msg(put_t(b4, text) == HR_OK, "%s", text);
        float gotf;
        ck_assert_int_eq(
            hr_batch_get_float4(b4, 0, hr_batch_rows(b4) - 1, &gotf), HR_OK);
        ck_assert_msg(memcmp(&gotf, &wantf, 4) == 0, "float4 %s: %.9g vs %.9g",
                      text, (double)gotf, (double)wantf);
        if ((i & 1023) == 0) {
            hr_batch_clear_rows(b8);
            hr_batch_clear_rows(b4);
        }
    }
    hr_batch_free(b8);
    hr_batch_free(b4);
}
END_TEST

/* A locale whose decimal point is a comma, built with localedef into a
 * temporary LOCPATH; NULL when the system cannot make one. */
static char locpath[64];

static const char *comma_locale(void)
{
    snprintf(locpath, sizeof locpath, "/tmp/hr-pgvalue-loc-%ld",
             (long)getpid());
    mkdir(locpath, 0700);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
             locpath);
    if (system(cmd) != 0)
        return NULL;
    setenv("LOCPATH", locpath, 1);
    return setlocale(LC_ALL, "de_DE.UTF-8");
}

START_TEST(float_parsing_ignores_locale)
{
    const char *loc = comma_locale();
    if (!loc) {
        fprintf(stderr, "test_pgvalue: no de_DE locale could be built; the "
                        "locale test runs in the C locale only\n");
    } else {
        /* The C library now reads "1,5" and stops at "1.5"'s point... */
        ck_assert(strtod("1,5", NULL) == 1.5);
    }
    hr_batch *b8 = batch_of(HR_OID_FLOAT8), *b4 = batch_of(HR_OID_FLOAT4);
    /* ...but a value keeps PostgreSQL's '.', on both paths. */
    ck_assert_int_eq(put_t(b8, "1.5"), HR_OK);
    ck_assert(last_f8_bits(b8) == 0x3ff8000000000000ULL);
    ck_assert_int_eq(put_t(b8, "0.30000000000000004"), HR_OK); /* slow path */
    ck_assert(last_f8_bits(b8) == 0x3fd3333333333334ULL);
    ck_assert_int_eq(put_t(b8, "1,5"), HR_EPROTO);
    ck_assert_int_eq(put_t(b4, "3.14159274"), HR_OK); /* slow path */
    ck_assert_uint_eq(last_f4_bits(b4), 0x40490fdbu);
    hr_batch_free(b8);
    hr_batch_free(b4);
    setlocale(LC_ALL, "C");
    if (loc) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", locpath);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

/* ---- date -------------------------------------------------------------- */

START_TEST(date_text_and_binary)
{
    static const struct {
        const char *text;
        int64_t days;
        int ok;
    } cases[] = {
        {"2000-01-01", 0, 1},
        {"1999-12-31", -1, 1},
        {"2000-03-01", 60, 1},
        {"1970-01-01", -10957, 1},
        {"2024-02-29", 8825, 1},
        {"2023-02-29", 0, 0},
        {"1900-02-29", 0, 0},
        {"2000-02-29", 59, 1},
        {"2000-13-01", 0, 0},
        {"2000-00-10", 0, 0},
        {"2000-04-31", 0, 0},
        {"2000-01-00", 0, 0},
        {"0001-01-01", -730119, 1},
        {"0001-12-31 BC", -730120, 1},
        {"0001-01-01 BC", -730485, 1},
        {"0000-01-01", -730485, 1}, /* year 0 is 1 BC */
        {"0000-01-01 BC", 0, 0},
        {"4714-11-24 BC", -2451545, 1},
        {"4714-11-23 BC", 0, 0},
        {"5874897-12-31", 2145031948, 1},
        {"5874898-01-01", 0, 0},
        {"infinity", INT32_MAX, 1},
        {"-infinity", INT32_MIN, 1},
        {"Infinity", INT32_MAX, 1},
        {"", 0, 0},
        {"2000-01-01 ", 0, 0},
        {"2000-01-01 AD", 0, 0},
        {"2000/01/01", 0, 0},
        {"20000101", 0, 0},
        {"2000-1-1", 0, 1},
        {"12345678-01-01", 0, 0},
        {"2000-01-01 00:00:00", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_batch *b = batch_of(HR_OID_DATE);
        const int rc = put_t(b, cases[i].text);
        ck_assert_msg(rc == (cases[i].ok ? HR_OK : HR_EPROTO), "'%s': %d",
                      cases[i].text, rc);
        if (cases[i].ok)
            ck_assert_msg(last_int(b) == cases[i].days, "'%s': %lld",
                          cases[i].text, (long long)last_int(b));
        hr_batch_free(b);
    }
    hr_batch *b = batch_of(HR_OID_DATE);
    ck_assert_int_eq(put_b(b, "00000000"), HR_OK);
    ck_assert_int_eq(last_int(b), 0);
    ck_assert_int_eq(put_b(b, "ffffffff"), HR_OK);
    ck_assert_int_eq(last_int(b), -1);
    ck_assert_int_eq(put_b(b, "80000000"), HR_OK);
    ck_assert_int_eq(last_int(b), INT32_MIN);
    ck_assert_int_eq(put_b(b, "7fffffff"), HR_OK);
    ck_assert_int_eq(last_int(b), INT32_MAX);
    ck_assert_int_eq(put_b(b, "7ffffffe"), HR_EPROTO); /* past 5874897 AD */
    ck_assert_int_eq(put_b(b, "ffda97a7"), HR_OK);     /* 4714-11-24 BC */
    ck_assert_int_eq(put_b(b, "ffda97a6"), HR_EPROTO); /* the day before */
    ck_assert_int_eq(put_b(b, "000000"), HR_EPROTO);
    hr_batch_free(b);
}
END_TEST

/* ---- timestamps -------------------------------------------------------- */

#define US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US)

START_TEST(timestamp_text)
{
    static const struct {
        uint32_t oid;
        const char *text;
        int64_t us;
        int ok;
    } cases[] = {
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00", 0, 1},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00.5", 500000, 1},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00.000001", 1, 1},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00.123456", 123456, 1},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00.1234567", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00.", 0, 0},
        {HR_OID_TIMESTAMP, "1999-12-31 23:59:59.999999", -1, 1},
        {HR_OID_TIMESTAMP, "1970-01-01 00:00:00", -946684800 * US, 1},
        {HR_OID_TIMESTAMP, "2000-01-02T01:02:03", DAY_US + 3723 * US, 1},
        {HR_OID_TIMESTAMP, "2000-01-01 24:00:00", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 23:60:00", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 23:00:60", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 1:00:00", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00", 0, 0},
        {HR_OID_TIMESTAMP, "2000-01-01 00:00:00+00", 0, 0}, /* no zone here */
        {HR_OID_TIMESTAMP, "4714-11-24 00:00:00 BC",
         INT64_C(-211813488000000000), 1},
        {HR_OID_TIMESTAMP, "4714-11-23 23:59:59.999999 BC", 0, 0},
        {HR_OID_TIMESTAMP, "294276-12-31 23:59:59.999999",
         INT64_C(9223371331199999999), 1},
        {HR_OID_TIMESTAMP, "294277-01-01 00:00:00", 0, 0},
        {HR_OID_TIMESTAMP, "9999999-01-01 00:00:00", 0, 0},
        {HR_OID_TIMESTAMP, "infinity", INT64_MAX, 1},
        {HR_OID_TIMESTAMP, "-infinity", INT64_MIN, 1},
        {HR_OID_TIMESTAMP, "0001-01-01 00:00:00 BC", -730485 * DAY_US, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+00", 0, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00", 0, 1}, /* UTC session */
        {HR_OID_TIMESTAMPTZ, "2000-01-01 05:30:00+05:30", 0, 1},
        {HR_OID_TIMESTAMPTZ, "1999-12-31 21:00:00-03", 0, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 01:02:03+01:02:03", 0, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 01:02:00+0102", 0, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00Z", 0, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00.25-00:15", 900 * US + 250000,
         1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+5", -5 * 3600 * US, 1},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+123", 0, 0},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+24", 0, 0},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+01:60", 0, 0},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+01:", 0, 0},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00+", 0, 0},
        {HR_OID_TIMESTAMPTZ, "2000-01-01 00:00:00 +00", 0, 0},
        {HR_OID_TIMESTAMPTZ, "0044-03-15 12:00:00.5+01:30 BC",
         INT64_C(-64464470999500000), 1},
        {HR_OID_TIMESTAMPTZ, "0044-03-15 10:30:00.5+00 BC",
         INT64_C(-64464470999500000), 1},
        {HR_OID_TIMESTAMPTZ, "294276-12-31 23:59:59.999999+00",
         INT64_C(9223371331199999999), 1},
        {HR_OID_TIMESTAMPTZ, "294276-12-31 23:59:59.999999-01", 0, 0},
        {HR_OID_TIMESTAMPTZ, "4714-11-24 00:00:00+00 BC",
         INT64_C(-211813488000000000), 1},
        {HR_OID_TIMESTAMPTZ, "4714-11-24 00:00:00+01 BC", 0, 0},
        {HR_OID_TIMESTAMPTZ, "-infinity", INT64_MIN, 1},
        {HR_OID_TIMESTAMPTZ, "infinityx", 0, 0},
        {HR_OID_TIMESTAMPTZ, "", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hr_batch *b = batch_of(cases[i].oid);
        const int rc = put_t(b, cases[i].text);
        ck_assert_msg(rc == (cases[i].ok ? HR_OK : HR_EPROTO), "'%s': %d",
                      cases[i].text, rc);
        if (cases[i].ok)
            ck_assert_msg(last_int(b) == cases[i].us, "'%s': %lld",
                          cases[i].text, (long long)last_int(b));
        hr_batch_free(b);
    }
}
END_TEST

START_TEST(timestamp_binary)
{
    hr_batch *b = batch_of(HR_OID_TIMESTAMPTZ);
    ck_assert_int_eq(put_b(b, "0000000000000001"), HR_OK);
    ck_assert_int_eq(last_int(b), 1);
    ck_assert_int_eq(put_b(b, "8000000000000000"), HR_OK);
    ck_assert_int_eq(last_int(b), INT64_MIN);
    ck_assert_int_eq(put_b(b, "7fffffffffffffff"), HR_OK);
    ck_assert_int_eq(last_int(b), INT64_MAX);
    ck_assert_int_eq(put_b(b, "7ffffffffffffffe"), HR_EPROTO);
    ck_assert_int_eq(put_b(b, "8000000000000001"), HR_EPROTO);
    ck_assert_int_eq(put_b(b, "00000001"), HR_EPROTO);
    ck_assert_uint_eq(hr_batch_rows(b), 3);
    hr_batch_free(b);
}
END_TEST

/* ---- uuid, bytea ------------------------------------------------------- */

START_TEST(uuid_text_and_binary)
{
    static const uint8_t want[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b,
                                     0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9,
                                     0xbd, 0x38, 0x0a, 0x11};
    hr_batch *b = batch_of(HR_OID_UUID);
    const char *ok[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
                        "a0eebc999c0b4ef8bb6d6bb9bd380a11"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(put_t(b, ok[i]) == HR_OK, "%s", ok[i]);
        uint8_t got[16];
        ck_assert_int_eq(hr_batch_get_uuid(b, 0, i, got), HR_OK);
        ck_assert_int_eq(memcmp(got, want, 16), 0);
    }
    const char *bad[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
                         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
                         "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11",
                         "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
                         "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(put_t(b, bad[i]) == HR_EPROTO, "%s", bad[i]);
    ck_assert_int_eq(put_b(b, "a0eebc999c0b4ef8bb6d6bb9bd380a11"), HR_OK);
    uint8_t got[16];
    ck_assert_int_eq(hr_batch_get_uuid(b, 0, 4, got), HR_OK);
    ck_assert_int_eq(memcmp(got, want, 16), 0);
    ck_assert_int_eq(put_b(b, "a0eebc999c0b4ef8bb6d6bb9bd380a"), HR_EPROTO);
    hr_batch_free(b);
}
END_TEST

START_TEST(bytea_text_and_binary)
{
    hr_batch *b = batch_of(HR_OID_BYTEA);
    size_t len;
    /* (A first value that is not empty: hr_batch_get_bytes on a column whose
     * heap was never allocated computes NULL + 0.) */
    ck_assert_int_eq(put_t(b, "\\x41"), HR_OK);
    ck_assert_int_eq(put_t(b, "\\x"), HR_OK);
    last_bytes(b, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(put_t(b, ""), HR_OK); /* escape format, empty */
    last_bytes(b, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(put_t(b, "\\x00ff10Ab"), HR_OK);
    const char *v = last_bytes(b, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(v, "\x00\xff\x10\xab", 4), 0);
    ck_assert_int_eq(put_t(b, "\\x00 ff\n10"), HR_OK); /* byteain skips space */
    v = last_bytes(b, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(v, "\x00\xff\x10", 3), 0);
    ck_assert_int_eq(put_t(b, "abc\\\\d\\000\\377"), HR_OK); /* escape format */
    v = last_bytes(b, &len);
    ck_assert_uint_eq(len, 7);
    ck_assert_int_eq(memcmp(v, "abc\\d\x00\xff", 7), 0);
    const char *bad[] = {"\\x0",  "\\x0g", "\\xf f", "a\\b",
                         "\\400", "\\0",   "\\"};
    const size_t rows = hr_batch_rows(b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(put_t(b, bad[i]) == HR_EPROTO, "%s", bad[i]);
    ck_assert_uint_eq(hr_batch_rows(b), rows);
    /* A failed value left nothing in the heap either. */
    ck_assert_int_eq(put_t(b, "\\x41"), HR_OK);
    v = last_bytes(b, &len);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(v[0], 'A');
    ck_assert_int_eq(put_b(b, "00015c78"), HR_OK); /* binary: raw */
    v = last_bytes(b, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(v, "\x00\x01\\x", 4), 0);
    ck_assert_int_eq(put_b(b, ""), HR_OK);
    last_bytes(b, &len);
    ck_assert_uint_eq(len, 0);
    hr_batch_free(b);
}
END_TEST

/* ---- numeric ----------------------------------------------------------- */

/* numeric_send (hex) and numeric_out of PostgreSQL 15: fixed values, random
 * ones, and crafted binaries (non-normalised: leading zero digits, digits
 * past dscale, negative values that truncate to zero) sent through
 * numeric_recv as a binary parameter and printed back. */
static const struct {
    const char *hex, *text;
} numeric_golden[] = {
    {"0000000000000000", "0"},
    {"0000000000000002", "0.00"},
    {"0000000000000002", "0.00"},
    {"00010000000000000001", "1"},
    {"00010000400000000001", "-1"},
    {"00010001000000000001", "10000"},
    {"0001000000000000270f", "9999"},
    {"0003000100000004000109291a85", "12345.6789"},
    {"0003000140000005000109291a85", "-12345.67890"},
    {"0001ffff000000040001", "0.0001"},
    {"0001fffe0000000503e8", "0.00001"},
    {"0001fffb000000140001", "0.00000000000000000001"},
    {"0002fffb4000001500011388", "-0.000000000000000000015"},
    {"000b000700000009000c0d801ed204d2162e23340d801ed204d2162e2328",
     "123456789012345678901234567890.123456789"},
    {"00010019000000000001",
     "1000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000"},
    {"0001ffe7400000640001",
     "-0."
     "0000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000001"},
    {"00000000c0000000", "NaN"},
    {"00000000d0000020", "Infinity"},
    {"00000000f0000020", "-Infinity"},
    {"0001ffff0000000103e8", "0.1"},
    {"00010000000000000064", "100"},
    {"00040001000000060064000000000064", "1000000.000001"},
    {"000a0000000000230003058724310e051efc0f060a530ef81f0e0b40",
     "3.14159265358979323846264338327950288"},
    {"0001fffd4000000c0001", "-0.000000000001"},
    {"0004000100000008270f270f270f270f", "99999999.99999999"},
    {"00010000000000030001", "1.000"},
    {"0002000000000002000a03e8", "10.10"},
    {"0005ffff000000320d050d050d050d050d05",
     "0.33333333333333333333000000000000000000000000000000"},
    {"0010000f00000000000117b50edc10a226ae1d8207aa039b10140a2a1466012b0ec61ef80"
     "dca0560",
     "1606938044258990275541962092341162602522202993782792835301376"},
    {"0005ffff00000014059416520b2905941652", "0.14285714285714285714"},
    {"0001ffff000000011388", "0.5"},
    {"0002000040000004270f270f", "-9999.9999"},
    {"0003000100000004000100000001", "10000.0001"},
    {"00010001000000000001", "10000"},
    {"0001ffff000000040001", "0.0001"},
    {"0007000000000015007b0000000000000000000003e8",
     "123.000000000000000000001"},
    {"00010002400000000001", "-100000000"},
    {"0001ffff000000060001", "0.000100"},
    {"00030002000000000015128c0e40", "2147483648"},
    {"0005000440000000039a0d2c0170156516b0", "-9223372036854775808"},
    {"000600040000000107341a5802e103bb064f1388", "18446744073709551615.5"},
    {"0000000000000000", "0"},
    {"0004fffb0000001d13b223e9266a1b58", "0.00000000000000005042919398347"},
    {"0000000000000003", "0.000"},
    {"0000000000000005", "0.00000"},
    {"000500040000001500010e640aba087f170c",
     "13684274621755900.000000000000000000000"},
    {"000500024000000c001c20da1e341e741b58", "-2884107732.779670000000"},
    {"000000000000000e", "0.00000000000000"},
    {"0004000100000024036e039d1fc8231d",
     "8780925.813689890000000000000000000000000000"},
    {"0003fffe0000000d053211981f40", "0.0000133045048"},
    {"0005000740000004000120ae1cbc0e840ce4",
     "-18366735637163300000000000000.0000"},
    {"0004ffff4000002705fd176011ce1798",
     "-0.153359844558604000000000000000000000000"},
    {"0005000440000011000409e2150413f71a90",
     "-42530538051116800.00000000000000000"},
    {"00030001400000010b6d12061388", "-29254614.5"},
    {"00040004000000112214008903341734",
     "87240137082059400000.00000000000000000"},
    {"0005000340000026002700fd1e2b087f0fa0",
     "-39025377232175.40000000000000000000000000000000000000"},
    {"0005000640000020000226d706e5125e0d48",
     "-2994317654702340000000000.00000000000000000000000000000000"},
    {"0002fffe0000000c01641e80", "0.000003567808"},
    {"0005ffff00000011000d0b441c0823a52328", "0.00132884717691259"},
    {"000000000000000a", "0.0000000000"},
    {"0000000000000005", "0.00000"},
    {"0000000000000006", "0.000000"},
    {"0000000000000011", "0.00000000000000000"},
    {"000500054000000b0012018b16c71fb51770",
     "-1803955831811760000000.00000000000"},
    {"0002fffa4000001a00010f3c", "-0.00000000000000000000000139"},
    {"00050005000000060034053b17c509071770", "5213396085231160000000.000000"},
    {"000500054000000b000e1bac1f1b1c1c1b58",
     "-1470847963719670000000.00000000000"},
    {"000400014000001205f00ffe204c0a14", "-15204094.826825800000000000"},
    {"0005000440000021000f1e290e8c00bf2328",
     "-157721372401919000.000000000000000000000000000000000"},
    {"0000000000000013", "0.0000000000000000000"},
    {"0000000000000001", "0.0"},
    {"00050007000000140001018a129d1d832580",
     "10394476575559600000000000000.00000000000000000000"},
    {"0004000400000003000d147012a30123", "135232477102910000.000"},
    {"000400004000002700d60fc10fe021ad",
     "-214.403340648621000000000000000000000000000"},
    {"0004fffd4000001f079715501ddc1ea0", "-0.0000000019435456764478400000000"},
    {"0004fffd00000018067e06e50427104a", "0.000000001662176510634170"},
    {"000400064000001b02e704511fad0db4",
     "-743110581093508000000000000.000000000000000000000000000"},
    {"0005000400000006000207811e19140114b4", "21921770551215300.000000"},
    {"0000000000000003", "0.000"},
    {"000400040000001205df26f910701b9e",
     "15039977420870700000.000000000000000000"},
    {"0001fff94000001c011b", "-0.0000000000000000000000000283"},
    {"000500070000000a001313c2163f1bc62328",
     "195058569571109000000000000000.0000000000"},
    {"000500020000001b00091ce1236f05632198",
     "973939071.137986000000000000000000000"},
    {"0000000000000004", "0.0000"},
    {"0004fffb40000021098f09ef02351acc",
     "-0.000000000000000024472543056568600"},
    {"000400060000001a05cb205b105208d4",
     "1483828341782260000000000000.00000000000000000000000000"},
    {"0001fffe400000070028", "-0.0000004"},
    {"0004fffa00000022009e2441223711f8",
     "0.0000000000000000000001589281875946"},
    {"0005000440000004000116b91bfc12ae1388", "-15817716447825000.0000"},
    {"000500004000002100201d891a4b0ddf1b58",
     "-32.756167313551700000000000000000000"},
    {"000400024000001e009c234116cf18ad",
     "-15690255839.631700000000000000000000000000"},
    {"0003fff940000023016c1c8c12fc", "-0.00000000000000000000000003647308486"},
    {"0002fff8000000210ed91388", "0.000000000000000000000000000038015"},
    {"0001fffc4000001001d0", "-0.0000000000000464"},
    {"000400024000001f0a6f227f038a1c16",
     "-267188310906.7190000000000000000000000000000"},
    {"000000000000001c", "0.0000000000000000000000000000"},
    {"0004000140000008004022cd10c21b87", "-648909.42907047"},
    {"000500014000001500012628006413201f40", "-19768.010048968000000000000"},
    {"00040005000000190929257101de23e6",
     "234595850478919000000000.0000000000000000000000000"},
    {"000500024000001e0050030a11ef02ab03e8",
     "-8007784591.068310000000000000000000000000"},
    {"00040002000000191d88030204082148",
     "756007701032.8520000000000000000000000"},
    {"0004fffd00000019000f198e20c31bcc", "0.0000000000156542838771160"},
    {"0004ffff0000001500251451034e1bf2", "0.003752010846715400000"},
    {"0000000000000011", "0.00000000000000000"},
    {"0000000000000019", "0.0000000000000000000000000"},
    {"000400024000001400711fb01cb30eb9", "-11381127347.37690000000000000000"},
    {"0000000000000007", "0.0000000"},
    {"0000000000000003", "0.000"},
    {"0001fffc00000010004d", "0.0000000000000077"},
    {"0004000440000020139514210ffe0cbc",
     "-50135153409432600000.00000000000000000000000000000000"},
    {"0005000600000006000515c50bf3073b170c",
     "5557330591851590000000000.000000"},
    {"000000000000000c", "0.000000000000"},
    {"000400050000001b00010fec18751a28",
     "140766261669600000000.000000000000000000000000000"},
    {"000400064000001914331b6703921126",
     "-5171701509144390000000000000.0000000000000000000000000"},
    {"0004fffe0000001700c90b6b05181041", "0.00000201292313044161000"},
    {"000400014000000507c112141ae603e8", "-19854628.68861"},
    {"0000000000000005", "0.00000"},
    {"000500040000000100041f14177224641edc", "47956600293167900.0"},
    {"0000000000000002", "0.00"},
    {"00040005400000230a8b015602fb1338",
     "-269903420763492000000000.00000000000000000000000000000000000"},
    {"0005000700000026000a24950466214c1b58",
     "109365112685247000000000000000.00000000000000000000000000000000000000"},
    {"0002fffb0000001801cf19e3", "0.000000000000000004636627"},
    {"000500020000000d00221a4c120e08911388", "3467324622.2193500000000"},
    {"0005fffb00000027005d03460c2c04da0bb8",
     "0.000000000000000000930838311612423000000"},
    {"0004fffa00000021003223d00da41f40", "0.000000000000000000000050916834928"},
    {"0005ffff0000001d00300362126d084003e8", "0.00480866471721121000000000000"},
    {"0005fffd4000002500020ac90e3c211a157c",
     "-0.0000000000022761364484745500000000000"},
    {"0004fffc40000023237b0da4127d0f82",
     "-0.00000000000090833492473339700000000"},
    {"0001fffc4000000e00c8", "-0.00000000000002"},
    {"000400060000002203a324e11cb50380",
     "931944173490896000000000000.0000000000000000000000000000000000"},
    {"0000000000000017", "0.00000000000000000000000"},
    {"0005000240000014000121ef0bdb06440f3c", "-186873035.16043900000000000000"},
    {"0004000300000004001e1185180b18e1", "30448561556369.0000"},
    {"0000000000000009", "0.000000000"},
    {"0000000000000003", "0.000"},
    {"000500024000000a003e0e6e13c60cc71388", "-6236945062.3271500000"},
    {"00050006000000120003267425fb267b1004",
     "3984497239851410000000000.000000000000000000"},
    {"0005000300000024001726bf08ef232c0fa0",
     "23991922879004.400000000000000000000000000000000000"},
    {"000500050000000f004a10e1170906c907d0",
     "7443215897173720000000.000000000000000"},
    {"000400060000000803f605fc26132030",
     "1014153297478240000000000000.00000000"},
    {"0004fffb4000002600d62094074a07a5",
     "-0.00000000000000000214834018661957000000"},
    {"0003fffd00000011000111dc07d0", "0.00000000000145722"},
    {"000000000000000b", "0.00000000000"},
    {"000400050000000316050e4e211f01f4", "563736628479050000000000.000"},
    {"0002fffb400000180cfc12ec", "-0.000000000000000033244844"},
    {"0005fffd4000002800041d1b03e1143d1324",
     "-0.0000000000047451099351814900000000000000"},
    {"0003000040000005002b115f0bb8", "-43.44473"},
    {"000500050000002700351bc400881f1203e8",
     "5371080136795410000000.000000000000000000000000000000000000000"},
    {"0000000000000009", "0.000000000"},
    {"00040001000000260e0a1e0f0f1711a8",
     "35947695.38634520000000000000000000000000000000"},
    {"0002ffff00000008000b066b", "0.00111643"},
    {"0005000000000028000a13d81c2e22641f40",
     "10.5080721488048000000000000000000000000000"},
    {"000500024000000c0004023e00d8048f1838", "-405740216.116762000000"},
    {"0005fffd4000001e000110760f3a162324b8",
     "-0.000000000001421438985667940000"},
    {"000500054000000800010c6c03ec04c51450", "-131801004122152000000.00000000"},
    {"000400040000002200d00edb05eb1005",
     "2083803151541010000.0000000000000000000000000000000000"},
    {"0001fffb0000001202bc", "0.000000000000000007"},
    {"0005fffb40000022001f243922d90a621f40",
     "-0.0000000000000000003192738921265880"},
    {"000500000000001a00631d3a1a47246d0fa0", "99.74826727932540000000000000"},
    {"0005000140000027000226d325b713d40514",
     "-29939.965550761300000000000000000000000000000"},
    {"0000000000000000", "0"},
    {"0003fffb0000001b018416f5208a", "0.000000000000000003885877833"},
    {"000500074000000f00010f7d058508d41388",
     "-13965141322605000000000000000.000000000000000"},
    {"0000000000000007", "0.0000000"},
    {"0001ffff000000040d19", "0.3353"},
    {"0000000000000008", "0.00000000"},
    {"0005fffa00000027000c1db21d3917b31f40",
     "0.000000000000000000000012760274816067800"},
    {"0004fffa400000260b081614170d085c",
     "-0.00000000000000000000282456525901214000"},
    {"000400040000001b00030c811ac4016e",
     "33201685203660000.000000000000000000000000000"},
    {"000400000000000a00282575043a2134", "40.9589108285"},
    {"000000000000000b", "0.00000000000"},
    {"0004ffff4000001101d4165f0a2c0412", "-0.04685727260410420"},
    {"0004fff940000028000e0347153b092b",
     "-0.0000000000000000000000000014083954352347"},
    {"000400034000000b0d8209450f170e60", "-3458237338633680.00000000000"},
    {"000500034000000500361e5c101312d70bb8", "-54777241154823.30000"},
    {"0004fffc4000001a04a01fd213b21ce8", "-0.00000000000011848146504274"},
    {"000400050000000921be1c671a041f5e", "863872716660803000000000.000000000"},
    {"0000000000000014", "0.00000000000000000000"},
    {"000400000000000a0049184d093808fc", "73.6221236023"},
    {"000400004000001a012323c31119217b", "-291.91554377857100000000000000"},
    {"0005000000000011000207501aa818cc10cc", "2.18726824634843000"},
    {"0000000000000017", "0.00000000000000000000000"},
    {"0005000400000004005a03f619af1fd11b58", "901014657581457000.0000"},
    {"0002fff94000001f018c20c6", "-0.0000000000000000000000000396839"},
    {"000400050000001403aa20480b640a30",
     "93882642916260800000000.00000000000000000000"},
    {"000400054000001b051311f7244000e6",
     "-129945999280023000000000.000000000000000000000000000"},
    {"000400054000000f1a6226d018be0ee2",
     "-675499366334381000000000.000000000000000"},
    {"0004000540000014099e076d1f74186a",
     "-246219018052625000000000.00000000000000000000"},
    {"000400000000000c05720208045911f8", "1394.052011134600"},
    {"0005fffd000000240004036d1c3407d40064",
     "0.000000000004087772202004010000000000"},
    {"0004fffb4000002402791de608751d3c",
     "-0.000000000000000006337654216574840000"},
    {"0005000c00000000002b033c0c3614e207d0",
     "43082831265346200000000000000000000000000000000000"},
    {"000500000000000d005b0c6f140900100fa0", "91.3183512900164"},
    {"0004000b000000000231170213e60c28",
     "56158905094311200000000000000000000000000000000"},
    {"0005000d00000000002a19c3136b08022328",
     "426595497120509000000000000000000000000000000000000000"},
    {"00050001000000090041026a12b325e70fa0", "650618.478797034"},
    {"0005000500000000000618b60e8e10cd05dc", "663263726430115000000"},
    {"0005fffc0000001e000704ad1444040d2198",
     "0.000000000000000711975188103786"},
    {"0005ffff00000012000825990884126b1838", "0.000896252180471562"},
    {"000400020000000400c21a9408cc1dd4", "19468042252.7636"},
    {"00040003000000000e8404fa1cce2576", "3716127473749590"},
    {"000500010000000a00050245078b20c80ce4", "50581.1931839233"},
    {"000400060000000020231f940fb91414", "8227808440255140000000000000"},
    {"0004fff9000000272185225609701b8a",
     "0.000000000000000000000000858187902416705"},
    {"0005000400000000000305f1004f190c1388", "31521007964125000"},
    {"0004fffa000000240260256f1735005e",
     "0.000000000000000000000608958359410094"},
    {"0005fffc0000001d00281dee10f805530fa0", "0.00000000000000407662434413634"},
    {"0004000400000000027f1954072613da", "6396484183050820000"},
    {"0005000b000000000003130800ea1ebe125c",
     "348720234787047000000000000000000000000000000"},
    {"0004fffb0000001f1e52223f252a0e56", "0.0000000000000000776287679514367"},
    {"000400000000000c026e14fb097e0c7f", "622.537124303199"},
    {"0004ffff0000000f15c31e121bd507d0", "0.557176987125200"},
    {"00040003000000000a4317380d3606d6", "2627594433821750"},
    {"0005000300000002000513ab01e315761f40", "5503504835494.80"},
    {"0004fffa00000023093725eb03491c20",
     "0.00000000000000000000235997070841720"},
    {"000400040000000021d41552147a2634", "86605458524297800000"},
    {"0005fffd000000190045133414cb087007d0", "0.0000000000694916532321602"},
    {"0004000b0000000002a523fd26cc1aba",
     "67792139932684200000000000000000000000000000000"},
    {"0004000c00000000189112e322070e24",
     "6289483587113620000000000000000000000000000000000000"},
    {"0005000c0000000000091ece12250d2f16a8",
     "9788646453375580000000000000000000000000000000000"},
    {"0004000600000000159708a1207f1928", "5527220983196440000000000000"},
    {"0005fffe0000001500501c9506eb20fa1b58", "0.000000807317177184427"},
    {"0004000700000000030d21591a7d225c", "7818537678187960000000000000000"},
    {"000500000000000d0013039808d222a80fa0", "19.0920225888724"},
    {"0004000a000000000a8f04400d4b0e06",
     "27031088340335900000000000000000000000000000"},
    {"00040009000000000ee02419082f19d2",
     "3808924120956610000000000000000000000000"},
    {"0005000c00000000005917c104d2253a1b58",
     "89608112349530700000000000000000000000000000000000"},
    {"0005ffff00000012000717fd03830e38251c", "0.000761410899364095"},
    {"000500010000000a00070e510f2b0bf00514", "73665.3883305613"},
    {"0004000c0000000003d704aa08810157",
     "983119421770343000000000000000000000000000000000000"},
    {"00050006000000000009185717fa028c0fa0", "9623161380652400000000000"},
    {"0004000c00000000228c167609802274",
     "8844575024328820000000000000000000000000000000000000"},
    {"0005000200000005004c1bf90d6104941770", "7671613425.11726"},
    {"0005000a000000000004088808df099316a8",
     "42184227124515800000000000000000000000000"},
    {"0004fffc0000001b00cf02b612dd01cc", "0.000000000000020706944829046"},
    {"000400060000000002e517e8035f2198", "741612008638600000000000000"},
    {"0004fffc0000001c0127111f036523ed", "0.0000000000000295438308699197"},
    {"0004fffa0000002402d312b11af900de",
     "0.000000000000000000000723478569050222"},
    {"0004fffb0000002002d1007e22fe2171", "0.00000000000000000721012689588561"},
    {"0005000c00000000000406980e9d046b2328",
     "4168837411131900000000000000000000000000000000000"},
    {"000500040000000000471a58223214411388", "716744875451855000"},
    {"0005000400000000003d14c9163b15690bb8", "615321569154813000"},
    {"0005000400000000000212b00bf710041f40", "24784306341008000"},
    {"00050005000000000005224f111a0b141d4c", "587834378283675000000"},
    {"0005fffe0000001600050bfa0b0e0ddf2328", "0.0000000530662830355190"},
    {"000400040000000011f322ac21ac17e8", "45958876862061200000"},
    {"0004fffe000000131a4903cc23901860", "0.0000672909729104624"},
    {"0005000200000006000513de177f233d1a90", "550866015.902168"},
    {"0004000b000000000ef70ed0091c1a5e",
     "383137922332675000000000000000000000000000000000"},
    {"00040006000000000006140814d2229c", "6512853308860000000000000"},
    {"000400060000000003c413610f270b43", "964496138792883000000000000"},
    {"0004000300000000038c1ab925cb09e5", "908684196752533"},
    {"0004fff90000002800381d862118005f",
     "0.0000000000000000000000000056755884720095"},
    {"0005fffe00000016000516da1f4d020805dc", "0.0000000558508013052015"},
    {"000400060000000001650d5e109d1e1e", "357342242537710000000000000"},
    {"0004000b00000000251309c5186e134c",
     "949125016254494000000000000000000000000000000000"},
    {"0004000300000000006024731b0f0251", "96933169270593"},
    {"0005000600000000003a03c601fb15f81b58", "58096605075624700000000000"},
    {"0004fffe000000130f3c1049217619dc", "0.0000390041698566662"},
    {"0005000700000000005616160e1725e71770", "865654360797036000000000000000"},
    {"0005000700000000000308ae1d0a23322008", "32222743490108200000000000000"},
    {"0005000b00000000003d21741e6a066707d0",
     "6185647786163920000000000000000000000000000000"},
    {"0005000900000000004b1df21f9f01220fa0",
     "75766680950290400000000000000000000000"},
    {"0004fffe000000131acc1daa0ba72166", "0.0000686075942983855"},
    {"0004000600000000039a228d23ae207f", "922884591348319000000000000"},
    {"0004ffff0000000f113a19a2240614be", "0.441065629222531"},
    {"0004000300000000007d252000c801a8", "125950402000424"},
    {"0004000c0000000016b01510200b209e",
     "5808539282038350000000000000000000000000000000000000"},
    {"0004fffd00000018025f0c75016a082f", "0.000000000607318903622095"},
    {"000500010000000a000315c0226505630e74", "35568.8805137937"},
    {"0005000900000000006304ce169f0a9f03e8",
     "99123057912719100000000000000000000000"},
    {"0002ffff4000000200000001", "0.00"},     /* crafted */
    {"0001fffe400000020001", "0.00"},         /* crafted */
    {"0001fffe400000040001", "0.0000"},       /* crafted */
    {"0003000200000002000000000001", "1.00"}, /* crafted */
    {"00010000000000020001", "1.00"},         /* crafted */
    {"0001000100000000270f", "99990000"},     /* crafted */
    {"00020000400000010001000a", "-1.0"},     /* crafted */
    {"00020000400000010001138a", "-1.5"},     /* crafted */
    {"000000054000000a", "0.0000000000"},     /* crafted */
    {"0000000000000003", "0.000"},            /* crafted */
    {"00020002000000000000000a", "100000"},   /* crafted */
    {"0002fffe400000040000000a", "0.0000"},   /* crafted */
    {"0001fffe400000050005", "0.00000"},      /* crafted */
    {"0001fffe400000060005", "0.000000"},     /* crafted */
    {"0001fffe400000070005", "0.0000000"},    /* crafted */
    {"0001fffe400000080005", "-0.00000005"},  /* crafted */
    {"00010000c000000a0001", "NaN"},          /* crafted */
};

START_TEST(numeric_binary_golden)
{
    hr_batch *b = batch_of(HR_OID_NUMERIC);
    for (size_t i = 0; i < sizeof numeric_golden / sizeof numeric_golden[0];
         i++) {
        ck_assert_msg(put_b(b, numeric_golden[i].hex) == HR_OK, "%s: %s",
                      numeric_golden[i].hex, hr_batch_errmsg(b));
        ck_assert_str_eq(last_bytes(b, NULL), numeric_golden[i].text);
        /* The text form is kept as it is. */
        ck_assert_int_eq(put_t(b, numeric_golden[i].text), HR_OK);
        ck_assert_str_eq(last_bytes(b, NULL), numeric_golden[i].text);
    }
    hr_batch_free(b);
}
END_TEST

START_TEST(numeric_binary_edges)
{
    hr_batch *b = batch_of(HR_OID_NUMERIC);
    /* Rejected by numeric_recv: wrong length, bad sign, bad dscale, a digit
     * of 10000. */
    const char *bad[] = {"",
                         "00000000000000",
                         "000100004000000000000000",
                         "00000000400000000000",
                         "0001000000050000",
                         "00010000000500000001",
                         "0000000000004000",
                         "0001000000000000ffff",
                         "00010000000000002710",
                         "0002000000000000000100"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(put_b(b, bad[i]) == HR_EPROTO, "%s", bad[i]);
    ck_assert_uint_eq(hr_batch_rows(b), 0);

    /* The largest dscale, and a weight of 32767: 7 and 32767 groups of four
     * zeros before the point. */
    uint8_t big[8 + 2];
    memcpy(big, "\x00\x01\x7f\xff\x00\x00\x3f\xff\x00\x07", 10);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 'b', big, sizeof big), HR_OK);
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, 0, 0, &p, &len), HR_OK);
    ck_assert_uint_eq(len, 1 + 4 * 32767 + 1 + 16383);
    ck_assert_int_eq(p[0], '7');
    for (size_t i = 1; i < len; i++)
        ck_assert_int_eq(p[i], i == 1 + 4 * 32767 ? '.' : '0');
    /* ...and a tiny one: 0.000...0001 at weight -32768. */
    memcpy(big, "\x00\x01\x80\x00\x00\x00\x3f\xff\x00\x01", 10);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 'b', big, sizeof big), HR_OK);
    ck_assert_int_eq(hr_batch_get_bytes(b, 0, 1, &p, &len), HR_OK);
    ck_assert_uint_eq(len, 2 + 16383);
    for (size_t i = 0; i < len; i++)
        ck_assert_int_eq(p[i], i == 1 ? '.' : '0');

    /* The digit count is unsigned on the wire: 40000 digits is a valid
     * header (if not a valid numeric), and must not read as negative. */
    size_t n = 8 + 2 * 40000;
    uint8_t *many = calloc(1, n);
    ck_assert_ptr_nonnull(many);
    many[0] = 40000 >> 8;
    many[1] = 40000 & 0xff;
    many[2] = 0x7f; /* weight 32767: integer digits 0..32767 */
    many[3] = 0xff;
    for (size_t i = 8; i < n; i += 2)
        many[i + 1] = 1;
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 'b', many, n), HR_OK);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 'b', many, n - 2), HR_EPROTO);
    free(many);
    hr_batch_free(b);
}
END_TEST

/* ---- text-like, unknown types ------------------------------------------ */

START_TEST(text_like_types)
{
    const uint32_t oids[] = {HR_OID_TEXT, HR_OID_VARCHAR, HR_OID_BPCHAR,
                             HR_OID_JSON, HR_OID_JSONB};
    for (size_t i = 0; i < sizeof oids / sizeof oids[0]; i++) {
        hr_batch *b = batch_of(oids[i]);
        ck_assert_int_eq(put_t(b, "{\"a\": \"\xc3\xa9\"}  "), HR_OK);
        ck_assert_str_eq(last_bytes(b, NULL), "{\"a\": \"\xc3\xa9\"}  ");
        ck_assert_int_eq(put_t(b, ""), HR_OK);
        ck_assert_str_eq(last_bytes(b, NULL), "");
        const uint8_t nul[3] = {'a', 0, 'b'};
        size_t len;
        ck_assert_int_eq(hr__pgvalue_append(b, 0, 't', nul, 3), HR_OK);
        ck_assert_int_eq(memcmp(last_bytes(b, &len), nul, 3), 0);
        ck_assert_uint_eq(len, 3);
        if (oids[i] == HR_OID_JSONB) {
            ck_assert_int_eq(put_b(b, "017b7d"), HR_OK);
            ck_assert_str_eq(last_bytes(b, NULL), "{}");
            ck_assert_int_eq(put_b(b, "01"), HR_OK);
            ck_assert_str_eq(last_bytes(b, NULL), "");
            ck_assert_int_eq(put_b(b, "027b7d"), HR_EUNSUPPORTED);
            ck_assert_int_eq(put_b(b, ""), HR_EPROTO);
        } else {
            ck_assert_int_eq(put_b(b, "7b7d"), HR_OK);
            ck_assert_str_eq(last_bytes(b, NULL), "{}");
        }
        hr_batch_free(b);
    }
}
END_TEST

START_TEST(unknown_types)
{
    hr_batch *b = batch_of(1186); /* interval */
    ck_assert_int_eq(put_t(b, "1 day 02:00:00"), HR_OK);
    ck_assert_str_eq(last_bytes(b, NULL), "1 day 02:00:00");
    ck_assert_int_eq(put_b(b, "00000000000000000000000100000000"),
                     HR_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "type oid 1186"));
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "\"v\""));
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    hr_batch_free(b);
}
END_TEST

/* ---- errors ------------------------------------------------------------ */

START_TEST(error_messages_and_arguments)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "id", HR_OID_INT8, 0), 0);
    ck_assert_int_eq(hr_batch_add_column(b, "born", HR_OID_DATE, 1), 1);
    ck_assert_int_eq(
        hr__pgvalue_append(b, 1, 't', (const uint8_t *)"2000-02-30", 10),
        HR_EPROTO);
    ck_assert_str_eq(hr_batch_errmsg(b),
                     "column \"born\": invalid date value \"2000-02-30\" (text "
                     "form)");
    /* Long and binary values are cut and escaped. */
    char lng[200];
    memset(lng, 'x', sizeof lng);
    lng[0] = '"';
    lng[1] = '\001';
    ck_assert_int_eq(
        hr__pgvalue_append(b, 0, 't', (const uint8_t *)lng, sizeof lng),
        HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "\"id\""));
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "\\x22\\x01xxx"));
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "xxx...\""));
    ck_assert_int_eq(
        hr__pgvalue_append(b, 0, 'b', (const uint8_t *)"\x01\x02", 2),
        HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "binary form, 2 bytes"));

    ck_assert_int_eq(hr__pgvalue_append(b, 2, 't', (const uint8_t *)"1", 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr__pgvalue_append(b, -1, 't', (const uint8_t *)"1", 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 'n', (const uint8_t *)"1", 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 't', NULL, 1), HR_EINVAL);
    ck_assert_int_eq(hr__pgvalue_append(NULL, 0, 't', (const uint8_t *)"1", 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr__pgvalue_append(b, 0, 't', (const uint8_t *)"1", 1),
                     HR_OK);
    ck_assert_int_eq(
        hr__pgvalue_append(b, 1, 'b', (const uint8_t *)"\0\0\0\1", 4), HR_OK);
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    hr_batch_free(b);
}
END_TEST

/* Every allocation point of appending values of each storage class fails
 * cleanly. */
typedef struct append_state {
    hr_batch *b;
} append_state;

static int append_op(hr_env *e, void *arg)
{
    append_state *s = arg;
    int rc = hr_batch_new(e, &s->b);
    if (rc != HR_OK)
        return rc;
    static const uint32_t oids[] = {
        HR_OID_BOOL,  HR_OID_INT4,    HR_OID_FLOAT8, HR_OID_UUID,
        HR_OID_BYTEA, HR_OID_NUMERIC, HR_OID_TEXT,   HR_OID_TIMESTAMPTZ};
    for (int k = 0; k < 8; k++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", k);
        rc = hr_batch_add_column(s->b, name, oids[k], 1);
        if (rc < 0)
            return rc;
    }
    static const uint8_t num[] = {0, 3, 0, 1, 0, 0, 0, 4, 0, 1, 9, 41, 26, 133};
    for (int row = 0; row < 150 && rc >= 0; row++) {
        const char *texts[] = {"t",
                               "42",
                               "1.25",
                               "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                               "\\x0102030405060708090a",
                               NULL,
                               "hello world",
                               "2020-02-02 02:02:02.5+02"};
        for (int k = 0; k < 8 && rc >= 0; k++)
            rc = texts[k] ? hr__pgvalue_append(s->b, k, 't',
                                               (const uint8_t *)texts[k],
                                               strlen(texts[k]))
                          : hr__pgvalue_append(s->b, k, 'b', num, sizeof num);
    }
    return rc < 0 ? rc : HR_OK;
}

static void append_cleanup(void *arg)
{
    append_state *s = arg;
    hr_batch_free(s->b);
    s->b = NULL;
}

START_TEST(allocation_failures)
{
    append_state s = {NULL};
    char why[256];
    long points =
        failing_allocator_sweep(append_op, append_cleanup, &s, why, sizeof why);
    ck_assert_msg(points > 0, "%s", why);
}
END_TEST

/* ---- hr_pgtxn_to_batch, on hand-made pgoutput messages ----------------- */

typedef struct msg {
    uint8_t b[4096];
    size_t n;
} msg;

static void m_u8(msg *m, unsigned v)
{
    ck_assert_uint_lt(m->n, sizeof m->b);
    m->b[m->n++] = (uint8_t)v;
}

static void m_be(msg *m, uint64_t v, int bytes)
{
    for (int k = bytes - 1; k >= 0; k--)
        m_u8(m, (unsigned)(v >> (8 * k)) & 0xff);
}

static void m_str(msg *m, const char *s)
{
    do
        m_u8(m, (uint8_t)*s);
    while (*s++);
}

/* A tuple: per column "n" NULL, "u" unchanged TOAST, "t:TEXT" text,
 * "b:HEX" binary. */
static void m_tuple(msg *m, int ncols, const char *const *cells)
{
    m_be(m, (uint64_t)ncols, 2);
    for (int k = 0; k < ncols; k++) {
        const char *c = cells[k];
        m_u8(m, (uint8_t)c[0]);
        if (c[0] == 't') {
            m_be(m, strlen(c + 2), 4);
            for (const char *p = c + 2; *p; p++)
                m_u8(m, (uint8_t)*p);
        } else if (c[0] == 'b') {
            uint8_t raw[256];
            const size_t n = unhex(c + 2, raw);
            m_be(m, n, 4);
            for (size_t i = 0; i < n; i++)
                m_u8(m, raw[i]);
        }
    }
}

typedef struct col_def {
    const char *name;
    uint32_t oid;
    int key;
} col_def;

typedef struct txn_ctx {
    hr_batch *batch;
    int (*check)(struct txn_ctx *, const hr_pgtxn *);
    int calls;
    int rc; /* for the allocation sweep: the first failure */
} txn_ctx;

static int on_txn_cb(void *ctx, const hr_pgtxn *txn)
{
    txn_ctx *c = ctx;
    c->calls++;
    return c->check(c, txn);
}

static int feed(hr_pgdecoder *d, uint64_t lsn, const msg *m)
{
    return hr_pgdecoder_feed_message(d, lsn, m->b, m->n);
}

static int send_relation(hr_pgdecoder *d, uint32_t oid, const char *name,
                         char ident, int ncols, const col_def *cols)
{
    msg m = {.n = 0};
    m_u8(&m, 'R');
    m_be(&m, oid, 4);
    m_str(&m, "app");
    m_str(&m, name);
    m_u8(&m, (uint8_t)ident);
    m_be(&m, (uint64_t)ncols, 2);
    for (int k = 0; k < ncols; k++) {
        m_u8(&m, (uint8_t)cols[k].key);
        m_str(&m, cols[k].name);
        m_be(&m, cols[k].oid, 4);
        m_be(&m, UINT32_MAX, 4);
    }
    return feed(d, 100, &m);
}

static int send_begin(hr_pgdecoder *d, uint64_t final_lsn, uint32_t xid)
{
    msg m = {.n = 0};
    m_u8(&m, 'B');
    m_be(&m, final_lsn, 8);
    m_be(&m, 1000, 8);
    m_be(&m, xid, 4);
    return feed(d, final_lsn - 50, &m);
}

static int send_commit(hr_pgdecoder *d, uint64_t final_lsn)
{
    msg m = {.n = 0};
    m_u8(&m, 'C');
    m_u8(&m, 0);
    m_be(&m, final_lsn, 8);
    m_be(&m, final_lsn + 8, 8);
    m_be(&m, 1000, 8);
    return feed(d, final_lsn, &m);
}

/* 'I' / 'U' / 'D' on relation `oid`: `old_kind` 'K' / 'O' / 0 with `old`,
 * then (not for 'D') the new tuple. */
static int send_change(hr_pgdecoder *d, uint64_t lsn, char kind, uint32_t oid,
                       int ncols, int old_kind, const char *const *old,
                       const char *const *new_cells)
{
    msg m = {.n = 0};
    m_u8(&m, (uint8_t)kind);
    m_be(&m, oid, 4);
    if (old_kind) {
        m_u8(&m, (uint8_t)old_kind);
        m_tuple(&m, ncols, old);
    }
    if (kind != 'D') {
        m_u8(&m, 'N');
        m_tuple(&m, ncols, new_cells);
    }
    return feed(d, lsn, &m);
}

static const col_def people_cols[] = {{"id", HR_OID_INT4, 1},
                                      {"name", HR_OID_TEXT, 0},
                                      {"score", HR_OID_FLOAT8, 0},
                                      {"seen", HR_OID_TIMESTAMPTZ, 0},
                                      {"doc", HR_OID_JSONB, 0}};
static const col_def pets_cols[] = {{"id", HR_OID_INT8, 1},
                                    {"age", 1186 /* interval */, 0}};

/* The transaction most tests decode: 9 changes over two relations. */
static int send_scenario(hr_pgdecoder *d)
{
    int rc = send_relation(d, 7001, "people", 'd', 5, people_cols);
    if (rc == HR_OK)
        rc = send_relation(d, 7002, "pets", 'd', 2, pets_cols);
    if (rc == HR_OK)
        rc = send_begin(d, 5000, 42);
    const char *ins1[] = {"t:1", "t:ann", "t:1.5", "t:2000-01-01 00:00:01+00",
                          "b:017b7d"};
    const char *ins2[] = {"b:00000002", "n", "b:8000000000000000", "n", "n"};
    const char *upd_new[] = {"t:1", "t:anne", "t:NaN", "u", "u"};
    const char *key_old[] = {"t:2", "n", "n", "n", "n"};
    const char *key_new[] = {"t:3", "t:bob", "t:-0", "t:infinity", "t:[]"};
    const char *del_old[] = {"t:1", "n", "n", "n", "n"};
    const char *pet[] = {"t:9", "t:3 days"};
    const char *pet_bin[] = {"b:0000000000000009",
                             "b:00000000000000000000000300000000"};
    if (rc == HR_OK)
        rc = send_change(d, 4001, 'I', 7001, 5, 0, NULL, ins1);
    if (rc == HR_OK)
        rc = send_change(d, 4002, 'I', 7001, 5, 0, NULL, ins2);
    if (rc == HR_OK)
        rc = send_change(d, 4003, 'U', 7001, 5, 0, NULL, upd_new);
    if (rc == HR_OK)
        rc = send_change(d, 4004, 'U', 7001, 5, 'K', key_old, key_new);
    if (rc == HR_OK)
        rc = send_change(d, 4005, 'D', 7001, 5, 'K', del_old, NULL);
    if (rc == HR_OK)
        rc = send_change(d, 4006, 'I', 7002, 2, 0, NULL, pet);
    if (rc == HR_OK) {
        msg m = {.n = 0};
        m_u8(&m, 'M');
        m_u8(&m, 1);
        m_be(&m, 4007, 8);
        m_str(&m, "hr");
        m_be(&m, 2, 4);
        m_u8(&m, 'h');
        m_u8(&m, 'i');
        rc = feed(d, 4007, &m);
    }
    if (rc == HR_OK)
        rc = send_change(d, 4008, 'I', 7001, 5, 0, NULL, ins1);
    if (rc == HR_OK)
        rc = send_change(d, 4009, 'I', 7002, 2, 0, NULL, pet_bin);
    if (rc == HR_OK)
        rc = send_commit(d, 5000);
    return rc;
}

static hr_pgdecoder *decoder_for(txn_ctx *c, hr_env *e)
{
    const hr_pgdecoder_callbacks cb = {
        HR_PGDECODER_CALLBACKS_VERSION, c, on_txn_cb, NULL, NULL, NULL};
    hr_pgdecoder *d = NULL;
    ck_assert_int_eq(hr_pgdecoder_new(e, &cb, &d), HR_OK);
    return d;
}

static void expect_text(const hr_batch *b, int col, size_t row, const char *s)
{
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, col, row, &p, &len), HR_OK);
    ck_assert_uint_eq(len, strlen(s));
    ck_assert_int_eq(memcmp(p, s, len), 0);
}

static int64_t get_i(const hr_batch *b, int col, size_t row)
{
    int64_t v;
    ck_assert_int_eq(hr_batch_get_int64(b, col, row, &v), HR_OK);
    return v;
}

static int check_scenario(txn_ctx *c, const hr_pgtxn *txn)
{
    hr_batch *b = c->batch;
    size_t next = 99;
    ck_assert_uint_eq(hr_pgtxn_changes(txn), 9);

    /* Changes 0..4: people, 7 rows (the keyed update adds an op-4 row). */
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, b, &next), HR_OK);
    ck_assert_uint_eq(next, 5);
    ck_assert_str_eq(hr_batch_schema_name(b), "app");
    ck_assert_str_eq(hr_batch_table_name(b), "people");
    ck_assert_int_eq(hr_batch_columns(b), 6);
    ck_assert_str_eq(hr_batch_column_name(b, 0), "_hr_op");
    ck_assert_uint_eq(hr_batch_column_type(b, 0), HR_OID_INT2);
    ck_assert_int_eq(hr_batch_column_nullable(b, 0), 0);
    for (int k = 0; k < 5; k++) {
        ck_assert_str_eq(hr_batch_column_name(b, k + 1), people_cols[k].name);
        ck_assert_uint_eq(hr_batch_column_type(b, k + 1), people_cols[k].oid);
        ck_assert_int_eq(hr_batch_column_nullable(b, k + 1), 1);
    }
    ck_assert_uint_eq(hr_batch_rows(b), 6);
    static const int ops[] = {1, 1, 2, 4, 2, 3};
    for (size_t r = 0; r < 6; r++)
        ck_assert_int_eq(get_i(b, 0, r), ops[r]);
    ck_assert_int_eq(get_i(b, 1, 0), 1);
    expect_text(b, 2, 0, "ann");
    double f;
    ck_assert_int_eq(hr_batch_get_float8(b, 3, 0, &f), HR_OK);
    ck_assert(f == 1.5);
    ck_assert_int_eq(get_i(b, 4, 0), 1000000);
    expect_text(b, 5, 0, "{}");
    ck_assert_int_eq(get_i(b, 1, 1), 2); /* binary values */
    ck_assert_int_eq(hr_batch_value_state(b, 2, 1), HR_VALUE_NULL);
    ck_assert_int_eq(hr_batch_get_float8(b, 3, 1, &f), HR_OK);
    ck_assert(f == 0.0 && signbit(f));
    ck_assert_int_eq(hr_batch_value_state(b, 4, 2), HR_VALUE_UNCHANGED_TOAST);
    ck_assert_int_eq(hr_batch_value_state(b, 5, 2), HR_VALUE_UNCHANGED_TOAST);
    ck_assert_int_eq(hr_batch_get_float8(b, 3, 2, &f), HR_OK);
    ck_assert(isnan(f));
    ck_assert_int_eq(get_i(b, 1, 3), 2); /* the old key */
    for (int k = 2; k <= 5; k++)
        ck_assert_int_eq(hr_batch_value_state(b, k, 3), HR_VALUE_NULL);
    ck_assert_int_eq(get_i(b, 1, 4), 3);
    ck_assert_int_eq(get_i(b, 4, 4), INT64_MAX);
    ck_assert_int_eq(get_i(b, 1, 5), 1); /* the delete's key */
    ck_assert_int_eq(hr_batch_value_state(b, 2, 5), HR_VALUE_NULL);

    /* Change 5: pets, text: the interval keeps its text. */
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 5, b, &next), HR_OK);
    ck_assert_uint_eq(next, 6);
    ck_assert_str_eq(hr_batch_table_name(b), "pets");
    ck_assert_int_eq(hr_batch_columns(b), 3);
    expect_text(b, 2, 0, "3 days");

    /* Change 6, the message: not a row change. */
    next = 99;
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 6, b, &next), HR_EINVAL);
    ck_assert_uint_eq(next, 6);
    ck_assert_int_eq(hr_batch_columns(b), 0);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "change 6"));
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 9, b, &next), HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, (size_t)-1, b, &next), HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_to_batch(NULL, 0, b, &next), HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, NULL, &next), HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, b, NULL), HR_EINVAL);

    /* Change 7: people again, into a batch that holds pets: re-declared. */
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 5, b, &next), HR_OK);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 7, b, &next), HR_OK);
    ck_assert_uint_eq(next, 8);
    ck_assert_int_eq(hr_batch_columns(b), 6);
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    /* The same run again: the schema is kept, the rows replaced. */
    const char *name_ptr = hr_batch_column_name(b, 2);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 7, b, &next), HR_OK);
    ck_assert_ptr_eq(hr_batch_column_name(b, 2), name_ptr);
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    ck_assert_str_eq(hr_batch_errmsg(b), "");

    /* Change 8: pets in binary: no decoder for interval's binary form. */
    const int rc = hr_pgtxn_to_batch(txn, 8, b, &next);
    ck_assert_int_eq(rc, HR_EUNSUPPORTED);
    ck_assert_uint_eq(next, 8);
    ck_assert_int_eq(hr_batch_columns(b), 0);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "change 8 (batch row 0)"));
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "\"age\""));
    return HR_OK;
}

START_TEST(to_batch_runs_and_ops)
{
    txn_ctx c = {.check = check_scenario};
    ck_assert_int_eq(hr_batch_new(env, &c.batch), HR_OK);
    hr_pgdecoder *d = decoder_for(&c, env);
    ck_assert_int_eq(send_scenario(d), HR_OK);
    ck_assert_int_eq(c.calls, 1);
    hr_pgdecoder_free(d);
    hr_batch_free(c.batch);
}
END_TEST

static int check_bad_value(txn_ctx *c, const hr_pgtxn *txn)
{
    size_t next = 99;
    const int rc = hr_pgtxn_to_batch(txn, 0, c->batch, &next);
    ck_assert_int_eq(rc, HR_EPROTO);
    ck_assert_uint_eq(next, 0);
    ck_assert_int_eq(hr_batch_columns(c->batch), 0);
    ck_assert_str_eq(hr_batch_errmsg(c->batch),
                     "change 1 (batch row 1): column \"seen\": invalid "
                     "timestamptz value \"yesterday\" (text form)");
    return HR_OK;
}

START_TEST(to_batch_bad_value)
{
    txn_ctx c = {.check = check_bad_value};
    ck_assert_int_eq(hr_batch_new(env, &c.batch), HR_OK);
    hr_pgdecoder *d = decoder_for(&c, env);
    ck_assert_int_eq(send_relation(d, 7001, "people", 'd', 5, people_cols),
                     HR_OK);
    ck_assert_int_eq(send_begin(d, 5000, 42), HR_OK);
    const char *good[] = {"t:1", "n", "n", "t:2000-01-01 00:00:00+00", "n"};
    const char *bad[] = {"t:2", "n", "n", "t:yesterday", "n"};
    ck_assert_int_eq(send_change(d, 4001, 'I', 7001, 5, 0, NULL, good), HR_OK);
    ck_assert_int_eq(send_change(d, 4002, 'I', 7001, 5, 0, NULL, bad), HR_OK);
    ck_assert_int_eq(send_commit(d, 5000), HR_OK);
    ck_assert_int_eq(c.calls, 1);
    hr_pgdecoder_free(d);
    hr_batch_free(c.batch);
}
END_TEST

/* A Relation message inside the transaction: the runs split at it. */
static int check_schema_change(txn_ctx *c, const hr_pgtxn *txn)
{
    size_t next;
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, c->batch, &next), HR_OK);
    ck_assert_uint_eq(next, 2);
    ck_assert_int_eq(hr_batch_columns(c->batch), 3);
    ck_assert_uint_eq(hr_batch_rows(c->batch), 2);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 2, c->batch, &next), HR_OK);
    ck_assert_uint_eq(next, 3);
    ck_assert_int_eq(hr_batch_columns(c->batch), 4);
    ck_assert_str_eq(hr_batch_column_name(c->batch, 3), "extra");
    int64_t v;
    ck_assert_int_eq(hr_batch_get_int64(c->batch, 3, 0, &v), HR_OK);
    ck_assert_int_eq(v, -5);
    return HR_OK;
}

START_TEST(to_batch_schema_change)
{
    txn_ctx c = {.check = check_schema_change};
    ck_assert_int_eq(hr_batch_new(env, &c.batch), HR_OK);
    hr_pgdecoder *d = decoder_for(&c, env);
    const col_def v1[] = {{"id", HR_OID_INT4, 1}, {"a", HR_OID_TEXT, 0}};
    const col_def v2[] = {{"id", HR_OID_INT4, 1},
                          {"a", HR_OID_TEXT, 0},
                          {"extra", HR_OID_INT2, 0}};
    ck_assert_int_eq(send_relation(d, 9, "t", 'd', 2, v1), HR_OK);
    ck_assert_int_eq(send_begin(d, 5000, 43), HR_OK);
    const char *r1[] = {"t:1", "t:x"}, *r2[] = {"t:2", "t:y"};
    const char *r3[] = {"t:3", "t:z", "t:-5"};
    ck_assert_int_eq(send_change(d, 4001, 'I', 9, 2, 0, NULL, r1), HR_OK);
    ck_assert_int_eq(send_change(d, 4002, 'I', 9, 2, 0, NULL, r2), HR_OK);
    ck_assert_int_eq(send_relation(d, 9, "t", 'd', 3, v2), HR_OK);
    ck_assert_int_eq(send_change(d, 4003, 'I', 9, 3, 0, NULL, r3), HR_OK);
    ck_assert_int_eq(send_commit(d, 5000), HR_OK);
    ck_assert_int_eq(c.calls, 1);
    hr_pgdecoder_free(d);
    hr_batch_free(c.batch);
}
END_TEST

/* A relation PostgreSQL could not send (a 300-byte column name): the batch
 * cannot hold it, and says so as a protocol error. */
static int check_too_big(txn_ctx *c, const hr_pgtxn *txn)
{
    size_t next = 99;
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, c->batch, &next), HR_EPROTO);
    ck_assert_uint_eq(next, 0);
    ck_assert_int_eq(hr_batch_columns(c->batch), 0);
    ck_assert_ptr_nonnull(
        strstr(hr_batch_errmsg(c->batch), "\"app\".\"wide\" does not fit"));
    return HR_OK;
}

START_TEST(to_batch_relation_too_big)
{
    txn_ctx c = {.check = check_too_big};
    ck_assert_int_eq(hr_batch_new(env, &c.batch), HR_OK);
    hr_pgdecoder *d = decoder_for(&c, env);
    char name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    const col_def cols[] = {{"id", HR_OID_INT4, 1}, {name, HR_OID_TEXT, 0}};
    ck_assert_int_eq(send_relation(d, 11, "wide", 'd', 2, cols), HR_OK);
    ck_assert_int_eq(send_begin(d, 5000, 44), HR_OK);
    const char *row[] = {"t:1", "t:x"};
    ck_assert_int_eq(send_change(d, 4001, 'I', 11, 2, 0, NULL, row), HR_OK);
    ck_assert_int_eq(send_commit(d, 5000), HR_OK);
    ck_assert_int_eq(c.calls, 1);
    hr_pgdecoder_free(d);
    hr_batch_free(c.batch);
}
END_TEST

/* Under a failing allocator: every failure is HR_ENOMEM, nothing leaks. */
static int check_all_runs(txn_ctx *c, const hr_pgtxn *txn)
{
    for (size_t i = 0; i < 8;) {
        if (i == 6) {
            i++;
            continue;
        }
        size_t next;
        const int rc = hr_pgtxn_to_batch(txn, i, c->batch, &next);
        if (rc != HR_OK) {
            ck_assert_int_eq(rc, HR_ENOMEM);
            ck_assert_int_eq(hr_batch_columns(c->batch), 0);
            return rc;
        }
        i = next;
    }
    return HR_OK;
}

typedef struct sweep_state {
    txn_ctx c;
    hr_pgdecoder *d;
} sweep_state;

static int sweep_op(hr_env *e, void *arg)
{
    sweep_state *s = arg;
    memset(&s->c, 0, sizeof s->c);
    s->c.check = check_all_runs;
    int rc = hr_batch_new(e, &s->c.batch);
    if (rc != HR_OK)
        return rc;
    const hr_pgdecoder_callbacks cb = {
        HR_PGDECODER_CALLBACKS_VERSION, &s->c, on_txn_cb, NULL, NULL, NULL};
    rc = hr_pgdecoder_new(e, &cb, &s->d);
    if (rc != HR_OK)
        return rc;
    return send_scenario(s->d);
}

static void sweep_cleanup(void *arg)
{
    sweep_state *s = arg;
    hr_pgdecoder_free(s->d);
    hr_batch_free(s->c.batch);
    s->d = NULL;
    s->c.batch = NULL;
}

START_TEST(to_batch_allocation_failures)
{
    sweep_state s;
    memset(&s, 0, sizeof s);
    char why[256];
    const long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &s, why, sizeof why);
    ck_assert_msg(points > 0, "%s", why);
}
END_TEST

Suite *pgvalue_suite(void);
Suite *pgvalue_suite(void)
{
    Suite *s = suite_create("pgvalue");
    TCase *tc = tcase_create("values");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* localedef and the random sweeps take seconds on a busy machine. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bool_text_and_binary);
    tcase_add_test(tc, int_text_ranges);
    tcase_add_test(tc, int_binary);
    tcase_add_test(tc, float_golden);
    tcase_add_test(tc, float_text_forms_and_errors);
    tcase_add_test(tc, float_random_round_trip);
    tcase_add_test(tc, float_random_decimals);
    tcase_add_test(tc, float_parsing_ignores_locale);
    tcase_add_test(tc, date_text_and_binary);
    tcase_add_test(tc, timestamp_text);
    tcase_add_test(tc, timestamp_binary);
    tcase_add_test(tc, uuid_text_and_binary);
    tcase_add_test(tc, bytea_text_and_binary);
    tcase_add_test(tc, numeric_binary_golden);
    tcase_add_test(tc, numeric_binary_edges);
    tcase_add_test(tc, text_like_types);
    tcase_add_test(tc, unknown_types);
    tcase_add_test(tc, error_messages_and_arguments);
    tcase_add_test(tc, allocation_failures);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("to_batch");
    tcase_add_checked_fixture(tb, setup, teardown);
    tcase_add_test(tb, to_batch_runs_and_ops);
    tcase_add_test(tb, to_batch_bad_value);
    tcase_add_test(tb, to_batch_schema_change);
    tcase_add_test(tb, to_batch_relation_too_big);
    tcase_add_test(tb, to_batch_allocation_failures);
    suite_add_tcase(s, tb);
    return s;
}

int main(void)
{
    return run_suite(pgvalue_suite());
}
