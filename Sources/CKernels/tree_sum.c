#include "ckernels.h"
#include <string.h>

// Elements per block: the partial sums of one block stay in L1 (k/2 rows of
// TREE_BLOCK floats), so every leaf is read once and dst written once.
#define TREE_BLOCK 64

void ck_tree_sum(float *dst, const float *const *leaves, size_t k, size_t n) {
    float partial[CK_TREE_MAX_LEAVES / 2][TREE_BLOCK];
    if (k == 1) {
        if (dst != leaves[0]) memmove(dst, leaves[0], n * sizeof(float));
        return;
    }
    for (size_t start = 0; start < n; start += TREE_BLOCK) {
        const size_t len = n - start < TREE_BLOCK ? n - start : TREE_BLOCK;
        // Level 1: leaves 2p and 2p+1.
        for (size_t p = 0; p < k / 2; p++) {
            const float *a = leaves[2 * p] + start, *b = leaves[2 * p + 1] + start;
            float *out = partial[p];
            for (size_t i = 0; i < len; i++) out[i] = a[i] + b[i];
        }
        // Higher levels, in place: pairs (2p, 2p+1) into p.
        for (size_t width = k / 2; width > 1; width /= 2) {
            for (size_t p = 0; p < width / 2; p++) {
                float *out = partial[p];
                const float *a = partial[2 * p], *b = partial[2 * p + 1];
                for (size_t i = 0; i < len; i++) out[i] = a[i] + b[i];
            }
        }
        // dst may be one of the leaves: this block of every leaf is read by now.
        memcpy(dst + start, partial[0], len * sizeof(float));
    }
}

void ck_sequential_sum(float *dst, const float *const *leaves, size_t k, size_t n) {
    float partial[TREE_BLOCK];
    if (k == 1) {
        if (dst != leaves[0]) memmove(dst, leaves[0], n * sizeof(float));
        return;
    }
    for (size_t start = 0; start < n; start += TREE_BLOCK) {
        const size_t len = n - start < TREE_BLOCK ? n - start : TREE_BLOCK;
        const float *a = leaves[0] + start, *b = leaves[1] + start;
        for (size_t i = 0; i < len; i++) partial[i] = a[i] + b[i];
        for (size_t leaf = 2; leaf < k; leaf++) {
            const float *c = leaves[leaf] + start;
            for (size_t i = 0; i < len; i++) partial[i] += c[i];
        }
        memcpy(dst + start, partial, len * sizeof(float));
    }
}
