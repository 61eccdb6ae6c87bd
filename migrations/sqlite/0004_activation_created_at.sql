-- When Adobe issued the code (epoch ms), for the time from code to signed-in. Activations
-- started before this column existed keep 0 and are left out of that measure.
ALTER TABLE activations ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
