-- What operators set per provider at runtime (normal, notice, hidden), with the notice by
-- language (JSON), when it lapses (epoch ms), and who set it, when and why.
CREATE TABLE provider_states (
    mvpd       TEXT PRIMARY KEY,
    mode       TEXT NOT NULL CHECK (mode IN ('normal', 'notice', 'hidden')),
    message    TEXT NOT NULL,
    until      INTEGER,
    changed_by TEXT NOT NULL,
    reason     TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
