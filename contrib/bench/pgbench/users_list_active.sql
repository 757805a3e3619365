-- contrib/bench/pgbench/users_list_active.sql — users/list of the online
-- users with a bearer token: the session check, then a page of 100 of
-- those online after a random id ({"status":"active"}).
-- Template: see users_add.sql. Variables (pgbench -D): tok_id, idle,
-- caller, peer_lo, peer_hi.
\set after random(:peer_lo, :peer_hi)
-- @query auth_session :tok_id :idle
-- @query users_list_active :caller :after 100
