-- Certificate renewal over mTLS (issue 14). A certificate issued to replace
-- another names it in `renews`; it becomes the device's own when the
-- monitor first uses it, and only then is the one it renews revoked.
-- `key_sha256` (of the CSR's public key) makes a repeated request for the
-- same key answer with the same certificate instead of issuing another.
ALTER TABLE certificates ADD COLUMN renews     TEXT NULL;
ALTER TABLE certificates ADD COLUMN key_sha256 TEXT NULL;
