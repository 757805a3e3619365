-- contrib/bench/pgbench/messages_get_page.sql — what chatd's messages/get
-- runs for {"chat", "after", "limit"}: the page (messages_get_oldest), and
-- only when it is empty the chat's existence (messages_get_chat: 404 or
-- []). chat random in chat_lo..chat_hi, after in after_lo..after_hi;
-- without "before" chatd sends INT64_MAX.
-- Template: see users_add.sql. Variables (pgbench -D): chat_lo, chat_hi,
-- after_lo, after_hi, limit. \aset leaves id at 0 when no row came back.
\set chat random(:chat_lo, :chat_hi)
\set after random(:after_lo, :after_hi)
\set before 9223372036854775807
\set id 0
-- @query messages_get_oldest :chat :after :before :limit \aset
\if :id = 0
-- @query messages_get_chat :chat
\endif
