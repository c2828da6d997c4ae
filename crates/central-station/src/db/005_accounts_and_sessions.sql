-- Sign-in attempts, counted before a password is checked so a burst cannot
-- outrun the count. `subject` is 'account:<username as typed>' (known or not,
-- so unknown names are answered like known ones) or 'client:<source address>'.
CREATE TABLE sign_in_attempts (
    subject       TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_ends   INTEGER NOT NULL,
    locked_until  INTEGER NULL
);

-- The end of the sign-in a session belongs to (its shift): refreshes never
-- move it.
ALTER TABLE sessions ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET ends_at = refresh_expires_at;

-- An administrator disabled the account: it cannot sign in, its tokens stop working.
ALTER TABLE users ADD COLUMN disabled_at INTEGER NULL;
