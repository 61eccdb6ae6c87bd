-- When the device first asked Adobe to start a sign-in (an authentication session or a
-- TempPass), epoch ms; NULL: never. Until then its Adobe identity holds no profile, so a
-- registration that never started one and stays idle past a window is deleted with its
-- credentials. Rows from before are taken to have started one: they are never reclaimed.
ALTER TABLE devices ADD COLUMN sign_in_started_at INTEGER;
UPDATE devices SET sign_in_started_at = registered_at;
CREATE INDEX devices_never_signed_in ON devices (seen_at) WHERE sign_in_started_at IS NULL;
