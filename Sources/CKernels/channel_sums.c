#include "ckernels.h"

// Batch normalisation's per-channel sums in Double. Each (sample, channel)
// run of P values is added into eight lane sums (position i into lane i % 8),
// sample after sample, and the lanes are added in a fixed tree at the end: an
// order that depends on the shapes only, so the statistics are the same on
// every run and rank, and eight independent chains instead of one (a single
// running sum waits on each add's latency; it measured 8% of a CNN's step).

#pragma STDC FP_CONTRACT OFF

typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));

#define widen(p) __builtin_convertvector(*(const v4f *)(p), v4d)
#define splat4(s) ((v4d){(s), (s), (s), (s)})

/// Lanes 0-3 and 4-7 as two vectors of four doubles (clang did not vectorise
/// the loop over eight lanes written out); `normalise` a constant where inlined.
static inline __attribute__((always_inline)) void
channel_sums_body(const float *restrict v, const float *restrict x, const double *restrict mean,
                  const double *restrict invstd, size_t batch, size_t channels, size_t positions,
                  double *restrict sums, const int normalise) {
    for (size_t c = 0; c < channels; c++) {
        v4d s0 = splat4(0.0), s1 = splat4(0.0), q0 = splat4(0.0), q1 = splat4(0.0);
        const double m = normalise ? mean[c] : 0.0, k = normalise ? invstd[c] : 0.0;
        for (size_t n = 0; n < batch; n++) {
            const float *vr = v + (n * channels + c) * positions;
            const float *xr = normalise ? x + (n * channels + c) * positions : vr;
            size_t i = 0;
            for (; i + 8 <= positions; i += 8) {
                const v4d a0 = widen(vr + i), a1 = widen(vr + i + 4);
                const v4d b0 = normalise ? (widen(xr + i) - splat4(m)) * splat4(k) : a0;
                const v4d b1 = normalise ? (widen(xr + i + 4) - splat4(m)) * splat4(k) : a1;
                s0 += a0;
                s1 += a1;
                q0 += a0 * b0;
                q1 += a1 * b1;
            }
            // The last positions % 8 of this run: lanes 0, 1, ... in order.
            for (size_t l = 0; i < positions; i++, l++) {
                const double a = (double)vr[i];
                const double b = normalise ? ((double)xr[i] - m) * k : a;
                if (l < 4) {
                    s0[l] += a;
                    q0[l] += a * b;
                } else {
                    s1[l - 4] += a;
                    q1[l - 4] += a * b;
                }
            }
        }
        sums[c] = ((s0[0] + s0[1]) + (s0[2] + s0[3])) + ((s1[0] + s1[1]) + (s1[2] + s1[3]));
        sums[channels + c] = ((q0[0] + q0[1]) + (q0[2] + q0[3])) + ((q1[0] + q1[1]) + (q1[2] + q1[3]));
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void
channel_sums_avx2(const float *restrict v, const float *restrict x, const double *restrict mean,
                  const double *restrict invstd, size_t batch, size_t channels, size_t positions, double *restrict sums) {
    if (x) {
        channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums, 1);
    } else {
        channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums, 0);
    }
}
#endif

void ck_channel_sums(const float *restrict v, const float *restrict x, const double *restrict mean,
                     const double *restrict invstd, size_t batch, size_t channels, size_t positions,
                     double *restrict sums) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        channel_sums_avx2(v, x, mean, invstd, batch, channels, positions, sums);
        return;
    }
#endif
    if (x) {
        channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums, 1);
    } else {
        channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums, 0);
    }
}
