-- chatd schema, version 17: an upload's quota check reads one number, the
-- bytes the uploader's files hold, instead of summing their files.
--
-- Version 9's chatd_file_add summed files.size over the uploader's rows
-- (an index-only scan of files_uploader_idx) for every upload: linear in
-- the number of files the user ever uploaded. Measured on the files
-- benchmark, whose caller had uploaded 5,080 files: 1.9-2.4 ms of the
-- upload's statement, most of a 1 MiB upload's cost in chatd beyond
-- nginx's own.
--
-- users.files_bytes is that sum, kept by triggers in the transaction that
-- inserts or deletes a file (a file's row never changes otherwise), so it
-- is exact whenever a transaction reads it: an upload reads it under the
-- uploader's row lock, which the insert's own trigger then updates. A
-- TRUNCATE of files sets every user's count to 0.

ALTER TABLE users ADD COLUMN files_bytes bigint NOT NULL DEFAULT 0
	CHECK (files_bytes >= 0);
UPDATE users u SET files_bytes = s.bytes
  FROM (SELECT uploader_id, sum(size)::bigint AS bytes
          FROM files GROUP BY uploader_id) s
 WHERE u.id = s.uploader_id;

CREATE FUNCTION chatd_files_bytes_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE users SET files_bytes = files_bytes + NEW.size
		 WHERE id = NEW.uploader_id;
		RETURN NEW;
	END IF;
	UPDATE users SET files_bytes = files_bytes - OLD.size
	 WHERE id = OLD.uploader_id;
	RETURN OLD;
END
$$;
CREATE TRIGGER files_bytes_row AFTER INSERT OR DELETE ON files
	FOR EACH ROW EXECUTE FUNCTION chatd_files_bytes_row();
-- A file's size and uploader are fixed once it is recorded.
CREATE FUNCTION chatd_files_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'a file''s size and uploader never change';
END
$$;
CREATE TRIGGER files_fixed BEFORE UPDATE OF size, uploader_id ON files
	FOR EACH ROW WHEN (NEW.size IS DISTINCT FROM OLD.size OR
	                   NEW.uploader_id IS DISTINCT FROM OLD.uploader_id)
	EXECUTE FUNCTION chatd_files_fixed();

CREATE FUNCTION chatd_files_bytes_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE users SET files_bytes = 0 WHERE files_bytes <> 0;
	RETURN NULL;
END
$$;
CREATE TRIGGER files_bytes_truncate AFTER TRUNCATE ON files
	FOR EACH STATEMENT EXECUTE FUNCTION chatd_files_bytes_truncate();

-- files/upload, version 2: the same contract as version 9's; used is read
-- from users.files_bytes under the uploader's row lock.
CREATE OR REPLACE FUNCTION chatd_file_add(p_user bigint, p_name text,
	p_size bigint, p_type text, p_sha256 bytea, p_stored text,
	p_quota bigint, OUT file_id bigint, OUT used bigint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT u.files_bytes INTO used FROM users u WHERE u.id = p_user
	   FOR NO KEY UPDATE;
	used := coalesce(used, 0);
	IF p_quota > 0 AND used + p_size > p_quota THEN
		RETURN;
	END IF;
	INSERT INTO files (uploader_id, name, size, content_type, sha256,
	                   stored)
	VALUES (p_user, p_name, p_size, p_type, p_sha256, p_stored)
	RETURNING id INTO file_id;
END
$$;
