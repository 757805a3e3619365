/* sha1.c - SHA-1 as FIPS 180-4 section 6.1 states it (see sha1.h). */
#include "sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

/* One 64-byte block into the state. */
static void sha1_block(uint32_t h[5], const unsigned char *b)
{
	uint32_t w[80], a, bb, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		    (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (bb & c) | (~bb & d), k = 0x5a827999;
		else if (i < 40)
			f = bb ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (bb & c) | (bb & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = bb ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(bb, 30), bb = a, a = t;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe,
	    0x10325476, 0xc3d2e1f0};

	memcpy(s->h, iv, sizeof iv);
	s->bytes = 0;
}

void sha1_update(struct sha1 *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t have = s->bytes % 64, take;

	s->bytes += n;
	if (have) {
		take = 64 - have < n ? 64 - have : n;
		memcpy(s->block + have, b, take);
		b += take, n -= take;
		if (have + take < 64)
			return;
		sha1_block(s->h, s->block);
	}
	for (; n >= 64; b += 64, n -= 64)
		sha1_block(s->h, b);
	memcpy(s->block, b, n);
}

void sha1_final(struct sha1 *s, unsigned char out[20])
{
	static const unsigned char pad[64] = {0x80};
	uint64_t bits = s->bytes * 8;
	unsigned char len[8];
	size_t have = s->bytes % 64;
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, have < 56 ? 56 - have : 120 - have);
	sha1_update(s, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void sha1(const void *p, size_t n, unsigned char out[20])
{
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, p, n);
	sha1_final(&s, out);
}
