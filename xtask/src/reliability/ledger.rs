//! Our side of the books: the orders table of the server's SQLite file or PostgreSQL database,
//! read with sqlx while the server runs, and the comparison with what Klarna created (lost,
//! doubled, unknown to Klarna).

use super::client::{orders_per_checkout, KlarnaOrder};
use super::deploy::Db;
use super::BenchResult;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// One row of `orders`.
pub struct OurOrder {
    pub klarna_order_id: String,
    pub session_id: String,
    /// `None` when the row has none or the column does not exist.
    pub currency: Option<String>,
}

pub struct Ours {
    pub orders: Vec<OurOrder>,
    /// Whether `orders` has a `purchase_currency` column (added with durable order attempts).
    pub has_currency_column: bool,
}

/// Reads our orders wherever the server keeps them.
pub async fn read(db: &Db) -> BenchResult<Ours> {
    match db {
        Db::Sqlite(file) => read_sqlite(file).await,
        Db::Postgres(url) => read_postgres(url).await,
    }
}

/// `SELECT klarna_order_id, session_id, purchase_currency FROM orders` (PostgreSQL support came
/// after the column, so it is always there).
async fn read_postgres(url: &str) -> BenchResult<Ours> {
    let mut conn = PgConnection::connect(url).await?;
    let rows = sqlx::query("SELECT klarna_order_id, session_id, purchase_currency FROM orders")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Ours {
        orders: rows.iter().map(our_order).collect(),
        has_currency_column: true,
    })
}

fn our_order<R: Row>(row: &R) -> OurOrder
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    OurOrder {
        klarna_order_id: row.try_get("klarna_order_id").unwrap_or_default(),
        session_id: row.try_get("session_id").unwrap_or_default(),
        currency: row
            .try_get::<Option<String>, _>("purchase_currency")
            .ok()
            .flatten()
            .filter(|c| !c.is_empty()),
    }
}

/// Reads `SELECT klarna_order_id, session_id [, purchase_currency] FROM orders`.
async fn read_sqlite(database: &Path) -> BenchResult<Ours> {
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await?;
    let columns: Vec<String> = sqlx::query("PRAGMA table_info(orders)")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .filter_map(|row| row.try_get::<String, _>("name").ok())
        .collect();
    let has_currency_column = columns.iter().any(|c| c == "purchase_currency");
    let sql = if has_currency_column {
        "SELECT klarna_order_id, session_id, purchase_currency FROM orders"
    } else {
        "SELECT klarna_order_id, session_id, NULL AS purchase_currency FROM orders"
    };
    let orders = sqlx::query(sql)
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(our_order)
        .collect();
    conn.close().await?;
    Ok(Ours {
        orders,
        has_currency_column,
    })
}

/// Klarna's books against ours.
pub struct Comparison {
    pub klarna_orders: usize,
    pub our_orders: usize,
    /// In Klarna, not in our database (money taken for an order we do not know): their
    /// checkouts (`merchant_reference1`).
    pub lost: Vec<String>,
    /// Checkouts with more than one Klarna order, and the orders beyond the first.
    pub doubled_checkouts: usize,
    pub extra_orders: usize,
    /// In our database, unknown to Klarna.
    pub unknown_to_klarna: usize,
    /// Checkouts with more than one order in our database.
    pub our_doubled_checkouts: usize,
    /// Our orders without a currency; `None` when the column does not exist yet.
    pub missing_currency: Option<usize>,
}

pub fn compare(klarna: &[KlarnaOrder], ours: &Ours) -> Comparison {
    let theirs: HashSet<&str> = klarna.iter().map(|o| o.order_id.as_str()).collect();
    let mine: HashSet<&str> = ours
        .orders
        .iter()
        .map(|o| o.klarna_order_id.as_str())
        .collect();
    let per = orders_per_checkout(klarna);
    let mut our_per: HashMap<&str, usize> = HashMap::new();
    for o in &ours.orders {
        *our_per.entry(o.session_id.as_str()).or_insert(0) += 1;
    }
    Comparison {
        klarna_orders: klarna.len(),
        our_orders: ours.orders.len(),
        lost: klarna
            .iter()
            .filter(|o| !mine.contains(o.order_id.as_str()))
            .map(|o| o.merchant_reference1.clone().unwrap_or_default())
            .collect(),
        doubled_checkouts: per.values().filter(|n| **n > 1).count(),
        extra_orders: per.values().map(|n| n.saturating_sub(1)).sum(),
        unknown_to_klarna: mine.difference(&theirs).count(),
        our_doubled_checkouts: our_per.values().filter(|n| **n > 1).count(),
        missing_currency: ours
            .has_currency_column
            .then(|| ours.orders.iter().filter(|o| o.currency.is_none()).count()),
    }
}

impl Comparison {
    /// Every order Klarna created is in our database.
    pub fn settled(&self) -> bool {
        self.lost.is_empty()
    }
}
