-- Jobs are leased by the station instance running them (issue 16): the
-- instance renews the lease while it runs the job, and another instance on
-- the same database takes over (fails it cleanly, or waits for its proof of
-- commit) once the lease has run out, because its owner died with it.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until_ms INTEGER;
CREATE INDEX jobs_running_lease ON jobs(lease_until_ms)
    WHERE state NOT IN ('PROVISIONED', 'FAILED');
