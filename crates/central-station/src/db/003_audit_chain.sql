-- A tamper-evident audit (issue 12): who acted from where, what the event
-- concerned when it is not a monitor (an account), and the hash chain. Each
-- row's hash covers its content and the previous row's hash; rows written
-- before this migration are chained by the station as it applies it.
ALTER TABLE provisioning_events ADD COLUMN source_address TEXT NULL;
ALTER TABLE provisioning_events ADD COLUMN subject        TEXT NULL;
ALTER TABLE provisioning_events ADD COLUMN prev_hash      TEXT NULL;
ALTER TABLE provisioning_events ADD COLUMN row_hash       TEXT NULL;
