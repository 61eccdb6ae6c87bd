-- Devices (TV app installs), their DCR client credentials, and their activations.

CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY NOT NULL,
    device_info   TEXT NOT NULL,            -- JSON, as the Streaming App described itself
    token_hash    TEXT NOT NULL UNIQUE,     -- SHA-256 of the current device token; older ones are revoked
    last_provider TEXT,                     -- the MVPD this device last signed in with
    registered_at INTEGER NOT NULL,         -- epoch ms of the first registration
    updated_at    INTEGER NOT NULL
);

-- Kept forever: re-registering a device with Adobe would orphan its viewers' profiles.
-- Not tied to `devices`: the service's own readiness probe has credentials but no token.
CREATE TABLE client_credentials (
    device_id     TEXT PRIMARY KEY NOT NULL,
    client_id     TEXT NOT NULL,
    sealed_secret BLOB NOT NULL              -- client secret, encrypted with the store key
);

CREATE TABLE activations (
    code       TEXT PRIMARY KEY NOT NULL,
    device_id  TEXT NOT NULL REFERENCES devices (device_id),
    provider   TEXT,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'authenticated', 'expired', 'cancelled', 'superseded')),
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX activations_by_device ON activations (device_id, status);
CREATE INDEX activations_by_expiry ON activations (expires_at);
