/*
 * floatcodec.h - encoding of n float8/float4 values, after ALP ("Adaptive
 * Lossless floating-Point compression", Afroozeh & Boncz, SIGMOD 2024).
 *
 * Most stored floats began life as short decimals (prices, measurements).
 * ALP finds one exponent e and factor f per batch such that each value v is
 * an integer digit d with  v == (T)d * 10^f / 10^e  bit for bit, computed in
 * the value's own type T with exact powers of ten. The digits go through the
 * int codec (DELTA/FOR/...), the few values that do not round-trip (NaN,
 * infinities, -0.0, values with more digits) are stored raw as exceptions.
 *
 * Wire layout: one scheme byte, then its payload. raw is the value's IEEE
 * bits, u64 for float8 and u32 for float4, little-endian; ints(k) is the
 * int codec (intcodec.h) one level deeper.
 *
 *   PLAIN (0): n x raw
 *   ALP   (1): u8 e | u8 f | varint x (exceptions, x <= n) | ints(n) digits
 *              | x x (varint gap | raw)                             n >= 1
 *        e, f <= 18 for float8 (10^18 < 2^63), <= 10 for float4 (10^10 is
 *        the largest power of ten a float holds exactly). The first gap is
 *        the first exception's position, later ones count the slots skipped
 *        since the previous exception (positions strictly increase, < n).
 *        An exception's digit slot holds a copy of a neighbouring digit.
 *
 * Decoding relies on IEEE-754 arithmetic evaluated in the declared type
 * (FLT_EVAL_METHOD 0, default rounding), which floatcodec.c checks.
 */
#ifndef HR_CODEC_FLOATCODEC_H
#define HR_CODEC_FLOATCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

/* Wire ids are pinned: they appear in frames. */
typedef enum hr__float_scheme {
    HR__FLOAT_PLAIN = 0,
    HR__FLOAT_ALP = 1
} hr__float_scheme;

#define HR__F64_MAX_EXP 18
#define HR__F32_MAX_EXP 10

/*
 * Append one scheme byte + payload encoding v[0..n). ALP needs depth >= 1
 * (its digits are encoded at depth-1); it is used only when smaller than
 * PLAIN. Scratch comes from out->env; on allocation failure out->failed is
 * set. Round-trips every bit pattern (NaN payloads, -0.0, denormals).
 */
void hr__f64_encode(hr__wbuf *out, const double *v, size_t n, int depth);
void hr__f32_encode(hr__wbuf *out, const float *v, size_t n, int depth);

/*
 * Decode exactly n values into v[0..n) from `in`, leaving the cursor after
 * the encoding; `depth` must be the encoder's. Returns HR_OK, HR_ECORRUPT
 * (v may hold partial output) or HR_ENOMEM (ALP allocates 8 * n bytes of
 * digits via env, plus the int codec's scratch). Never reads outside `in`.
 */
int hr__f64_decode(hr__rbuf *in, double *v, size_t n, int depth,
                   const hr_env *env);
int hr__f32_decode(hr__rbuf *in, float *v, size_t n, int depth,
                   const hr_env *env);

#endif /* HR_CODEC_FLOATCODEC_H */
