-- Accounts administrators manage from the app (issue 14).
-- A password an administrator had the station choose (a new account, a
-- reset) must be changed before the account may do anything else.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
-- The last successful sign-in, for the accounts list.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER NULL;
-- Bumped whenever the account's credentials stop being good (its password
-- reset or changed, the account disabled). A session works only while it
-- carries the account's current version, so no session opened before the
-- change survives it — not even one whose sign-in checked the old password
-- while the change was being committed.
ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions(user_id, revoked_at);
