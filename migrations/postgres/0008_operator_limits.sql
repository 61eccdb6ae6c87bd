-- The limits operators set at runtime (one row at most), over the configured ones until
-- deleted, with who set them, when and why.
CREATE TABLE operator_limits (
    id                                 INTEGER PRIMARY KEY CHECK (id = 1),
    registrations_per_second           BIGINT NOT NULL,
    adobe_steps_per_address_per_second BIGINT NOT NULL,
    max_concurrent_polls               BIGINT NOT NULL,
    changed_by                         TEXT NOT NULL,
    reason                             TEXT NOT NULL,
    changed_at                         BIGINT NOT NULL
);
