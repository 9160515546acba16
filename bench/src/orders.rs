//! Orders made through the shop's server functions, as a browser makes them: add a
//! mug to a new cart (the server sets the `cart` cookie), then check out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use reqwest::header::{COOKIE, SET_COOKIE};

pub const SKU: &str = "ferris-mug";
/// The mug's catalogue price (USD cents), the total the shopper was shown.
pub const TOTAL: &str = "1250";

/// A placed order and the `cart` cookie that placed it (only that cookie may pay it).
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub cookie: String,
}

/// Creates one `pending` order.
pub async fn create_order(client: &reqwest::Client, base: &str) -> anyhow::Result<Order> {
    let response = client
        .post(format!("{base}/api/add_to_cart"))
        .form(&[("sku", SKU), ("quantity", "1")])
        .send()
        .await
        .context("add_to_cart")?;
    let status = response.status();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.trim_start().starts_with("cart="))
        .map(str::to_owned);
    let text = response.text().await?;
    if !status.is_success() {
        bail!("add_to_cart: HTTP {status}: {text}");
    }
    let Some(cookie) = cookie else {
        bail!("add_to_cart set no cart cookie");
    };
    let response = client
        .post(format!("{base}/api/checkout"))
        .header(COOKIE, &cookie)
        .form(&[("expected_total", TOTAL)])
        .send()
        .await
        .context("checkout")?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("checkout: HTTP {status}: {text}");
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::String(id)) if id.starts_with("ord_") => Ok(Order { id, cookie }),
        _ => bail!("checkout answered {text}, not an order id"),
    }
}

/// Creates `n` orders with `concurrency` clients at once.
pub async fn create_orders(
    client: &reqwest::Client,
    base: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Order>> {
    let t0 = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (client, base, next) = (client.clone(), base.to_owned(), next.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    ids.push(create_order(&client, &base).await?);
                }
                anyhow::Ok(ids)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(n);
    for h in handles {
        ids.extend(h.await.context("an order worker panicked")??);
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "  prepared {n} orders (add_to_cart + checkout) in {secs:.2} s = {:.0} orders/s",
        n as f64 / secs.max(1e-9)
    );
    Ok(ids)
}
