#include "ckernels.h"

// Batch normalisation's per-channel sums in Double. Each (sample, channel)
// run of P values is added into eight lane sums (position i into lane i % 8),
// sample after sample, and the lanes are added in a fixed tree at the end: an
// order that depends on the shapes only, so the statistics are the same on
// every run and rank, and eight independent chains instead of one (a single
// running sum waits on each add's latency; it measured 8% of a CNN's step).

#pragma STDC FP_CONTRACT OFF

static inline __attribute__((always_inline)) void
channel_sums_body(const float *restrict v, const float *restrict x, const double *restrict mean,
                  const double *restrict invstd, size_t batch, size_t channels, size_t positions,
                  double *restrict sums) {
    for (size_t c = 0; c < channels; c++) {
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const double m = x ? mean[c] : 0.0, k = x ? invstd[c] : 0.0;
        for (size_t n = 0; n < batch; n++) {
            const float *vr = v + (n * channels + c) * positions;
            const float *xr = x ? x + (n * channels + c) * positions : vr;
            size_t i = 0;
            for (; i + 8 <= positions; i += 8) {
                for (size_t l = 0; l < 8; l++) {
                    const double a = (double)vr[i + l];
                    const double b = x ? ((double)xr[i + l] - m) * k : a;
                    s[l] += a;
                    s2[l] += a * b;
                }
            }
            for (size_t l = 0; i < positions; i++, l++) {
                const double a = (double)vr[i];
                const double b = x ? ((double)xr[i] - m) * k : a;
                s[l] += a;
                s2[l] += a * b;
            }
        }
        sums[c] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        sums[channels + c] = ((s2[0] + s2[1]) + (s2[2] + s2[3])) + ((s2[4] + s2[5]) + (s2[6] + s2[7]));
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void
channel_sums_avx2(const float *restrict v, const float *restrict x, const double *restrict mean,
                  const double *restrict invstd, size_t batch, size_t channels, size_t positions, double *restrict sums) {
    channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums);
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
    channel_sums_body(v, x, mean, invstd, batch, channels, positions, sums);
}
