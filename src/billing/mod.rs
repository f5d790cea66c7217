//! Credits and billing: a wallet and an append-only ledger per tenant, prices, the metering API
//! every paid operation goes through, and Stripe (checkout and webhooks) to buy credits.

pub mod account;
pub mod ledger;
pub mod meter;
pub mod money;
pub mod prices;
pub mod stripe;
pub mod webhook;
