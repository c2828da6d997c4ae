-- The audit log is append-only: the database itself refuses to change or
-- remove a row, whatever code (or SQL) asks.
CREATE TRIGGER provisioning_events_no_update
BEFORE UPDATE ON provisioning_events
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be updated');
END;

CREATE TRIGGER provisioning_events_no_delete
BEFORE DELETE ON provisioning_events
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted');
END;
