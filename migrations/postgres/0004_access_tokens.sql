-- Access tokens persist beside the client credentials they were issued for, sealed like the
-- client secret, until they are due for refresh (epoch ms): a restart, or a device back after a
-- while, asks Adobe for no new token while the stored one is valid. Forgetting the credentials
-- (the row) forgets the token.
ALTER TABLE client_credentials ADD COLUMN sealed_token BYTEA;
ALTER TABLE client_credentials ADD COLUMN token_refresh_at BIGINT;
