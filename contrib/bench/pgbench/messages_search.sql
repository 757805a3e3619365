-- contrib/bench/pgbench/messages_search.sql — what chatd runs for
-- messages/search {"query"} with a bearer token: the session check
-- (src/auth.c), then the search (no "chat", no "before": INT64_MAX, limit
-- 50), and only when it finds nothing whether the query was usable.
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, query.
\set before 9223372036854775807
\set id 0
-- @query auth_session :tok_id :idle
-- @query messages_search :caller :query :before 50 NULL \aset
\if :id = 0
-- @query messages_search_usable :query
\endif
