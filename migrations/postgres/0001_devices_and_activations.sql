-- Devices (one row per registration of a TV app install), their DCR client credentials, and their
-- activations. The same shape as the SQLite schema (migrations/sqlite), in one step.

CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY,          -- the registration's device id at Adobe
    app_device_id TEXT NOT NULL,             -- the id the Streaming App sent
    device_info   TEXT NOT NULL,             -- JSON, as the Streaming App described itself
    token_hash    TEXT NOT NULL UNIQUE,      -- SHA-256 of the current device token
    last_provider TEXT,                      -- the MVPD this device last signed in with
    registered_at BIGINT NOT NULL,           -- epoch ms of the first registration
    updated_at    BIGINT NOT NULL
);

CREATE INDEX devices_by_app_device_id ON devices (app_device_id);

-- Kept forever: re-registering a device with Adobe would orphan its viewers' profiles. The
-- primary key makes two nodes racing to save a device's first credentials keep one.
CREATE TABLE client_credentials (
    device_id     TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL              -- client secret, sealed with the secrets key
);

CREATE TABLE activations (
    code       TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (device_id),
    provider   TEXT,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'authenticated', 'expired', 'cancelled', 'superseded')),
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX activations_by_device ON activations (device_id, status);
CREATE INDEX activations_by_expiry ON activations (expires_at);
