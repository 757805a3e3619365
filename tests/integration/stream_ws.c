/*
 * stream_ws.c - the WebSocket side of a stream (RFC 6455): the upgrade
 * request and its check, frames in (any length, fragmented messages,
 * control frames between fragments) and out (always masked).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stream_int.h"
#include "sha1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9,
	OP_PONG = 10 };

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_for(const char *key, char out[29])
{
	unsigned char d[20];
	struct sha1 h;

	sha1_init(&h);
	sha1_update(&h, key, strlen(key));
	sha1_update(&h, ws_guid, sizeof ws_guid - 1);
	sha1_final(&h, d);
	sodium_bin2base64(out, 29, d, sizeof d, sodium_base64_VARIANT_ORIGINAL);
}

void ws_request_headers(struct stream *s, struct sbuf *req)
{
	unsigned char nonce[16];
	char line[128];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(nonce, sizeof nonce);
	sodium_bin2base64(s->ws_key, sizeof s->ws_key, nonce, sizeof nonce,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof line, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", s->ws_key);
	sbuf_puts(req, line);
}

const char *stream_ws_key(const struct stream *s)
{
	return s->ws_key;
}

bool ws_accept_head(struct stream *s)
{
	char v[128], want[29];

	if (!stream_header(s, "Upgrade", v, sizeof v) || strcasecmp(v, "websocket")) {
		stream_end(s, "101 without Upgrade: websocket");
		return false;
	}
	if (!stream_header(s, "Connection", v, sizeof v) || !strcasestr(v, "upgrade")) {
		stream_end(s, "101 without Connection: Upgrade");
		return false;
	}
	ws_accept_for(s->ws_key, want);
	if (!stream_header(s, "Sec-WebSocket-Accept", v, sizeof v) ||
	    strcmp(v, want)) {
		stream_end(s, "wrong Sec-WebSocket-Accept");
		return false;
	}
	return true;
}

/* Queue one masked frame with FIN set. */
static void ws_frame(struct stream *s, int opcode, const void *p, size_t n)
{
	unsigned char hdr[14], mask[4];
	size_t h = 2, i, start;
	int k;

	hdr[0] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		hdr[1] = (unsigned char)(0x80 | n);
	} else if (n <= 0xffff) {
		hdr[1] = 0x80 | 126;
		hdr[2] = (unsigned char)(n >> 8), hdr[3] = (unsigned char)n;
		h = 4;
	} else {
		hdr[1] = 0x80 | 127;
		for (k = 0; k < 8; k++)
			hdr[2 + k] = (unsigned char)((uint64_t)n >> (56 - 8 * k));
		h = 10;
	}
	randombytes_buf(mask, sizeof mask);
	memcpy(hdr + h, mask, 4);
	sbuf_add(&s->out, hdr, h + 4);
	start = s->out.len;
	sbuf_add(&s->out, p, n);
	for (i = 0; i < n; i++)
		s->out.p[start + i] ^= (char)mask[i % 4];
}

int stream_ws_send(struct stream *s, int opcode, const void *p, size_t n)
{
	if (s->kind != STREAM_WS || s->close_sent || s->phase == PH_DONE)
		return -1;
	ws_frame(s, opcode, p, n);
	return 0;
}

int stream_ws_close(struct stream *s, int code)
{
	unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};

	if (s->kind != STREAM_WS || s->close_sent || s->phase == PH_DONE)
		return -1;
	ws_frame(s, OP_CLOSE, b, 2);
	s->close_sent = true;
	return 0;
}

int stream_ws_close_code(const struct stream *s)
{
	return s->close_received ? s->close_code : 0;
}

/* A complete frame's payload (unmasked). -1 ends the stream. */
static int ws_frame_in(struct stream *s, bool fin, int op, const char *p,
		       size_t n)
{
	switch (op) {
	case OP_PING:
		s->st.pings++;
		if (!s->close_sent)
			ws_frame(s, OP_PONG, p, n);
		return 0;
	case OP_PONG:
		return 0;
	case OP_CLOSE:
		s->close_received = true;
		s->close_code = n >= 2 ?
		    ((unsigned char)p[0] << 8 | (unsigned char)p[1]) : 1005;
		if (!s->close_sent) {
			unsigned char b[2] = {(unsigned char)(s->close_code >> 8),
			    (unsigned char)s->close_code};

			ws_frame(s, OP_CLOSE, b, s->close_code == 1005 ? 0 : 2);
			s->close_sent = true;
		}
		if (s->fd < 0)  /* a parser alone: nothing to send it on */
			stream_end(s, NULL);
		return 0;
	case OP_TEXT:
	case OP_BINARY:
		if (s->msg_opcode)
			return stream_end(s, "new message inside a fragmented one");
		s->msg_opcode = op;
		break;
	case OP_CONT:
		if (!s->msg_opcode)
			return stream_end(s, "continuation without a message");
		break;
	default:
		return stream_end(s, "unknown opcode");
	}
	if (s->msg.len + n > STREAM_MSG_MAX)
		return stream_end(s, "message too large");
	sbuf_add(&s->msg, p, n);
	if (fin) {
		size_t len = s->msg.len;

		stream_push(s, sbuf_steal(&s->msg), len,
		    strdup(s->msg_opcode == OP_TEXT ? "text" : "binary"), NULL);
		s->msg_opcode = 0;
	}
	return 0;
}

int ws_feed(struct stream *s, const char *p, size_t n)
{
	size_t off = 0;

	sbuf_add(&s->in, p, n);
	while (s->phase != PH_DONE) {
		const unsigned char *b = (const unsigned char *)s->in.p + off;
		size_t have = s->in.len - off, h = 2, i;
		uint64_t len;
		bool fin, masked;
		int op;

		if (have < 2)
			break;
		fin = b[0] & 0x80;
		op = b[0] & 0x0f;
		if (b[0] & 0x70)
			return stream_end(s, "reserved bits set");
		masked = b[1] & 0x80;
		len = b[1] & 0x7f;
		if (len == 126) {
			if (have < 4)
				break;
			len = (uint64_t)b[2] << 8 | b[3];
			h = 4;
		} else if (len == 127) {
			if (have < 10)
				break;
			for (len = 0, i = 0; i < 8; i++)
				len = len << 8 | b[2 + i];
			h = 10;
		}
		if (op >= 8 && (!fin || len > 125))
			return stream_end(s, "bad control frame");
		if (len > STREAM_MSG_MAX)
			return stream_end(s, "frame too large");
		if (masked) {
			/* RFC 6455 5.1: a client fails on a masked frame. */
			return stream_end(s, "masked frame from the server");
		}
		if (have < h + len)
			break;
		if (ws_frame_in(s, fin, op, (const char *)b + h, (size_t)len) < 0)
			return -1;
		off += h + (size_t)len;
	}
	sbuf_consume(&s->in, off);
	return s->phase == PH_DONE && s->error[0] ? -1 : 0;
}
