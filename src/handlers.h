/* The handlers of the API, one file each (users_add.c, chats_add.c, ...).
 * Each has the handler_fn contract of router.h. */
#ifndef CHATD_HANDLERS_H
#define CHATD_HANDLERS_H

#include "router.h"

handler_fn users_add;
handler_fn chats_add;
handler_fn messages_add;
handler_fn chats_get;
handler_fn messages_get;

#endif
