-- The hashed AP-TempPass-Identity of a device's promotional TempPass (base64 JSON of SHA-256
-- hashes, never the viewer's email), sent with every call about that TempPass. Cleared when the
-- device signs in with another provider.
ALTER TABLE devices ADD COLUMN temp_pass_identity TEXT;
