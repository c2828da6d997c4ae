-- What the administrators' screens ask of the station (issue 14).

-- The audit log, filtered and paged newest first (keyset on id) over
-- hundreds of thousands of rows: each filter walks its own index in id
-- order, and a pairing's retries are counted by job.
CREATE INDEX provisioning_events_actor ON provisioning_events(actor, id);
CREATE INDEX provisioning_events_type  ON provisioning_events(event_type, id);
CREATE INDEX provisioning_events_time  ON provisioning_events(timestamp, id);
CREATE INDEX provisioning_events_job   ON provisioning_events(job_id);

-- Pairing reports by the time a job was asked for, and each step's time in
-- milliseconds (`at` keeps whole seconds, too coarse for how long a
-- pairing took).
CREATE INDEX jobs_created ON jobs(created_at);
ALTER TABLE job_events ADD COLUMN at_ms INTEGER NULL;

-- The certificates overview: recent revocations and renewals.
CREATE INDEX certificates_revoked ON certificates(revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_renewed ON certificates(issued_at) WHERE renews IS NOT NULL;

-- An import's serial and identity-key checks.
CREATE INDEX devices_serial ON devices(device_serial);
CREATE INDEX devices_identity ON devices(identity_public_key);
