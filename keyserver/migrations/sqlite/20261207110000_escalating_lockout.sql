-- Escalating lockout: each name's current window length. A window in which the guess limit
-- was reached is followed by one twice as long (up to a cap), until a login succeeds. Rows
-- from before this migration get the default window (15 minutes).
ALTER TABLE login_throttle ADD COLUMN window_len BIGINT NOT NULL DEFAULT 900;
