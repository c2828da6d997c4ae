-- The fail-safe commit (issue 11): what a job needs to record PROVISIONED
-- when the monitor's proof of commit arrives as a heartbeat, possibly after
-- a restart, and until when the station waits for it.
ALTER TABLE jobs ADD COLUMN confirm_by_ms      INTEGER NULL;
ALTER TABLE jobs ADD COLUMN configuration_hash TEXT    NULL;
ALTER TABLE jobs ADD COLUMN monitor_address    TEXT    NULL;

-- A monitor presenting a certificate the station refused (revoked or
-- replaced) believes it is paired and is not: raised on its status.
ALTER TABLE devices ADD COLUMN alert    TEXT    NULL;
ALTER TABLE devices ADD COLUMN alert_ms INTEGER NULL;
