//! The database: SQLite (a file, the embedded default) or PostgreSQL (`KC_DATABASE=postgres://…`,
//! for several instances), through sqlx's `Any` driver. Every query is written once, with
//! `$1`-style placeholders both engines read, in the stores (`order_store.rs`, `bank_store.rs`,
//! …); the only text that differs per engine is here: the migrations' JSON reads and how the
//! schema version is kept. SQLite writes are synchronous (`synchronous=FULL`), so an order
//! Klarna created is on disk before the shopper is told about it.

use klarna::PricedCart;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::{Executor, Row};
use std::path::Path;

/// Which database engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Schema steps, applied in order on both engines (SQLite's text; [`for_engine`] rewrites the
/// few SQLite-only functions for PostgreSQL). SQLite counts them in `PRAGMA user_version`,
/// PostgreSQL in a `schema_version` table.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE checkout_sessions (
        id TEXT PRIMARY KEY,
        klarna_session_id TEXT NOT NULL,
        client_token TEXT NOT NULL,
        cart_ref TEXT NOT NULL,
        locale TEXT NOT NULL,
        priced_cart TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE orders (
        authorization_token TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES checkout_sessions(id),
        klarna_order_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        order_amount BIGINT NOT NULL,
        request TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE failed_authorizations (
        authorization_token TEXT PRIMARY KEY,
        error TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );",
    // Bank linking (XS2A). Consent tokens are stored sealed with AES-256-GCM, never in plain text.
    "CREATE TABLE bank_links (
        id TEXT PRIMARY KEY,
        company TEXT NOT NULL,
        start_date TEXT NOT NULL,
        xs2a_session_id TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        state TEXT NOT NULL,
        connection_id TEXT,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE bank_connections (
        id TEXT PRIMARY KEY,
        company TEXT NOT NULL,
        bank_name TEXT NOT NULL,
        bank_code TEXT NOT NULL,
        consent_id TEXT NOT NULL,
        consent_token_sealed TEXT NOT NULL,
        consent_start TEXT NOT NULL,
        consent_expires_on TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (company, bank_code)
    );
    CREATE TABLE bank_accounts (
        id TEXT PRIMARY KEY,
        connection_id TEXT NOT NULL REFERENCES bank_connections(id),
        xs2a_account_id TEXT NOT NULL,
        iban TEXT NOT NULL,
        name TEXT NOT NULL,
        holder_name TEXT NOT NULL,
        balance BIGINT NOT NULL,
        currency TEXT NOT NULL,
        UNIQUE (connection_id, iban)
    );",
    // Transaction sync: each account remembers how far it was synced; a transaction is stored
    // once per account, however often a sync is repeated.
    "ALTER TABLE bank_accounts ADD COLUMN last_synced_date TEXT;
    CREATE TABLE bank_transactions (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES bank_accounts(id),
        transaction_id TEXT NOT NULL,
        booking_date TEXT NOT NULL,
        amount BIGINT NOT NULL,
        currency TEXT NOT NULL,
        counterparty TEXT NOT NULL,
        reference TEXT NOT NULL,
        UNIQUE (account_id, transaction_id)
    );",
    // Whether a link's XS2A session may still be open at Klarna: a close that failed (Klarna
    // unreachable) is retried by the sweeper until it succeeds, so nothing stays open.
    "ALTER TABLE bank_links ADD COLUMN session_open BIGINT NOT NULL DEFAULT 1;
    UPDATE bank_links SET session_open = 0 WHERE state != 'started';",
    // Orders you can trust: an order records exactly what Klarna was asked (country, currency,
    // amount, tax); one order per checkout session is a constraint, not a lock in one process.
    // An order attempt is written before Klarna is called, with the idempotency key a retry
    // repeats; Klarna's authorization callbacks are kept until they are handled. The shopper's
    // language is kept apart from Klarna's locale, which follows the purchase country. An
    // attempt that became the order stays (`done`), so its session's key keeps every later
    // attempt out, whatever snapshot a racing insert saw.
    "ALTER TABLE checkout_sessions ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
    UPDATE checkout_sessions SET language = substr(locale, 1, 2);
    CREATE TABLE orders_v2 (
        authorization_token TEXT PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE REFERENCES checkout_sessions(id),
        klarna_order_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        purchase_country TEXT NOT NULL,
        purchase_currency TEXT NOT NULL,
        order_amount BIGINT NOT NULL,
        order_tax_amount BIGINT NOT NULL,
        request TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    INSERT INTO orders_v2 SELECT authorization_token, session_id, klarna_order_id, state,
        COALESCE(json_extract(request, '$.purchase_country'), ''),
        COALESCE(json_extract(request, '$.purchase_currency'), ''),
        order_amount, COALESCE(json_extract(request, '$.order_tax_amount'), 0),
        request, created_at, created_at FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_v2 RENAME TO orders;
    -- The previous catalog put the euro figures on every currency: such a session that has no
    -- order yet must not become one at those prices. Its shopper gets a new session.
    DELETE FROM checkout_sessions WHERE json_extract(priced_cart, '$.currency') != 'EUR'
        AND id NOT IN (SELECT session_id FROM orders);
    CREATE TABLE order_attempts (
        session_id TEXT PRIMARY KEY REFERENCES checkout_sessions(id),
        authorization_token TEXT NOT NULL UNIQUE,
        idempotency_key TEXT NOT NULL,
        request TEXT NOT NULL,
        lease_until BIGINT NOT NULL,
        retry_at BIGINT NOT NULL,
        tries BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        done BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE authorization_callbacks (
        authorization_token TEXT PRIMARY KEY,
        klarna_session_id TEXT NOT NULL,
        process_after BIGINT NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0,
        tries BIGINT NOT NULL DEFAULT 0,
        received_at BIGINT NOT NULL
    );
    CREATE INDEX authorization_callbacks_due ON authorization_callbacks (process_after);
    CREATE INDEX checkout_sessions_created ON checkout_sessions (created_at);
    CREATE INDEX checkout_sessions_klarna ON checkout_sessions (klarna_session_id);",
    // Bookkeepers' sign-in sessions and the sign-in throttle live here, not in one process:
    // any instance knows who is signed in, and wrong passwords count across instances. Only
    // SHA-256 digests of the session id and the CSRF token are stored.
    "CREATE TABLE bookkeeper_sessions (
        id_digest TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        csrf_digest TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX bookkeeper_sessions_expiry ON bookkeeper_sessions (expires_at);
    CREATE TABLE sign_in_attempts (
        client_key TEXT PRIMARY KEY,
        attempts BIGINT NOT NULL,
        window_start BIGINT NOT NULL
    );",
    // One sync per bank connection at a time, across instances: a lease on the connection, so
    // two syncs never rotate one consent token against each other. A sync's progress is kept
    // here too, so any instance can report it.
    //
    // The sweeper runs on every instance: a lease on a link's XS2A session makes one instance
    // close it.
    "ALTER TABLE bank_connections ADD COLUMN sync_lease_until BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE bank_links ADD COLUMN close_lease_until BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE sync_progress (
        account_id TEXT PRIMARY KEY,
        running BIGINT NOT NULL,
        pages BIGINT NOT NULL,
        fetched BIGINT NOT NULL,
        added BIGINT NOT NULL,
        from_date TEXT NOT NULL,
        to_date TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    );",
    // API keys of the merchant API (`merchant/keys.rs`): only the SHA-256 digest of a key's
    // secret is stored; a revoked key keeps its row, so `api-key list` shows when it ended.
    // `last_used_at` is written at most once a minute per key.
    "CREATE TABLE merchant_api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_digest TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT,
        last_used_at BIGINT
    );",
    // The merchant's order operations (capture, refund, cancel, …), written before Klarna is
    // called: one row per order and merchant `Idempotency-Key`, so a retried capture is done
    // once; a pending row's amount counts as spent until Klarna answers.
    "CREATE TABLE merchant_operations (
        id TEXT PRIMARY KEY,
        klarna_order_id TEXT NOT NULL REFERENCES orders(klarna_order_id),
        idempotency_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        amount BIGINT NOT NULL,
        target TEXT NOT NULL,
        request TEXT NOT NULL,
        request_digest TEXT NOT NULL,
        klarna_key TEXT NOT NULL,
        state TEXT NOT NULL,
        result TEXT,
        lease_until BIGINT NOT NULL,
        tries BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (klarna_order_id, idempotency_key)
    );
    CREATE INDEX merchant_operations_pending ON merchant_operations (state, lease_until);",
    // Carts registered by the storefront's backend (`carts/`): lines with a price list per
    // currency, as JSON; never changed once registered. The demo carts are seeded at start.
    "CREATE TABLE carts (
        id TEXT PRIMARY KEY,
        customer_type TEXT NOT NULL,
        intent TEXT NOT NULL,
        lines TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );",
    // Recurring (`recurring/`): a customer token per checkout session whose cart asked for one,
    // written before Klarna is asked for it (leased, retried by the worker), Klarna's token id
    // sealed with the consent key; and every charge of a token, written before Klarna is called,
    // one per token and merchant `Idempotency-Key`. A charge's order is an ordinary `orders`
    // row (under a checkout session of its own), so the merchant order API handles it.
    "CREATE TABLE customer_tokens (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE REFERENCES checkout_sessions(id),
        klarna_order_id TEXT NOT NULL,
        authorization_token TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        request TEXT NOT NULL,
        purchase_country TEXT NOT NULL,
        purchase_currency TEXT NOT NULL,
        locale TEXT NOT NULL,
        state TEXT NOT NULL,
        token_sealed TEXT,
        error TEXT,
        cancel_sent BIGINT NOT NULL DEFAULT 0,
        lease_until BIGINT NOT NULL DEFAULT 0,
        retry_at BIGINT NOT NULL DEFAULT 0,
        tries BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE INDEX customer_tokens_order ON customer_tokens (klarna_order_id);
    CREATE TABLE token_charges (
        id TEXT PRIMARY KEY,
        customer_token TEXT NOT NULL REFERENCES customer_tokens(id),
        idempotency_key TEXT NOT NULL,
        request TEXT NOT NULL,
        request_digest TEXT NOT NULL,
        klarna_key TEXT NOT NULL,
        state TEXT NOT NULL,
        klarna_order_id TEXT,
        result TEXT,
        lease_until BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (customer_token, idempotency_key)
    );
    CREATE INDEX token_charges_pending ON token_charges (state, lease_until);",
    // A charge counts its sends that got no usable answer (the pause before the next grows) and
    // knows whether it was ever sent: one never sent is not sent after its token was cancelled.
    // Rows from before are taken as sent.
    "ALTER TABLE token_charges ADD COLUMN tries BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE token_charges ADD COLUMN sent BIGINT NOT NULL DEFAULT 1;",
    // The widget's colours, asked for by the browser at the start of a checkout.
    "ALTER TABLE checkout_sessions ADD COLUMN widget_options TEXT;",
    // Pending bank transactions (`bank_entries.rs`), apart from the books: a sync replaces those
    // of the days it fetched with what the bank still reports as pending. Klarna's ids are not
    // stable for them, so each is keyed by its id or its content (`pending_key`), unique per
    // account: never twice, whichever sync or instance wrote it.
    "CREATE TABLE bank_pending_transactions (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES bank_accounts(id),
        pending_key TEXT NOT NULL,
        value_date TEXT NOT NULL,
        amount BIGINT NOT NULL,
        currency TEXT NOT NULL,
        counterparty TEXT NOT NULL,
        reference TEXT NOT NULL,
        UNIQUE (account_id, pending_key)
    );
    CREATE INDEX bank_pending_transactions_day ON bank_pending_transactions (account_id, value_date);",
    // Syncs run as server tasks (`bank_sync/task.rs`): the lease names the sync (job) holding
    // it, so a sync whose lease ran out and was ended or taken over writes nothing more; the
    // consent token carries a generation, replaced only by whoever read the current one (an
    // older token never overwrites a newer); a sync's row keeps the language it reports in and how it
    // ended (never the bookkeeper's address: that stays in the task). The schedule (`bank_schedule.rs`) runs once a day across instances: one row
    // per day, unique; a bank it skipped for an expired consent says so until relinked.
    "ALTER TABLE bank_connections ADD COLUMN sync_job TEXT;
    ALTER TABLE bank_connections ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE bank_connections ADD COLUMN schedule_skipped_on TEXT;
    ALTER TABLE sync_progress ADD COLUMN job TEXT;
    ALTER TABLE sync_progress ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
    ALTER TABLE sync_progress ADD COLUMN scheduled BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE sync_progress ADD COLUMN outcome TEXT;
    CREATE TABLE sync_schedule_runs (
        run_date TEXT PRIMARY KEY,
        started_at BIGINT NOT NULL
    );",
    // A link's ending is claimed before Klarna is asked (`bank_store/claims.rs`): two reports
    // of one ending never read its consent twice; a claim whose holder died runs out.
    "ALTER TABLE bank_links ADD COLUMN end_claim TEXT;
    ALTER TABLE bank_links ADD COLUMN end_lease_until BIGINT NOT NULL DEFAULT 0;",
    // A sync skips the transactions it cannot take (`bank_entries.rs`) and says how many.
    "ALTER TABLE sync_progress ADD COLUMN skipped BIGINT NOT NULL DEFAULT 0;",
    // The schedule is at least once a day, not at most (`schedule_store.rs`): each account
    // keeps the day the schedule synced it (written with the `ok` end, under the bank's lease)
    // and its tries that day; any instance's round syncs what is left. The day's row goes.
    "ALTER TABLE bank_accounts ADD COLUMN schedule_done_on TEXT;
    ALTER TABLE bank_accounts ADD COLUMN schedule_tried_on TEXT;
    ALTER TABLE bank_accounts ADD COLUMN schedule_tries BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE bank_accounts ADD COLUMN schedule_tried_at BIGINT NOT NULL DEFAULT 0;
    DROP TABLE sync_schedule_runs;",
];

/// SQLite-only expressions of the migrations and their PostgreSQL text (PostgreSQL only ever
/// migrates an empty database, but every statement must still parse there).
const POSTGRES_REWRITES: &[(&str, &str)] = &[
    (
        "COALESCE(json_extract(request, '$.purchase_country'), '')",
        "COALESCE(request::json->>'purchase_country', '')",
    ),
    (
        "COALESCE(json_extract(request, '$.purchase_currency'), '')",
        "COALESCE(request::json->>'purchase_currency', '')",
    ),
    (
        "COALESCE(json_extract(request, '$.order_tax_amount'), 0)",
        "COALESCE((request::json->>'order_tax_amount')::bigint, 0)",
    ),
    (
        "json_extract(priced_cart, '$.currency') != 'EUR'",
        "(priced_cart::json->>'currency') <> 'EUR'",
    ),
];

/// A migration's text for `engine`.
fn for_engine(step: &str, engine: Engine) -> String {
    match engine {
        Engine::Sqlite => step.to_string(),
        Engine::Postgres => POSTGRES_REWRITES
            .iter()
            .fold(step.to_string(), |sql, (from, to)| sql.replace(from, to)),
    }
}

/// A key for PostgreSQL's advisory lock that makes instances starting together migrate one
/// after the other.
const MIGRATION_LOCK: i64 = 0x6b63_6d69_6772_6174;

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub engine: Engine,
}

#[derive(Clone, Debug)]
pub struct StoredSession {
    pub id: String,
    pub klarna_session_id: String,
    pub client_token: String,
    pub cart_ref: String,
    /// Klarna's locale: one Klarna allows for the purchase country.
    pub locale: String,
    /// The shopper's language (ISO 639-1), from which `locale` is chosen again when the
    /// purchase country changes.
    pub language: String,
    pub cart: PricedCart,
    pub created_at: i64,
    /// The widget's colours the browser asked for, for every Klarna session of this checkout.
    pub widget: Option<klarna::WidgetOptions>,
}

impl Store {
    /// Opens `database`: a `postgres://` or `postgresql://` URL, or a SQLite file (optionally
    /// written `sqlite:PATH`), created with its tables on first use.
    pub async fn open(database: &Path) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let text = database.to_string_lossy();
        let store = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(10)
                .connect(&text)
                .await?;
            Store {
                pool,
                engine: Engine::Postgres,
            }
        } else {
            let path = Path::new(text.strip_prefix("sqlite:").unwrap_or(&text));
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                }
            }
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await
                        .map(|_| ())
                    })
                })
                .connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await?;
            Store {
                pool,
                engine: Engine::Sqlite,
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        self.migrate_to(MIGRATIONS.len()).await
    }

    /// Applies the migrations not yet applied, up to the first `upto`.
    async fn migrate_to(&self, upto: usize) -> Result<(), sqlx::Error> {
        match self.engine {
            Engine::Sqlite => {
                let done: i64 = sqlx::query_scalar("PRAGMA user_version")
                    .fetch_one(&self.pool)
                    .await?;
                for (i, step) in MIGRATIONS.iter().enumerate().take(upto).skip(done as usize) {
                    let mut tx = self.pool.begin().await?;
                    sqlx::raw_sql(step).execute(&mut *tx).await?;
                    sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
            }
            Engine::Postgres => {
                // One transaction, under a lock: instances starting together migrate once.
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
                )
                .execute(&mut *tx)
                .await?;
                let done: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                        .fetch_one(&mut *tx)
                        .await?;
                for (i, step) in MIGRATIONS.iter().enumerate().take(upto).skip(done as usize) {
                    sqlx::raw_sql(&for_engine(step, Engine::Postgres))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                        .bind((i + 1) as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn insert_session(&self, s: &StoredSession) -> Result<(), sqlx::Error> {
        let cart = serde_json::to_string(&s.cart).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let widget = s
            .widget
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO checkout_sessions (id, klarna_session_id, client_token, cart_ref, locale, language, priced_cart, created_at, widget_options)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(&s.klarna_session_id)
        .bind(&s.client_token)
        .bind(&s.cart_ref)
        .bind(&s.locale)
        .bind(&s.language)
        .bind(cart)
        .bind(s.created_at)
        .bind(widget)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces a session's Klarna side and priced cart after a country change.
    pub async fn update_session(&self, s: &StoredSession) -> Result<(), sqlx::Error> {
        let cart = serde_json::to_string(&s.cart).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "UPDATE checkout_sessions SET klarna_session_id = $1, client_token = $2, locale = $3, priced_cart = $4, created_at = $5
             WHERE id = $6",
        )
        .bind(&s.klarna_session_id)
        .bind(&s.client_token)
        .bind(&s.locale)
        .bind(cart)
        .bind(s.created_at)
        .bind(&s.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Our session for Klarna's session id (Klarna's callbacks name its own id).
    pub async fn session_by_klarna_id(
        &self,
        klarna_session_id: &str,
    ) -> Result<Option<StoredSession>, sqlx::Error> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM checkout_sessions WHERE klarna_session_id = $1")
                .bind(klarna_session_id)
                .fetch_optional(&self.pool)
                .await?;
        match id {
            Some(id) => self.session(&id).await,
            None => Ok(None),
        }
    }

    pub async fn session(&self, id: &str) -> Result<Option<StoredSession>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, klarna_session_id, client_token, cart_ref, locale, language, priced_cart, created_at, widget_options
             FROM checkout_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let cart: String = row.try_get("priced_cart")?;
        let widget: Option<String> = row.try_get("widget_options")?;
        Ok(Some(StoredSession {
            id: row.try_get("id")?,
            klarna_session_id: row.try_get("klarna_session_id")?,
            client_token: row.try_get("client_token")?,
            cart_ref: row.try_get("cart_ref")?,
            locale: row.try_get("locale")?,
            language: row.try_get("language")?,
            cart: serde_json::from_str(&cart).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            created_at: row.try_get("created_at")?,
            widget: widget
                .map(|w| serde_json::from_str(&w))
                .transpose()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shop that ran the version before "orders you can trust" keeps every order, now with
    /// the country, currency and tax Klarna was asked for (read from the stored request).
    #[tokio::test]
    async fn orders_of_the_previous_schema_keep_everything_klarna_was_asked() {
        let dir = std::env::temp_dir().join(format!("kc-migrate-{}", uuid::Uuid::new_v4()));
        let path = dir.join("old.sqlite");
        std::fs::create_dir_all(&dir).unwrap();
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        let old = Store {
            pool,
            engine: Engine::Sqlite,
        };
        old.migrate_to(4).await.unwrap();
        sqlx::raw_sql(
            r#"INSERT INTO checkout_sessions VALUES ('s1', 'k1', 'ct', 'demo', 'sv-SE', '{}', 10);
               INSERT INTO orders VALUES ('tok1', 's1', 'order-1', 'accepted', 96600,
                 '{"purchase_country":"SE","purchase_currency":"SEK","order_amount":96600,"order_tax_amount":19320}', 11);"#,
        )
        .execute(&old.pool)
        .await
        .unwrap();
        old.migrate().await.unwrap();
        let facts = old.order_facts("order-1").await.unwrap();
        assert_eq!(facts, Some(("SE".into(), "SEK".into(), 96_600, 19_320)));
        let language: String =
            sqlx::query_scalar("SELECT language FROM checkout_sessions WHERE id = 's1'")
                .fetch_one(&old.pool)
                .await
                .unwrap();
        assert_eq!(language, "sv");
        // The new constraint holds for the migrated table: a second order for the session fails.
        let second = sqlx::raw_sql(
            "INSERT INTO orders VALUES ('tok2', 's1', 'order-2', 'accepted', 'SE', 'SEK', 1, 0, '{}', 12, 12)",
        )
        .execute(&old.pool)
        .await;
        assert!(second.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
