-- Accounts: technicians and administrators. Passwords as Argon2id PHC strings.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('technician', 'administrator')),
    password_hash   TEXT    NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER NULL,
    created_at      INTEGER NOT NULL
);

-- One row per access/refresh pair; only SHA-256 of each token is kept.
-- `family` links the sessions a refresh chain produced, so a replayed
-- refresh token ends the whole chain.
CREATE TABLE sessions (
    id                  INTEGER PRIMARY KEY,
    family              TEXT    NOT NULL,
    user_id             INTEGER NOT NULL REFERENCES users(id),
    access_hash         BLOB    NOT NULL UNIQUE,
    access_expires_at   INTEGER NOT NULL,
    refresh_hash        BLOB    NOT NULL UNIQUE,
    refresh_expires_at  INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    refreshed_at        INTEGER NULL,
    revoked_at          INTEGER NULL
);
CREATE INDEX sessions_family ON sessions(family);

-- Step-up confirmations for re-provisioning: one use, a few minutes.
CREATE TABLE confirmations (
    token_hash  BLOB    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER NULL,
    created_at  INTEGER NOT NULL
);

-- Every client certificate the device CA issued.
CREATE TABLE certificates (
    serial          TEXT    PRIMARY KEY,
    device_id       TEXT    NOT NULL,
    job_id          TEXT    NULL,
    not_before      INTEGER NOT NULL,
    not_after       INTEGER NOT NULL,
    issued_at       INTEGER NOT NULL,
    revoked_at      INTEGER NULL,
    revocation_reason TEXT  NULL,
    pem             TEXT    NOT NULL
);
CREATE INDEX certificates_device ON certificates(device_id);

-- The registry: monitors the station may pair, from their registration records.
CREATE TABLE devices (
    device_id           TEXT    PRIMARY KEY,
    device_serial       TEXT    NOT NULL,
    identity_public_key TEXT    NOT NULL,
    firmware_version    TEXT    NOT NULL,
    ip_address          TEXT    NULL,
    device_label        TEXT    NOT NULL,
    bed_id              TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    state_before_pairing TEXT   NULL,
    server_url          TEXT    NULL,
    certificate_serial  TEXT    NULL,
    last_heartbeat_ms   INTEGER NULL,
    uptime_seconds      INTEGER NOT NULL DEFAULT 0,
    heartbeats          INTEGER NOT NULL DEFAULT 0,
    bytes_sent          INTEGER NOT NULL DEFAULT 0,
    errors              INTEGER NOT NULL DEFAULT 0,
    registered_at       INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- Pairing jobs and each state they reached.
CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    device_id   TEXT    NOT NULL REFERENCES devices(device_id),
    technician  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    reason      TEXT    NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_device ON jobs(device_id, state);

CREATE TABLE job_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  TEXT    NOT NULL REFERENCES jobs(id),
    state   TEXT    NOT NULL,
    reason  TEXT    NULL,
    message TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, id);

-- SHA-256 of every QR pairing token the station accepted: a token is good once.
CREATE TABLE used_pairing_tokens (
    token_hash  BLOB    PRIMARY KEY,
    device_id   TEXT    NOT NULL,
    used_at     INTEGER NOT NULL
);

-- Commands signed and sent to monitors, with the reason given.
CREATE TABLE device_commands (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT    NOT NULL,
    command     TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    issued_at   INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    delivered   BOOLEAN NOT NULL
);

-- Small counters the station keeps (the CRL number).
CREATE TABLE station_meta (
    key     TEXT    PRIMARY KEY,
    value   INTEGER NOT NULL
);

-- The seeds' audit table, exactly, plus who acted and which job it belongs to.
-- `pairing_code` stays NULL: codes are never stored.
CREATE TABLE IF NOT EXISTS provisioning_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  device_id TEXT NOT NULL,
  pairing_code TEXT NULL,
  success BOOLEAN NOT NULL,
  error_message TEXT NULL,
  configuration_hash TEXT NULL,
  actor TEXT NULL,
  job_id TEXT NULL
);
CREATE INDEX provisioning_events_device ON provisioning_events(device_id, id);
