//! All server state, in SQLite (one file, the default) or PostgreSQL (any number of
//! replicas): runtime `sqlx::query` through `sqlx::Any`, with the migrations of each
//! backend embedded and run at start (sqlx takes an advisory lock on PostgreSQL, so
//! replicas starting together are safe).
//!
//! Every check-then-change is one statement (`UPDATE … WHERE … RETURNING`, `DELETE …
//! RETURNING`, a unique key), so two replicas never both win a race.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row as _};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// A failed database operation, with the statement's purpose.
#[derive(Debug, thiserror::Error)]
#[error("database error while {doing}: {source}")]
pub struct DbError {
    doing: &'static str,
    #[source]
    source: sqlx::Error,
}

fn db(doing: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
    move |source| DbError { doing, source }
}

/// An account as login needs it.
#[derive(Debug)]
pub struct Account {
    /// Hex id.
    pub id: String,
    /// The OPAQUE registration record (None until registered).
    pub record: Option<Vec<u8>>,
}

/// A login state waiting for KE3.
#[derive(Debug)]
pub struct PendingLogin {
    /// The account (None: an unknown name was tried).
    pub account_id: Option<String>,
    /// The throttle key of the name tried.
    pub name_key: String,
    /// The sealed server state.
    pub state: Vec<u8>,
    /// SHA-256 (hex) of the registration record the login started with (None: unknown name).
    pub record_hash: Option<String>,
    /// Unix seconds after which it is void.
    pub expires: i64,
}

/// A name's login starts, as [`Store::count_login_start`] left them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCount {
    /// Starts in the current window, this one included.
    pub starts: i64,
    /// When the window began (Unix seconds).
    pub window_start: i64,
    /// Its length in seconds.
    pub window_len: i64,
}

/// A password change between its two steps.
#[derive(Debug)]
pub struct PendingPasswordChange {
    /// The account.
    pub account_id: String,
    /// The envelope version it replaces.
    pub envelope_version: i64,
    /// Unix seconds after which it is void.
    pub expires: i64,
}

/// A device, as the authentication of its requests needs it.
#[derive(Debug)]
pub struct DeviceRow {
    /// Its id.
    pub id: String,
    /// Its account.
    pub account_id: String,
    /// Its P-256 public key.
    pub public_key: Vec<u8>,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Store {
    /// Connects to `url` (`sqlite://FILE?mode=rwc` or `postgres://…`) and runs the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .connect(url)
            .await
            .map_err(db("connecting"))?;
        if sqlite {
            // Readers do not block the writer; the setting is kept in the file.
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await.map_err(db("setting WAL mode"))?;
            SQLITE.run(&pool).await.map_err(|e| DbError { doing: "migrating", source: e.into() })?;
        } else {
            POSTGRES.run(&pool).await.map_err(|e| DbError { doing: "migrating", source: e.into() })?;
        }
        Ok(Self { pool })
    }

    /// Creates an account for `email` waiting for registration with the token whose hash
    /// is `token_hash`. False if the address already has a registered account; an
    /// unregistered one gets the new token (the old one dies).
    pub async fn enrol(&self, id: &str, email: &str, token_hash: &str, expires: i64) -> Result<bool, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, email, record, enrol_token_hash, enrol_expires, created) \
             VALUES ($1, $2, NULL, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
        )
        .bind(id)
        .bind(email)
        .bind(token_hash)
        .bind(expires)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(db("enrolling"))?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        let renewed = sqlx::query(
            "UPDATE accounts SET enrol_token_hash = $2, enrol_expires = $3 WHERE email = $1 AND record IS NULL",
        )
        .bind(email)
        .bind(token_hash)
        .bind(expires)
        .execute(&self.pool)
        .await
        .map_err(db("enrolling"))?;
        Ok(renewed.rows_affected() == 1)
    }

    /// The unregistered account a valid enrolment token belongs to: (id, email).
    pub async fn enrolment(&self, token_hash: &str) -> Result<Option<(String, String)>, DbError> {
        let row = sqlx::query(
            "SELECT id, email FROM accounts WHERE enrol_token_hash = $1 AND record IS NULL AND enrol_expires > $2",
        )
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an enrolment"))?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose().map_err(db("reading an enrolment"))
    }

    /// Completes a registration in one transaction: stores the record (using the token up;
    /// false if another request used it first) and envelope version 1.
    pub async fn register(
        &self,
        account_id: &str,
        token_hash: &str,
        record: &[u8],
        envelope: &[u8],
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await.map_err(db("registering"))?;
        let used = sqlx::query(
            "UPDATE accounts SET record = $1, enrol_token_hash = NULL \
             WHERE id = $2 AND enrol_token_hash = $3 AND record IS NULL AND enrol_expires > $4",
        )
        .bind(record)
        .bind(account_id)
        .bind(token_hash)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(db("registering"))?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO envelopes (account_id, version, body, updated) VALUES ($1, 1, $2, $3)")
            .bind(account_id)
            .bind(envelope)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(db("storing the envelope"))?;
        tx.commit().await.map_err(db("registering"))?;
        Ok(true)
    }

    /// The account enrolled as `email`, registered or not.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, DbError> {
        let row = sqlx::query("SELECT id, record FROM accounts WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an account"))?;
        row.map(|r| Ok(Account { id: r.try_get(0)?, record: r.try_get(1)? }))
            .transpose()
            .map_err(db("reading an account"))
    }

    /// The registration record of the account `id` (None: no such registered account).
    pub async fn record(&self, id: &str) -> Result<Option<Vec<u8>>, DbError> {
        let row = sqlx::query("SELECT record FROM accounts WHERE id = $1 AND record IS NOT NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an account"))?;
        row.map(|r| r.try_get(0)).transpose().map_err(db("reading an account"))
    }

    /// Counts one login start for `name_key`, atomically whatever the number of replicas
    /// (one statement). A name's window is `window` seconds; a window in which `limit`
    /// starts were reached, followed by a start before another window's length has passed,
    /// is followed by one twice as long, up to `longest` (a successful login forgets it all,
    /// see [`Store::reset_login_starts`]).
    pub async fn count_login_start(
        &self,
        name_key: &str,
        window: i64,
        limit: i64,
        longest: i64,
    ) -> Result<LoginCount, DbError> {
        let now = now();
        sqlx::query(
            "INSERT INTO login_throttle (name_key, window_start, starts, window_len) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (name_key) DO NOTHING",
        )
        .bind(name_key)
        .bind(now)
        .bind(window)
        .execute(&self.pool)
        .await
        .map_err(db("counting a login"))?;
        // Every right-hand side reads the row as it was before this update.
        let row = sqlx::query(
            "UPDATE login_throttle SET \
               window_len = CASE \
                 WHEN window_start > $2 - window_len THEN window_len \
                 WHEN starts >= $4 AND window_start > $2 - 2 * window_len \
                   THEN CASE WHEN 2 * window_len > $5 THEN $5 ELSE 2 * window_len END \
                 ELSE $3 END, \
               starts = CASE WHEN window_start <= $2 - window_len THEN 1 ELSE starts + 1 END, \
               window_start = CASE WHEN window_start <= $2 - window_len THEN $2 ELSE window_start END \
             WHERE name_key = $1 RETURNING starts, window_start, window_len",
        )
        .bind(name_key)
        .bind(now)
        .bind(window)
        .bind(limit)
        .bind(longest)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting a login"))?;
        let get = |i: usize| row.try_get::<i64, _>(i).map_err(db("counting a login"));
        Ok(LoginCount { starts: get(0)?, window_start: get(1)?, window_len: get(2)? })
    }

    /// Forgets the login starts of `name_key` (after a successful login).
    pub async fn reset_login_starts(&self, name_key: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM login_throttle WHERE name_key = $1")
            .bind(name_key)
            .execute(&self.pool)
            .await
            .map_err(db("resetting the login count"))?;
        Ok(())
    }

    /// Saves a login state for KE3; any replica can take it.
    pub async fn save_login(&self, session: &str, pending: &PendingLogin) -> Result<(), DbError> {
        sqlx::query("DELETE FROM login_sessions WHERE expires < $1")
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(db("sweeping old logins"))?;
        sqlx::query(
            "INSERT INTO login_sessions (id, account_id, name_key, state, record_hash, expires) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session)
        .bind(pending.account_id.as_deref())
        .bind(&pending.name_key)
        .bind(&pending.state)
        .bind(pending.record_hash.as_deref())
        .bind(pending.expires)
        .execute(&self.pool)
        .await
        .map_err(db("saving a login"))?;
        Ok(())
    }

    /// Takes a login state (single use: a second take of the same session finds nothing).
    pub async fn take_login(&self, session: &str) -> Result<Option<PendingLogin>, DbError> {
        let row = sqlx::query(
            "DELETE FROM login_sessions WHERE id = $1 RETURNING account_id, name_key, state, record_hash, expires",
        )
        .bind(session)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("taking a login"))?;
        row.map(|r| {
            Ok(PendingLogin {
                account_id: r.try_get(0)?,
                name_key: r.try_get(1)?,
                state: r.try_get(2)?,
                record_hash: r.try_get(3)?,
                expires: r.try_get(4)?,
            })
        })
        .transpose()
        .map_err(db("taking a login"))
    }

    /// Adds a device with its public key and token hash.
    pub async fn add_device(
        &self,
        id: &str,
        account_id: &str,
        name: &str,
        public_key: &[u8],
        token_hash: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO devices (id, account_id, name, public_key, token_hash, created, last_seen, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, NULL)",
        )
        .bind(id)
        .bind(account_id)
        .bind(name)
        .bind(public_key)
        .bind(token_hash)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(db("adding a device"))?;
        Ok(())
    }

    /// The unrevoked device whose token hashes to `token_hash`; marks it seen.
    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRow>, DbError> {
        let row = sqlx::query(
            "UPDATE devices SET last_seen = $2 WHERE token_hash = $1 AND revoked IS NULL \
             RETURNING id, account_id, public_key",
        )
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a device"))?;
        row.map(|r| Ok(DeviceRow { id: r.try_get(0)?, account_id: r.try_get(1)?, public_key: r.try_get(2)? }))
            .transpose()
            .map_err(db("reading a device"))
    }

    /// The account's devices, newest first: (id, name, created, last_seen, revoked).
    pub async fn devices(&self, account_id: &str) -> Result<Vec<(String, String, i64, i64, Option<i64>)>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, created, last_seen, revoked FROM devices WHERE account_id = $1 ORDER BY created DESC, id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing devices"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db("listing devices"))
    }

    /// Revokes one of the account's devices; false if it has no such unrevoked device.
    pub async fn revoke_device(&self, account_id: &str, device_id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("UPDATE devices SET revoked = $3 WHERE account_id = $1 AND id = $2 AND revoked IS NULL")
            .bind(account_id)
            .bind(device_id)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(db("revoking a device"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The account's envelope: (version, bytes).
    pub async fn envelope(&self, account_id: &str) -> Result<Option<(i64, Vec<u8>)>, DbError> {
        let row = sqlx::query("SELECT version, body FROM envelopes WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading the envelope"))?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose().map_err(db("reading the envelope"))
    }

    /// Replaces envelope `version - 1` by `version` (compare and swap); false if the stored
    /// version is not `version - 1`.
    pub async fn replace_envelope(&self, account_id: &str, version: i64, body: &[u8]) -> Result<bool, DbError> {
        swap_envelope(&self.pool, account_id, version, body).await
    }

    /// Saves a password change between its steps, under the hash of its ticket.
    pub async fn save_password_change(
        &self,
        ticket_hash: &str,
        pending: &PendingPasswordChange,
    ) -> Result<(), DbError> {
        sqlx::query("DELETE FROM password_changes WHERE expires < $1")
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(db("sweeping old password changes"))?;
        sqlx::query(
            "INSERT INTO password_changes (ticket_hash, account_id, envelope_version, expires) VALUES ($1, $2, $3, $4)",
        )
        .bind(ticket_hash)
        .bind(&pending.account_id)
        .bind(pending.envelope_version)
        .bind(pending.expires)
        .execute(&self.pool)
        .await
        .map_err(db("saving a password change"))?;
        Ok(())
    }

    /// Takes a password change (single use).
    pub async fn take_password_change(&self, ticket_hash: &str) -> Result<Option<PendingPasswordChange>, DbError> {
        let row = sqlx::query(
            "DELETE FROM password_changes WHERE ticket_hash = $1 RETURNING account_id, envelope_version, expires",
        )
        .bind(ticket_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("taking a password change"))?;
        row.map(|r| {
            Ok(PendingPasswordChange {
                account_id: r.try_get(0)?,
                envelope_version: r.try_get(1)?,
                expires: r.try_get(2)?,
            })
        })
        .transpose()
        .map_err(db("taking a password change"))
    }

    /// Replaces the account's registration record and its envelope `version - 1` by
    /// `version` in one transaction: both or neither. False (nothing changed) if the stored
    /// envelope is no longer `version - 1`.
    pub async fn change_password(
        &self,
        account_id: &str,
        record: &[u8],
        version: i64,
        envelope: &[u8],
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await.map_err(db("changing the password"))?;
        if !swap_envelope(&mut *tx, account_id, version, envelope).await? {
            return Ok(false);
        }
        let replaced = sqlx::query("UPDATE accounts SET record = $2 WHERE id = $1 AND record IS NOT NULL")
            .bind(account_id)
            .bind(record)
            .execute(&mut *tx)
            .await
            .map_err(db("changing the password"))?;
        if replaced.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit().await.map_err(db("changing the password"))?;
        Ok(true)
    }

    /// The last entry of the account's audit chain: (seq, hash).
    pub async fn audit_tail(&self, account_id: &str) -> Result<Option<(i64, Vec<u8>)>, DbError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log WHERE account_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading the audit log"))?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose().map_err(db("reading the audit log"))
    }

    /// Appends an audit entry; false if `seq` was taken meanwhile (another replica wrote).
    pub async fn append_audit(
        &self,
        account_id: &str,
        seq: i64,
        at: i64,
        event: &str,
        detail: &str,
        hash: &[u8],
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO audit_log (account_id, seq, at, event, detail, hash) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, seq) DO NOTHING",
        )
        .bind(account_id)
        .bind(seq)
        .bind(at)
        .bind(event)
        .bind(detail)
        .bind(hash)
        .execute(&self.pool)
        .await
        .map_err(db("writing the audit log"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The account's audit log, oldest first: (seq, at, event, detail, hash).
    pub async fn audit(&self, account_id: &str) -> Result<Vec<(i64, i64, String, String, Vec<u8>)>, DbError> {
        let rows = sqlx::query("SELECT seq, at, event, detail, hash FROM audit_log WHERE account_id = $1 ORDER BY seq")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading the audit log"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db("reading the audit log"))
    }
}

/// Replaces envelope `version - 1` by `version`, on the pool or inside a transaction.
async fn swap_envelope<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    account_id: &str,
    version: i64,
    body: &[u8],
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE envelopes SET version = $2, body = $3, updated = $4 WHERE account_id = $1 AND version = $2 - 1",
    )
    .bind(account_id)
    .bind(version)
    .bind(body)
    .bind(now())
    .execute(executor)
    .await
    .map_err(db("storing the envelope"))?;
    Ok(done.rows_affected() == 1)
}
