-- contrib/bench/pgbench/users_add.sql — what chatd's users/add runs.
-- A template: contrib/bench/run replaces each "-- @query NAME ARGS" line by
-- the SQL of query NAME in src/queries.c, $1, $2, ... replaced by ARGS in
-- order, ended by ";" (or by "\aset" when that ends the line). So pgbench
-- runs exactly the handler's SQL, prepared (-M prepared), with parameter
-- types inferred as they are for chatd's PQprepare.
-- The username is a random integer's digits (text, like the names wrk sends;
-- a repeat would be a 409 for chatd and an empty result here).
\set name random(1, 9000000000000000000)
-- @query user_add :name
