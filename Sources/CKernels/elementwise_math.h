// exp and log for the hot loops, as inline polynomials (Cephes' expf/logf,
// about 1 ulp) made of +, -, *, / and bit operations only, so loops that call
// them vectorise, and without FMA contraction every element rounds the same
// way whether a loop runs 1, 4 or 8 lanes wide.
#pragma once
#include <float.h>
#include <stdint.h>

static inline __attribute__((always_inline)) float ck_bits_to_float(uint32_t u) {
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
}

static inline __attribute__((always_inline)) uint32_t ck_float_to_bits(float f) {
    uint32_t u;
    __builtin_memcpy(&u, &f, sizeof u);
    return u;
}

/// e^x; 0 below -87.33 (where expf would be denormal), finite up to 88.
static inline __attribute__((always_inline)) float ck_expf(float x) {
    float c = x > 88.0f ? 88.0f : (x < -87.3f ? -87.3f : x);
    float fx = __builtin_floorf(c * 1.44269504088896341f + 0.5f);
    float r = c - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    float scale = ck_bits_to_float((uint32_t)((int32_t)fx + 127) << 23);
    float result = y * scale;
    return x < -87.3f ? 0.0f : (x != x ? x : result);
}

/// Natural log; -inf at 0, NaN below 0 and for NaN (as logf).
static inline __attribute__((always_inline)) float ck_logf(float x) {
    int denormal = x < FLT_MIN;
    float xs = denormal ? x * 8388608.0f : x;  // 2^23 brings denormals into range
    uint32_t bits = ck_float_to_bits(xs);
    float e = (float)((int32_t)((bits >> 23) & 0xff) - 126) - (denormal ? 23.0f : 0.0f);
    float m = ck_bits_to_float((bits & 0x807fffffu) | 0x3f000000u);  // x = m 2^e, m in [0.5, 1)
    int small = m < 0.707106781186547524f;
    e = small ? e - 1.0f : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292E-2f;
    y = y * m - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z;
    y = y + -2.12194440e-4f * e;
    y = y + -0.5f * z;
    float r = m + y;
    r = r + 0.693359375f * e;
    if (x > FLT_MAX) r = x;  // +inf
    return x > 0.0f ? r : (x == 0.0f ? -__builtin_inff() : __builtin_nanf(""));
}
