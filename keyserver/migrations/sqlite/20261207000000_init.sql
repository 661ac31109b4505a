-- The key server's state. Nothing here opens an envelope or tests a password guess
-- without the server secrets file (OPRF seed, AKE key, pepper), which is not in the database.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,                 -- random, hex; the OPAQUE credential id
    email TEXT NOT NULL UNIQUE,
    record BLOB,                         -- OPAQUE registration record; NULL until registered
    enrol_token_hash TEXT,               -- SHA-256 (hex) of the one-time enrolment token
    enrol_expires BIGINT NOT NULL,
    created BIGINT NOT NULL
);
CREATE TABLE envelopes (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    version BIGINT NOT NULL,
    body BLOB NOT NULL,                  -- sealed on the device; see keyserver/src/envelope.rs
    updated BIGINT NOT NULL
);
CREATE TABLE login_throttle (
    name_key TEXT PRIMARY KEY,           -- HMAC(pepper, e-mail address), hex; unknown names too
    window_start BIGINT NOT NULL,
    starts BIGINT NOT NULL
);
CREATE TABLE login_sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT,                     -- NULL when an unknown name was tried
    name_key TEXT NOT NULL,
    state BLOB NOT NULL,                 -- server login state, sealed under a key from the pepper
    expires BIGINT NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,            -- P-256, signs the device's requests
    token_hash TEXT NOT NULL UNIQUE,     -- SHA-256 (hex) of the device token
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    revoked BIGINT
);
CREATE INDEX devices_account ON devices (account_id);
CREATE TABLE audit_log (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    hash BLOB NOT NULL,                  -- SHA-256 over the previous hash and this entry
    PRIMARY KEY (account_id, seq)
);
