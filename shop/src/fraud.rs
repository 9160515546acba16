//! Early fraud warnings (`issfr_…`): the card's issuer reports likely fraud before any
//! dispute. Mirrored from `radar.early_fraud_warning.*` events; the console's one-click
//! answer is a full refund with `reason=fraudulent` (through the refund path, so it is
//! checked, idempotent and audited like any other), which also prevents the dispute.

use serde::{Deserialize, Serialize};

/// A warning as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudWarningView {
    pub id: String,
    pub order_id: Option<crate::ids::OrderId>,
    pub payment_intent_id: Option<String>,
    pub charge_id: String,
    pub fraud_type: String,
    /// A refund or a dispute can still follow.
    pub actionable: bool,
    /// The dispute that followed it on the same charge, if any.
    pub dispute_id: Option<String>,
    /// Unix milliseconds (when the shop recorded it).
    pub created_at: i64,
}

#[cfg(feature = "server")]
pub use service::*;

#[cfg(feature = "server")]
mod service {
    use stripe_client::{EarlyFraudWarning, Event};

    use super::FraudWarningView;
    use crate::account::RequestId;
    use crate::error::ShopError;
    use crate::refund::RefundView;
    use crate::refunds::{Merchant, RefundForm, Refunds};
    use crate::store::{Store, StoreError};

    pub fn is_fraud_warning_event(kind: &str) -> bool {
        kind.starts_with("radar.early_fraud_warning.")
    }

    #[derive(Clone)]
    pub struct FraudWarnings {
        store: Store,
        refunds: Refunds,
    }

    impl FraudWarnings {
        pub fn new(store: Store, refunds: Refunds) -> FraudWarnings {
            FraudWarnings { store, refunds }
        }

        pub async fn apply_event(&self, event: &Event) -> Result<(), StoreError> {
            match event.object_as::<EarlyFraudWarning>() {
                Ok(warning) => {
                    self.store
                        .apply_fraud_warning(&warning, event.created)
                        .await?;
                    tracing::info!(warning = %warning.id, actionable = warning.actionable, "early fraud warning recorded");
                }
                Err(error) => {
                    tracing::error!(%error, "fraud warning event with an unexpected object")
                }
            }
            Ok(())
        }

        pub async fn list(&self) -> Result<Vec<FraudWarningView>, ShopError> {
            Ok(self.store.fraud_warnings().await?)
        }

        /// "Refund as fraudulent": everything still refundable on the warned payment, with
        /// `reason=fraudulent`, through the ordinary refund path.
        pub async fn refund_fraudulent(
            &self,
            merchant: &Merchant,
            warning_id: &str,
            request: &RequestId,
        ) -> Result<RefundView, ShopError> {
            let warning = self.store.fraud_warning(warning_id).await?;
            // The same request again (a double click): the refund it made, even though
            // the warning is no longer actionable since.
            if let Some(made) = self.refunds.made_by(request).await? {
                return Ok(made);
            }
            let Some(order_id) = &warning.order_id else {
                return Err(ShopError::NotFound);
            };
            if !warning.actionable {
                return Err(ShopError::BadRequest(
                    "this warning is no longer actionable (refunded or disputed)".into(),
                ));
            }
            let note = format!("early fraud warning {}", warning.id);
            self.refunds
                .refund(
                    merchant,
                    order_id,
                    &RefundForm {
                        amount: "",
                        reason: "fraudulent",
                        note: &note,
                        request,
                    },
                )
                .await
        }
    }
}
