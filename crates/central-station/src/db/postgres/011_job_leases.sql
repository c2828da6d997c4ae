-- Jobs are leased by the station instance running them (issue 16): see the
-- SQLite migration of the same number.
ALTER TABLE jobs ADD COLUMN owner TEXT COLLATE "C";
ALTER TABLE jobs ADD COLUMN lease_until_ms BIGINT;
CREATE INDEX jobs_running_lease ON jobs(lease_until_ms)
    WHERE state NOT IN ('PROVISIONED', 'FAILED');

-- What the other instances on the database hear of (issue 16): a committed
-- job step, a revoked certificate (their CRL and TLS), a revoked session
-- (their event streams). Notifications are sent on commit, in commit order,
-- and a transaction's identical ones are sent once.
CREATE FUNCTION zpair_job_event_committed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('zpair_job_events', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
    FOR EACH ROW EXECUTE FUNCTION zpair_job_event_committed();

CREATE FUNCTION zpair_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END
$$;
CREATE TRIGGER certificates_notify AFTER UPDATE OF revoked_at ON certificates
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION zpair_revoked('zpair_certificates');
CREATE TRIGGER sessions_notify AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION zpair_revoked('zpair_sessions');
