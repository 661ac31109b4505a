-- Password changes: OPAQUE has none, so a logged-in client registers again. The ticket
-- (single use, 60 seconds) is issued only after a complete login with the current password
-- and carries the envelope version the change replaces.
CREATE TABLE password_changes (
    ticket_hash TEXT PRIMARY KEY,        -- SHA-256 (hex) of the ticket
    account_id TEXT NOT NULL REFERENCES accounts (id),
    envelope_version BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
-- The record a login started with (SHA-256, hex; NULL for unknown names): a login started
-- before a password change cannot complete after it with the old password.
ALTER TABLE login_sessions ADD COLUMN record_hash TEXT;
