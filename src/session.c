#include "config.h"

#include <stdio.h>

#include <sodium.h>

#include "auth.h"
#include "decode.h"
#include "json_out.h"
#include "reply.h"
#include "session.h"

bool decode_credentials(const json_t *root, struct credentials *c,
    struct decode_ctx *d)
{
	c->username = decode_text(root, "username",
	    decode_limits.username_max, d);
	if (c->username == NULL)
		return false;
	c->password = decode_password(root, "password", &c->password_len, d);
	return c->password != NULL;
}

void session_new(struct session_new *s)
{
	struct token_hash h;

	token_new(s->token, &h);
	token_hex(h.id, s->id);
	token_hex(h.check, s->check);
	sodium_memzero(&h, sizeof h);
}

enum api_error session_reply(struct reply *r, char *const *envp,
    int status, int64_t user, int64_t expires_pg, struct session_new *s)
{
	enum api_error e = API_OK;

	if (!auth_cookie(r, envp, s->token)) {
		e = reply_fail(r, API_INTERNAL, "the session cookie could not "
		    "be set");
	} else {
		buf_puts(&r->body, "{\"id\":");
		json_out_id(&r->body, user);
		buf_puts(&r->body, ",\"token\":");
		json_out_string(&r->body, s->token, TOKEN_CHARS);
		buf_puts(&r->body, ",\"expires_at\":");
		json_out_time(&r->body, expires_pg);
		buf_puts(&r->body, "}\n");
		r->status = status;
	}
	sodium_memzero(s->token, sizeof s->token);
	return e;
}
