// The x86-64 SIMD kernels of md5_many: one 32-bit lane per message. Each function carries its
// own target attribute, so the file builds for baseline x86-64 and md5_many.cc calls a kernel
// only after checking the CPU. Nothing but intrinsics here: an inline function from a
// standard header compiled with AVX enabled could be picked by the linker for the whole
// program.
#include "base/md5_many.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_epi32()
// (GCC PR 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace coroner::md5_detail {

// ---- AVX-512: 16 lanes, native rotate, each round function one ternary-logic op.

__attribute__((target("avx512f"))) void compress_avx512(uint32_t* state,
                                                        const std::byte* const* ptr,
                                                        size_t blocks) {
  constexpr int kLanes = 16;
  __m512i a = _mm512_loadu_si512(state);
  __m512i b = _mm512_loadu_si512(state + kLanes);
  __m512i c = _mm512_loadu_si512(state + 2 * kLanes);
  __m512i d = _mm512_loadu_si512(state + 3 * kLanes);
  for (size_t block = 0; block < blocks; ++block) {
    // Row i is lane i's 16 words; transpose so that w[j] holds word j of every lane.
    __m512i r[kLanes], t[kLanes], w[kLanes];
    for (int i = 0; i < kLanes; ++i) r[i] = _mm512_loadu_si512(ptr[i] + 64 * block);
    for (int i = 0; i < kLanes; i += 2) {
      t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    // r[4g + k], 128-bit chunk q: word 4q + k of lanes 4g..4g+3.
    for (int g = 0; g < 4; ++g) {
      r[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
      r[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
      r[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
      r[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int k = 0; k < 4; ++k) {
      __m512i x0 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0x44);
      __m512i x1 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0xee);
      __m512i y0 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0x44);
      __m512i y1 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0xee);
      w[k] = _mm512_shuffle_i32x4(x0, y0, 0x88);
      w[4 + k] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
      w[8 + k] = _mm512_shuffle_i32x4(x1, y1, 0x88);
      w[12 + k] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
    }
    __m512i a0 = a, b0 = b, c0 = c, d0 = d;
#define MD5_F(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xca)
#define MD5_G(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xe4)
#define MD5_H(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define MD5_I(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x39)
#define MD5_STEP(fn, a, b, c, d, word, shift, k)                                                  \
  a = _mm512_add_epi32(                                                                           \
      b, _mm512_rol_epi32(                                                                        \
             _mm512_add_epi32(_mm512_add_epi32(a, fn(b, c, d)),                                   \
                              _mm512_add_epi32(w[word], _mm512_set1_epi32(static_cast<int>(k)))), \
             shift))
#include "base/md5_rounds.inc"
#undef MD5_STEP
#undef MD5_F
#undef MD5_G
#undef MD5_H
#undef MD5_I
    a = _mm512_add_epi32(a, a0);
    b = _mm512_add_epi32(b, b0);
    c = _mm512_add_epi32(c, c0);
    d = _mm512_add_epi32(d, d0);
  }
  _mm512_storeu_si512(state, a);
  _mm512_storeu_si512(state + kLanes, b);
  _mm512_storeu_si512(state + 2 * kLanes, c);
  _mm512_storeu_si512(state + 3 * kLanes, d);
}

// ---- AVX2: 8 lanes; rotate is two shifts and an or.

__attribute__((target("avx2"))) void compress_avx2(uint32_t* state, const std::byte* const* ptr,
                                                   size_t blocks) {
  constexpr int kLanes = 8;
  // (No lambdas: they would not inherit the target attribute.)
  __m256i* st = reinterpret_cast<__m256i*>(state);
  __m256i a = _mm256_loadu_si256(st), b = _mm256_loadu_si256(st + 1),
          c = _mm256_loadu_si256(st + 2), d = _mm256_loadu_si256(st + 3);
  const __m256i ones = _mm256_set1_epi32(-1);
  for (size_t block = 0; block < blocks; ++block) {
    __m256i w[16];
    // Each half of a block (words 8h..8h+7) is an 8x8 transpose.
    for (int h = 0; h < 2; ++h) {
      __m256i r[kLanes], t[kLanes];
      for (int i = 0; i < kLanes; ++i)
        r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ptr[i] + 64 * block + 32 * h));
      for (int i = 0; i < kLanes; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
      }
      for (int g = 0; g < 2; ++g) {
        r[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        r[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        r[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        r[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
      }
      for (int k = 0; k < 4; ++k) {
        w[8 * h + k] = _mm256_permute2x128_si256(r[k], r[4 + k], 0x20);
        w[8 * h + 4 + k] = _mm256_permute2x128_si256(r[k], r[4 + k], 0x31);
      }
    }
    __m256i a0 = a, b0 = b, c0 = c, d0 = d;
#define MD5_F(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define MD5_G(x, y, z) _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
#define MD5_H(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define MD5_I(x, y, z) _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
#define MD5_STEP(fn, a, b, c, d, word, shift, k)                                                \
  do {                                                                                          \
    __m256i s_ =                                                                                \
        _mm256_add_epi32(_mm256_add_epi32(a, fn(b, c, d)),                                      \
                         _mm256_add_epi32(w[word], _mm256_set1_epi32(static_cast<int>(k))));    \
    a = _mm256_add_epi32(                                                                       \
        b, _mm256_or_si256(_mm256_slli_epi32(s_, shift), _mm256_srli_epi32(s_, 32 - (shift)))); \
  } while (0)
#include "base/md5_rounds.inc"
#undef MD5_STEP
#undef MD5_F
#undef MD5_G
#undef MD5_H
#undef MD5_I
    a = _mm256_add_epi32(a, a0);
    b = _mm256_add_epi32(b, b0);
    c = _mm256_add_epi32(c, c0);
    d = _mm256_add_epi32(d, d0);
  }
  _mm256_storeu_si256(st, a);
  _mm256_storeu_si256(st + 1, b);
  _mm256_storeu_si256(st + 2, c);
  _mm256_storeu_si256(st + 3, d);
}

}  // namespace coroner::md5_detail

#endif  // __x86_64__
