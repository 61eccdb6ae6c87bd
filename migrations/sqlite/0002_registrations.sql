-- Each registration without the device's current token gets its own identity at Adobe, so one
-- app device id may have several registrations. `device_id` stays the key (the id Adobe knows,
-- sent as AP-Device-Identifier); `app_device_id` is what the Streaming App sent. Rows from before
-- this migration registered under the app's own id, so both columns hold it.
ALTER TABLE devices ADD COLUMN app_device_id TEXT NOT NULL DEFAULT '';
UPDATE devices SET app_device_id = device_id;
CREATE INDEX devices_by_app_device_id ON devices (app_device_id);
