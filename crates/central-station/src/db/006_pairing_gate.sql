-- The pairing gate (issue 12). A step-up confirmation is bound to the
-- session, the device and the action it was asked for; rows from before
-- have none and match nothing.
ALTER TABLE confirmations ADD COLUMN session_id INTEGER NULL;
ALTER TABLE confirmations ADD COLUMN device_id  TEXT    NULL;
ALTER TABLE confirmations ADD COLUMN action     TEXT    NULL;

-- A confirmed re-provisioning authorises one pairing of the device until
-- this time; the pairing that reaches PROVISIONED clears it.
ALTER TABLE devices ADD COLUMN pairing_allowed_until_ms INTEGER NULL;

-- Administrators re-admitting de-provisioned monitors, with their reason.
CREATE TABLE device_readmissions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT    NOT NULL REFERENCES devices(device_id),
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
