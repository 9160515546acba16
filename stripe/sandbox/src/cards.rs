//! Stripe's test cards, the `pm_card_*` / `tok_*` test PaymentMethods, Luhn and brand rules.

use serde::{Deserialize, Serialize};
use stripe_types::error::{code, decline_code};

/// Why a charge attempt is declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decline {
    Generic,
    InsufficientFunds,
    LostCard,
    StolenCard,
    ExpiredCard,
    IncorrectCvc,
    ProcessingError,
    /// A card number that is not one of Stripe's test cards.
    TestModeLiveCard,
    /// Off-session payment on a card that needs 3-D Secure.
    AuthenticationRequired,
}

impl Decline {
    /// `error.code`.
    pub fn code(self) -> &'static str {
        match self {
            Decline::ExpiredCard => code::EXPIRED_CARD,
            Decline::IncorrectCvc => code::INCORRECT_CVC,
            Decline::ProcessingError => code::PROCESSING_ERROR,
            Decline::AuthenticationRequired => code::AUTHENTICATION_REQUIRED,
            _ => code::CARD_DECLINED,
        }
    }

    /// `error.decline_code`.
    pub fn decline_code(self) -> &'static str {
        match self {
            Decline::Generic => decline_code::GENERIC_DECLINE,
            Decline::InsufficientFunds => decline_code::INSUFFICIENT_FUNDS,
            Decline::LostCard => decline_code::LOST_CARD,
            Decline::StolenCard => decline_code::STOLEN_CARD,
            Decline::ExpiredCard => decline_code::EXPIRED_CARD,
            Decline::IncorrectCvc => decline_code::INCORRECT_CVC,
            Decline::ProcessingError => decline_code::PROCESSING_ERROR,
            Decline::TestModeLiveCard => "test_mode_live_card",
            Decline::AuthenticationRequired => "authentication_required",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Decline::Generic | Decline::LostCard | Decline::StolenCard => "Your card was declined.",
            Decline::InsufficientFunds => "Your card has insufficient funds.",
            Decline::ExpiredCard => "Your card has expired.",
            Decline::IncorrectCvc => "Your card's security code is incorrect.",
            Decline::ProcessingError => {
                "An error occurred while processing your card. Try again in a little bit."
            }
            Decline::TestModeLiveCard => {
                "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing."
            }
            Decline::AuthenticationRequired => {
                "Your card was declined. This transaction requires authentication."
            }
        }
    }

    /// `error.param`, for the declines Stripe attributes to one field.
    pub fn param(self) -> Option<&'static str> {
        match self {
            Decline::ExpiredCard => Some("exp_month"),
            Decline::IncorrectCvc => Some("cvc"),
            _ => None,
        }
    }

    pub fn seller_message(self) -> &'static str {
        match self {
            Decline::Generic => "The bank did not return any further details with this decline.",
            Decline::AuthenticationRequired => {
                "The bank returned the decline code `authentication_required`."
            }
            Decline::ProcessingError => "The bank returned the decline code `processing_error`.",
            _ => "The bank returned the decline code.",
        }
    }
}

/// What a card does when used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "decline")]
pub enum Behaviour {
    Succeed,
    /// Declined at every confirmation / attach / setup.
    Decline(Decline),
    /// Attaches and sets up fine; every charge declined (`generic_decline`).
    ChargeCustomerFail,
    /// 3-D Secure on-session; off-session after being set up it does not need it.
    ThreeDsUnlessSetUp,
    /// Always 3-D Secure.
    ThreeDsAlways,
    /// 3-D Secure, then declined `insufficient_funds`.
    ThreeDsThenDecline,
    /// Succeeds, then a `fraudulent` dispute is opened.
    Dispute,
    /// Succeeds, then a Radar early fraud warning is raised.
    EarlyFraudWarning,
    /// Succeeds, then a `product_not_received` dispute is opened.
    DisputeProductNotReceived,
    /// Succeeds, then an inquiry (`warning_needs_response`) is opened.
    DisputeInquiry,
    /// Succeeds; a refund of it starts `pending` and later fails.
    RefundFail,
}

impl Behaviour {
    pub fn needs_three_ds(self) -> bool {
        matches!(
            self,
            Behaviour::ThreeDsAlways
                | Behaviour::ThreeDsThenDecline
                | Behaviour::ThreeDsUnlessSetUp
        )
    }
}

pub struct TestCard {
    pub number: &'static str,
    pub behaviour: Behaviour,
    pub funding: &'static str,
}

const fn card(number: &'static str, behaviour: Behaviour) -> TestCard {
    TestCard {
        number,
        behaviour,
        funding: "credit",
    }
}

pub const TEST_CARDS: &[TestCard] = &[
    card("4242424242424242", Behaviour::Succeed),
    TestCard {
        number: "4000056655665556",
        behaviour: Behaviour::Succeed,
        funding: "debit",
    },
    card("5555555555554444", Behaviour::Succeed),
    card("2223003122003222", Behaviour::Succeed),
    TestCard {
        number: "5200828282828210",
        behaviour: Behaviour::Succeed,
        funding: "debit",
    },
    TestCard {
        number: "5105105105105100",
        behaviour: Behaviour::Succeed,
        funding: "prepaid",
    },
    card("378282246310005", Behaviour::Succeed),
    card("371449635398431", Behaviour::Succeed),
    card("6011111111111117", Behaviour::Succeed),
    card("3056930009020004", Behaviour::Succeed),
    card("3566002020360505", Behaviour::Succeed),
    card("6200000000000005", Behaviour::Succeed),
    card("4000000000000002", Behaviour::Decline(Decline::Generic)),
    card(
        "4000000000009995",
        Behaviour::Decline(Decline::InsufficientFunds),
    ),
    card("4000000000009987", Behaviour::Decline(Decline::LostCard)),
    card("4000000000009979", Behaviour::Decline(Decline::StolenCard)),
    card("4000000000000069", Behaviour::Decline(Decline::ExpiredCard)),
    card(
        "4000000000000127",
        Behaviour::Decline(Decline::IncorrectCvc),
    ),
    card(
        "4000000000000119",
        Behaviour::Decline(Decline::ProcessingError),
    ),
    card("4000000000000341", Behaviour::ChargeCustomerFail),
    card("4000002500003155", Behaviour::ThreeDsUnlessSetUp),
    card("4000002760003184", Behaviour::ThreeDsAlways),
    card("4000000000003220", Behaviour::ThreeDsAlways),
    card("4000000000003063", Behaviour::ThreeDsAlways),
    card("4000008260003178", Behaviour::ThreeDsThenDecline),
    card("4000000000000259", Behaviour::Dispute),
    card("4000000000005423", Behaviour::EarlyFraudWarning),
    card("4000000000002685", Behaviour::DisputeProductNotReceived),
    card("4000000000001976", Behaviour::DisputeInquiry),
    card("4000000000005126", Behaviour::RefundFail),
];

pub fn test_card(number: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|c| c.number == number)
}

/// The card number behind a test PaymentMethod id (`pm_card_visa`) or token (`tok_visa`).
pub fn test_token(id: &str) -> Option<&'static str> {
    let name = id
        .strip_prefix("pm_card_")
        .or_else(|| id.strip_prefix("tok_"))?;
    Some(match name {
        "visa" => "4242424242424242",
        "visa_debit" => "4000056655665556",
        "mastercard" => "5555555555554444",
        "mastercard_debit" => "5200828282828210",
        "mastercard_prepaid" => "5105105105105100",
        "amex" => "378282246310005",
        "discover" => "6011111111111117",
        "diners" => "3056930009020004",
        "jcb" => "3566002020360505",
        "unionpay" => "6200000000000005",
        "chargeDeclined" => "4000000000000002",
        "chargeDeclinedInsufficientFunds" => "4000000000009995",
        "chargeDeclinedLostCard" => "4000000000009987",
        "chargeDeclinedStolenCard" => "4000000000009979",
        "chargeDeclinedExpiredCard" => "4000000000000069",
        "chargeDeclinedIncorrectCvc" => "4000000000000127",
        "chargeDeclinedProcessingError" => "4000000000000119",
        "chargeCustomerFail" => "4000000000000341",
        "authenticationRequiredOnSetup" => "4000002500003155",
        "authenticationRequired" => "4000002760003184",
        "threeDSecure2Required" => "4000000000003220",
        "threeDSecureRequired" => "4000000000003063",
        "authenticationRequiredChargeDeclinedInsufficientFunds" => "4000008260003178",
        "createDispute" => "4000000000000259",
        "createDisputeProductNotReceived" => "4000000000002685",
        "createDisputeInquiry" => "4000000000001976",
        "createIssuerFraudRecord" | "createEarlyFraudWarning" | "radarEarlyFraudWarning" => {
            "4000000000005423"
        }
        "refundFail" => "4000000000005126",
        _ => return None,
    })
}

pub fn luhn_ok(number: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in number.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// Stripe's brand name for a card number (`visa`, `mastercard`, `amex`, …, `unknown`).
pub fn brand(number: &str) -> &'static str {
    let prefix = |n: usize| -> u32 { number.get(..n).and_then(|p| p.parse().ok()).unwrap_or(0) };
    if number.starts_with('4') {
        "visa"
    } else if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) {
        "mastercard"
    } else if matches!(prefix(2), 34 | 37) {
        "amex"
    } else if prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)) {
        "discover"
    } else if (300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38 | 39) {
        "diners"
    } else if (3528..=3589).contains(&prefix(4)) {
        "jcb"
    } else if prefix(2) == 62 {
        "unionpay"
    } else {
        "unknown"
    }
}

pub fn cvc_len(brand: &str) -> usize {
    if brand == "amex" {
        4
    } else {
        3
    }
}

/// Stable per-number fingerprint (16 chars), like Stripe's `card.fingerprint`.
pub fn fingerprint(number: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("stripe-sandbox-fingerprint:{number}").as_bytes());
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    digest
        .iter()
        .take(16)
        .map(|b| alphabet[(*b as usize) % alphabet.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_card_passes_luhn_except_the_bad_one() {
        for c in TEST_CARDS {
            assert!(luhn_ok(c.number), "{}", c.number);
        }
        assert!(!luhn_ok("4242424242424241"));
    }

    #[test]
    fn brands() {
        assert_eq!(brand("4242424242424242"), "visa");
        assert_eq!(brand("5555555555554444"), "mastercard");
        assert_eq!(brand("2223003122003222"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
        assert_eq!(brand("6011111111111117"), "discover");
        assert_eq!(cvc_len("amex"), 4);
        assert_eq!(cvc_len("visa"), 3);
    }

    #[test]
    fn tokens_map_to_test_cards() {
        for id in [
            "pm_card_visa",
            "pm_card_chargeDeclined",
            "pm_card_authenticationRequiredOnSetup",
            "tok_createDispute",
            "pm_card_createDisputeProductNotReceived",
            "pm_card_createDisputeInquiry",
            "pm_card_createIssuerFraudRecord",
            "tok_refundFail",
        ] {
            let number = test_token(id).unwrap();
            assert!(test_card(number).is_some(), "{id}");
        }
        assert_eq!(
            test_card(test_token("pm_card_refundFail").unwrap()).map(|c| c.behaviour),
            Some(Behaviour::RefundFail)
        );
        assert_eq!(
            test_token("pm_card_createIssuerFraudRecord"),
            test_token("pm_card_createEarlyFraudWarning")
        );
        assert!(test_token("pm_card_nope").is_none());
        assert!(test_token("pm_123").is_none());
    }
}
