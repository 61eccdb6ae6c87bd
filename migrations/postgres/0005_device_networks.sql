-- The network a device was last seen on: a pseudonym (keyed hash) of its address prefix (IPv4
-- /24, IPv6 /56), never the address, and when (epoch ms). A registration without the device's
-- token inherits its Adobe identity only from that network, within a window. Rows from before
-- have none (seen_at 0), so they are inherited by nobody until the device calls again.
ALTER TABLE devices ADD COLUMN network TEXT;
ALTER TABLE devices ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;
