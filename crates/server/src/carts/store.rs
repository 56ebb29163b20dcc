//! The `carts` table: a registered cart's lines (JSON, as the merchant sent them after
//! validation), its customer type and intent. Rows are only ever inserted (the demo carts are
//! replaced by their seed).

use super::{Cart, CartLine, CustomerType, Intent};
use crate::store::Store;
use sqlx::Row;

fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A stored enum name (`"person"`, `"buy_and_tokenize"`) back to its value.
fn decode_name<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(name.into()))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Store {
    pub async fn insert_cart(&self, cart: &Cart) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO carts (id, customer_type, intent, lines, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&cart.id)
        .bind(cart.customer_type.name())
        .bind(cart.intent.name())
        .bind(encode(&cart.lines)?)
        .bind(cart.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Inserts the cart, or replaces the one with its id (the demo carts' seed).
    pub async fn upsert_cart(&self, cart: &Cart) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO carts (id, customer_type, intent, lines, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET customer_type = excluded.customer_type,
                 intent = excluded.intent, lines = excluded.lines",
        )
        .bind(&cart.id)
        .bind(cart.customer_type.name())
        .bind(cart.intent.name())
        .bind(encode(&cart.lines)?)
        .bind(cart.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cart(&self, id: &str) -> Result<Option<Cart>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, customer_type, intent, lines, created_at FROM carts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let lines: String = row.try_get("lines")?;
        let customer_type: String = row.try_get("customer_type")?;
        let intent: String = row.try_get("intent")?;
        Ok(Some(Cart {
            id: row.try_get("id")?,
            lines: serde_json::from_str::<Vec<CartLine>>(&lines)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            customer_type: decode_name::<CustomerType>(&customer_type)?,
            intent: decode_name::<Intent>(&intent)?,
            created_at: row.try_get("created_at")?,
        }))
    }
}
