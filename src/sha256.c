#include "config.h"

#include <string.h>

#include "sha256.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_NI_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t initial[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#ifdef HAVE_NI_CODE
/* The round constants (FIPS 180-4 4.2.2). */
static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Asked of the CPU once per process, not once per upload. */
static bool ask_cpu(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    !(c & (1u << 9)) || !(c & (1u << 19)))	/* SSSE3, SSE4.1 */
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & (1u << 29));				/* SHA */
}

bool sha256_ni_available(void)
{
	static int known = -1;

	if (known < 0)
		known = ask_cpu();
	return known;
}

/* Hashing n whole blocks of p into h: the instructions keep the state as
 * two registers, ABEF and CDGH (the words named as in FIPS 180-4), and
 * take the message four words at a time; each 128-bit group of the
 * schedule is made from the four before it (sha256msg1 adds sigma0 of the
 * words 15 back to those 16 back, the words 7 back are added, sha256msg2
 * adds sigma1 of those 2 back). */
/* Four rounds with the message words m (already with their constants
 * added). */
#define ROUNDS4(m) do { \
	cdgh = _mm_sha256rnds2_epu32(cdgh, abef, (m)); \
	abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32((m), 0x0E)); \
} while (0)
/* The schedule's next group, into a (the group four back): from a, b, c,
 * d, the four groups before it, oldest first. */
#define NEXT(a, b, c, d) \
	((a) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((a), \
	    (b)), _mm_alignr_epi8((d), (c), 4)), (d)))
#define KG(i) _mm_load_si128((const __m128i *)&K[4 * (i)])

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	/* Each 32-bit word of the message is big-endian. */
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i abef, cdgh, t, w0, w1, w2, w3, save0, save1;
	int i;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]),
	    0x1B);
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xF0);
	for (; n > 0; n--, p += 64) {
		save0 = abef;
		save1 = cdgh;
		w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
		w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)),
		    swap);
		w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)),
		    swap);
		w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)),
		    swap);
		ROUNDS4(_mm_add_epi32(w0, KG(0)));
		ROUNDS4(_mm_add_epi32(w1, KG(1)));
		ROUNDS4(_mm_add_epi32(w2, KG(2)));
		ROUNDS4(_mm_add_epi32(w3, KG(3)));
		for (i = 4; i < 16; i += 4) {
			NEXT(w0, w1, w2, w3);
			ROUNDS4(_mm_add_epi32(w0, KG(i)));
			NEXT(w1, w2, w3, w0);
			ROUNDS4(_mm_add_epi32(w1, KG(i + 1)));
			NEXT(w2, w3, w0, w1);
			ROUNDS4(_mm_add_epi32(w2, KG(i + 2)));
			NEXT(w3, w0, w1, w2);
			ROUNDS4(_mm_add_epi32(w3, KG(i + 3)));
		}
		abef = _mm_add_epi32(abef, save0);
		cdgh = _mm_add_epi32(cdgh, save1);
	}
	t = _mm_shuffle_epi32(abef, 0x1B);
	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));
}
#else
bool sha256_ni_available(void)
{
	return false;
}

static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h;
	(void)p;
	(void)n;
}
#endif

void sha256_init(struct sha256 *s, bool ni)
{
	s->ni = ni && sha256_ni_available();
	if (!s->ni) {
		crypto_hash_sha256_init(&s->sodium);
		return;
	}
	memcpy(s->h, initial, sizeof initial);
	s->bytes = 0;
	s->have = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t take;

	if (!s->ni) {
		crypto_hash_sha256_update(&s->sodium, p, n);
		return;
	}
	s->bytes += n;
	if (s->have > 0) {
		take = n < 64 - s->have ? n : 64 - s->have;
		memcpy(s->block + s->have, p, take);
		s->have += take;
		p += take;
		n -= take;
		if (s->have < 64)
			return;
		blocks_ni(s->h, s->block, 1);
		s->have = 0;
	}
	blocks_ni(s->h, p, n / 64);
	memcpy(s->block, p + (n & ~(size_t)63), n & 63);
	s->have = n & 63;
}

void sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits;
	int i;

	if (!s->ni) {
		crypto_hash_sha256_final(&s->sodium, out);
		return;
	}
	bits = s->bytes * 8;
	/* The padding: a 1 bit, zeros to 56 bytes of the last block, the
	 * length in bits, big-endian. */
	s->block[s->have++] = 0x80;
	if (s->have > 56) {
		memset(s->block + s->have, 0, 64 - s->have);
		blocks_ni(s->h, s->block, 1);
		s->have = 0;
	}
	memset(s->block + s->have, 0, 56 - s->have);
	for (i = 0; i < 8; i++)
		s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks_ni(s->h, s->block, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}
