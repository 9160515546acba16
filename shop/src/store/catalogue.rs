//! The catalogue's queries: active products, in the shop's order.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_types::Money;

use super::{currency, sku, Store, StoreError};
use crate::catalogue::Product;
use crate::error::ShopError;
use crate::ids::Sku;

impl Store {
    pub async fn products(&self) -> Result<Vec<Product>, StoreError> {
        let rows = sqlx::query(
            "SELECT sku, name, description, price_minor, currency, swatch \
             FROM products WHERE active = 1 ORDER BY sort_order, id",
        )
        .fetch_all(&self.pool)
        .await?;
        // A product row that breaks the catalogue's rules (a malformed SKU) is left out
        // and logged, as before it could never be added to a cart; the rest still sells.
        Ok(rows
            .iter()
            .filter_map(|row| {
                product_from_row(row)
                    .inspect_err(|error| tracing::error!(%error, "catalogue row left out"))
                    .ok()
            })
            .collect())
    }

    /// The product's row id, if the SKU is in the active catalogue.
    pub(super) async fn product_id<'e, E>(executor: E, sku: &Sku) -> Result<i64, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row = sqlx::query("SELECT id FROM products WHERE sku = $1 AND active = 1")
            .bind(sku.as_str())
            .fetch_optional(executor)
            .await?;
        match row {
            Some(row) => Ok(row.try_get("id")?),
            None => Err(ShopError::UnknownProduct {
                sku: sku.to_string(),
            }
            .into()),
        }
    }
}

pub(super) fn product_from_row(row: &AnyRow) -> Result<Product, StoreError> {
    let code: String = row.try_get("currency")?;
    Ok(Product {
        sku: sku(&row.try_get::<String, _>("sku")?)?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        price: Money::new(row.try_get("price_minor")?, currency(&code)?),
        swatch: row.try_get("swatch")?,
    })
}
