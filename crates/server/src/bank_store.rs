//! Storage of bank links, connections (bank + sealed consent) and accounts.

use crate::store::Store;
use sqlx::Row;

mod claims;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLink {
    pub id: String,
    pub company: String,
    pub start_date: String,
    pub xs2a_session_id: String,
    pub flow_id: String,
    pub state: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConnection {
    pub id: String,
    pub company: String,
    pub bank_name: String,
    pub bank_code: String,
    pub consent_id: String,
    pub consent_token_sealed: String,
    pub consent_start: String,
    pub consent_expires_on: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAccount {
    pub id: String,
    pub xs2a_account_id: String,
    pub iban: String,
    pub name: String,
    pub holder_name: String,
    pub balance: i64,
    pub currency: String,
}

impl Store {
    pub async fn insert_link(&self, l: &StoredLink) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO bank_links (id, company, start_date, xs2a_session_id, flow_id, state, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&l.id)
        .bind(&l.company)
        .bind(&l.start_date)
        .bind(&l.xs2a_session_id)
        .bind(&l.flow_id)
        .bind(&l.state)
        .bind(l.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn link(&self, id: &str) -> Result<Option<StoredLink>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, company, start_date, xs2a_session_id, flow_id, state, created_at FROM bank_links WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| link_of(&r)).transpose()
    }

    /// Links still waiting for the bookkeeper, started before `before`: also those whose ending
    /// was claimed by a request that died (its claim ran out by `now`).
    pub async fn stale_links(&self, before: i64, now: i64) -> Result<Vec<StoredLink>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, company, start_date, xs2a_session_id, flow_id, state, created_at FROM bank_links
             WHERE (state = 'started' OR (state = 'ending' AND end_lease_until < $1)) AND created_at < $2",
        )
        .bind(now)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_of).collect()
    }

    /// The XS2A session is gone at Klarna (deleted, or already unknown there).
    pub async fn mark_session_closed(&self, xs2a_session_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_links SET session_open = 0 WHERE xs2a_session_id = $1")
            .bind(xs2a_session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the close of an XS2A session for this instance for a minute, unless another
    /// instance is closing it (every instance sweeps; each session is closed once).
    pub async fn claim_session_close(
        &self,
        xs2a_session_id: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_links SET close_lease_until = $1
             WHERE xs2a_session_id = $2 AND session_open = 1 AND close_lease_until < $3",
        )
        .bind(now + 60)
        .bind(xs2a_session_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Sessions of ended links whose close did not reach Klarna yet (a link being ended is not
    /// ended yet: its session may still be needed for the consent).
    pub async fn sessions_left_open(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT xs2a_session_id FROM bank_links WHERE state NOT IN ('started', 'ending') AND session_open = 1",
        )
        .fetch_all(&self.pool)
        .await
    }

    /// The bank connection a linked link made, so a second report of its ending answers the
    /// same bank.
    pub async fn connection_of_link(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let found: Option<Option<String>> =
            sqlx::query_scalar("SELECT connection_id FROM bank_links WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.flatten())
    }

    /// Stores a bank connection with its accounts, in the caller's transaction. Relinking the
    /// same bank for the same company replaces the consent and matches accounts by IBAN.
    pub(crate) async fn upsert_connection(
        tx: &mut sqlx::AnyConnection,
        c: &StoredConnection,
        accounts: &[StoredAccount],
        now: i64,
    ) -> Result<String, sqlx::Error> {
        // One statement, and the id it kept: two links of the same new bank at once (two
        // PostgreSQL transactions that both found no row) must not each keep their own new id,
        // or the loser's accounts would point at a connection that does not exist.
        let id: String = sqlx::query_scalar(
            "INSERT INTO bank_connections (id, company, bank_name, bank_code, consent_id, consent_token_sealed, consent_start, consent_expires_on, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (company, bank_code) DO UPDATE SET bank_name = excluded.bank_name, consent_id = excluded.consent_id,
               consent_token_sealed = excluded.consent_token_sealed, consent_start = excluded.consent_start,
               consent_expires_on = excluded.consent_expires_on,
               token_generation = bank_connections.token_generation + 1, schedule_skipped_on = NULL
             RETURNING id",
        )
        .bind(&c.id)
        .bind(&c.company)
        .bind(&c.bank_name)
        .bind(&c.bank_code)
        .bind(&c.consent_id)
        .bind(&c.consent_token_sealed)
        .bind(&c.consent_start)
        .bind(&c.consent_expires_on)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for a in accounts {
            sqlx::query(
                "INSERT INTO bank_accounts (id, connection_id, xs2a_account_id, iban, name, holder_name, balance, currency)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (connection_id, iban) DO UPDATE SET xs2a_account_id = excluded.xs2a_account_id,
                   name = excluded.name, holder_name = excluded.holder_name, balance = excluded.balance, currency = excluded.currency",
            )
            .bind(&a.id)
            .bind(&id)
            .bind(&a.xs2a_account_id)
            .bind(&a.iban)
            .bind(&a.name)
            .bind(&a.holder_name)
            .bind(a.balance)
            .bind(&a.currency)
            .execute(&mut *tx)
            .await?;
        }
        Ok(id)
    }

    pub async fn connections(&self) -> Result<Vec<StoredConnection>, sqlx::Error> {
        let rows = sqlx::query(&format!("{CONNECTION_COLUMNS} ORDER BY company, bank_name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(connection_of).collect()
    }

    pub async fn connection(&self, id: &str) -> Result<Option<StoredConnection>, sqlx::Error> {
        let row = sqlx::query(&format!("{CONNECTION_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(connection_of).transpose()
    }

    pub async fn accounts_of(
        &self,
        connection_id: &str,
    ) -> Result<Vec<StoredAccount>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, xs2a_account_id, iban, name, holder_name, balance, currency FROM bank_accounts
             WHERE connection_id = $1 ORDER BY name",
        )
        .bind(connection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredAccount {
                    id: r.try_get("id")?,
                    xs2a_account_id: r.try_get("xs2a_account_id")?,
                    iban: r.try_get("iban")?,
                    name: r.try_get("name")?,
                    holder_name: r.try_get("holder_name")?,
                    balance: r.try_get("balance")?,
                    currency: r.try_get("currency")?,
                })
            })
            .collect()
    }
}

const CONNECTION_COLUMNS: &str =
    "SELECT id, company, bank_name, bank_code, consent_id, consent_token_sealed, \
     consent_start, consent_expires_on FROM bank_connections";

fn connection_of(r: &sqlx::any::AnyRow) -> Result<StoredConnection, sqlx::Error> {
    Ok(StoredConnection {
        id: r.try_get("id")?,
        company: r.try_get("company")?,
        bank_name: r.try_get("bank_name")?,
        bank_code: r.try_get("bank_code")?,
        consent_id: r.try_get("consent_id")?,
        consent_token_sealed: r.try_get("consent_token_sealed")?,
        consent_start: r.try_get("consent_start")?,
        consent_expires_on: r.try_get("consent_expires_on")?,
    })
}

fn link_of(r: &sqlx::any::AnyRow) -> Result<StoredLink, sqlx::Error> {
    Ok(StoredLink {
        id: r.try_get("id")?,
        company: r.try_get("company")?,
        start_date: r.try_get("start_date")?,
        xs2a_session_id: r.try_get("xs2a_session_id")?,
        flow_id: r.try_get("flow_id")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An account with what a sync needs of its connection.
#[derive(Clone, Debug)]
pub struct SyncTarget {
    pub account: StoredAccount,
    pub connection: StoredConnection,
    pub last_synced_date: Option<String>,
    /// The oldest day with a transaction still pending: the next sync fetches it again.
    pub pending_since: Option<String>,
}

impl Store {
    pub async fn sync_target(&self, account_id: &str) -> Result<Option<SyncTarget>, sqlx::Error> {
        let row =
            sqlx::query("SELECT connection_id, last_synced_date FROM bank_accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let connection_id: String = row.try_get("connection_id")?;
        let last_synced_date: Option<String> = row.try_get("last_synced_date")?;
        let connection = self.connection(&connection_id).await?;
        let account = self
            .accounts_of(&connection_id)
            .await?
            .into_iter()
            .find(|a| a.id == account_id);
        let pending_since = self.pending_since(account_id).await?;
        Ok(match (connection, account) {
            (Some(connection), Some(account)) => Some(SyncTarget {
                account,
                connection,
                last_synced_date,
                pending_since,
            }),
            _ => None,
        })
    }

    pub async fn set_last_synced(&self, account_id: &str, date: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_accounts SET last_synced_date = $1 WHERE id = $2")
            .bind(date)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The booked transactions, newest first.
    pub async fn transactions(
        &self,
        account_id: &str,
    ) -> Result<Vec<klarna::api::BookedTransaction>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT booking_date, amount, currency, counterparty, reference FROM bank_transactions
             WHERE account_id = $1 ORDER BY booking_date DESC, transaction_id DESC",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(klarna::api::BookedTransaction {
                    booking_date: r.try_get("booking_date")?,
                    amount: r.try_get("amount")?,
                    currency: r.try_get("currency")?,
                    counterparty: r.try_get("counterparty")?,
                    reference: r.try_get("reference")?,
                })
            })
            .collect()
    }
}
