/* Changing who is in a group chat (API.md 2.3): what chats/members/add and
 * chats/members/remove share. Both take {"chat", "user"} and answer 204. */
#ifndef CHATD_MEMBERSHIP_H
#define CHATD_MEMBERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "errors.h"
#include "query.h"

struct db;
struct decode_ctx;
struct reply;

struct membership_req {
	int64_t caller, chat, user;
};

bool membership_decode(const json_t *root, void *out, struct decode_ctx *d);

/* Adds (add) or removes in->user as in->caller, under the chat's row
 * lock; 204, or 404 (no chat; add: no user; remove: user not a member),
 * 403 (caller not a member, not the owner, or the chat has no owner and
 * fixed members), 409 (a private chat). */
enum api_error membership_change(struct db *db,
    const struct membership_req *in, bool add, struct reply *r);

/* The refusal of a caller who may not see chat: 404 "chat N does not
 * exist" when !exists, else 403 "not a member". For every endpoint that
 * only a chat's members may use. */
enum api_error membership_refuse(struct reply *r, bool exists,
    const char *chat);

/* Whether user may see chat: API_OK for a member, else the refusal of
 * membership_refuse() (or 503/500 when the database fails). For a list
 * that came back empty, to tell why. */
enum api_error membership_check(struct db *db, const char *chat,
    int64_t user, struct reply *r);

/* For an outcome word of sql/006_membership.sql: true, with the refusal
 * in *err, when it is 'no_chat' or 'not_member'. */
bool membership_refused(const char *outcome, const char *chat,
    struct reply *r, enum api_error *err);

extern const struct query *const membership_queries[];

#endif
