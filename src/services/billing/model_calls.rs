//! One path for every billed model call: hold credits for its most expensive outcome, run it,
//! then settle what it really used and write its usage row; a call that failed releases its hold
//! and writes nothing. Chat turns, public assistants and the OpenAI-compatible chat, completions
//! and embeddings all go through [`BilledCall`].

use std::time::Instant;

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::ApiResult;
use crate::services::billing::meter::{self, Operation, Payer, Reservation};
use crate::services::billing::prices::Quantity;
use crate::services::chat::usage;
use crate::services::identity::Principal;

/// The tokens a model call used (or, before it runs, may use at most).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub prompt: u32,
    pub completion: u32,
}

/// How a call is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// Prompt and completion tokens of `model`, plus one search when the call retrieved.
    Generation { retrieved: bool },
    /// Input tokens of the embedding model.
    Embedding,
}

impl Pricing {
    fn quantity(self, tokens: Tokens) -> Quantity {
        match self {
            Self::Generation { retrieved } => meter::model_call(tokens.prompt, tokens.completion, i64::from(retrieved)),
            Self::Embedding => Quantity { embed_tokens: i64::from(tokens.prompt), ..Quantity::default() },
        }
    }
}

/// What is being called, by whom, and how it shows in the usage records.
pub struct CallSpec {
    pub payer: Payer,
    /// The usage row's actor (`user:…`, `api_key:…`, `public:<site>`).
    pub actor: String,
    pub operation: Operation,
    /// The usage row's operation: `chat`, `chat.completions`, `completions`, `embeddings`.
    pub usage_operation: &'static str,
    pub model: String,
    pub pricing: Pricing,
}

impl CallSpec {
    /// A call a signed-in user or an API key makes, paid by its tenant.
    pub fn for_principal(
        principal: &Principal,
        operation: Operation,
        usage_operation: &'static str,
        model: &str,
        pricing: Pricing,
    ) -> ApiResult<Self> {
        Ok(Self {
            payer: meter::Payer::of(principal)?,
            actor: usage::actor(principal),
            operation,
            usage_operation,
            model: model.to_owned(),
            pricing,
        })
    }
}

/// A model call with credits held for it. End it with [`finish`](Self::finish),
/// [`settle`](Self::settle) plus [`record_usage`](Self::record_usage), or
/// [`release`](Self::release).
pub struct BilledCall {
    reservation: Reservation,
    tenant_id: Uuid,
    actor: String,
    usage_operation: &'static str,
    model: String,
    pricing: Pricing,
    started: Instant,
}

impl BilledCall {
    /// Holds the price of `most` tokens; 402 when the payer cannot afford it.
    pub async fn hold(ctx: &AppContext, spec: CallSpec, most: Tokens) -> ApiResult<Self> {
        let tenant_id = spec.payer.tenant_id;
        // Embeddings are priced by the platform's one embedding model, not by a named one.
        let priced_model = match spec.pricing {
            Pricing::Generation { .. } => Some(spec.model.as_str()),
            Pricing::Embedding => None,
        };
        let estimate = spec.pricing.quantity(most);
        let reservation =
            meter::reserve_for(ctx, spec.payer, Uuid::now_v7(), spec.operation, priced_model, &estimate).await?;
        Ok(Self {
            reservation,
            tenant_id,
            actor: spec.actor,
            usage_operation: spec.usage_operation,
            model: spec.model,
            pricing: spec.pricing,
            started: Instant::now(),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Books what the call used; the price in micro-credits.
    pub async fn settle(&self, ctx: &AppContext, used: Tokens) -> i64 {
        meter::settle(ctx, &self.reservation, &self.pricing.quantity(used)).await
    }

    /// The call failed: nothing is charged and no usage is recorded.
    pub async fn release(&self, ctx: &AppContext) {
        meter::settle(ctx, &self.reservation, &Quantity::default()).await;
    }

    /// Writes the usage row, on `conn` so a caller can commit it with its own rows.
    pub async fn record_usage<C: ConnectionTrait>(
        &self,
        conn: &C,
        used: Tokens,
        latency_ms: u64,
    ) -> Result<(), sea_orm::DbErr> {
        let call = usage::Call {
            tenant_id: self.tenant_id,
            actor: self.actor.clone(),
            operation: self.usage_operation,
            model: &self.model,
            prompt_tokens: used.prompt,
            completion_tokens: used.completion,
            latency_ms,
        };
        usage::record(conn, call).await
    }

    /// Settles and records in one step, timed from the hold; the price in micro-credits.
    pub async fn finish(self, ctx: &AppContext, used: Tokens) -> i64 {
        let cost = self.settle(ctx, used).await;
        if let Err(error) = self.record_usage(&ctx.db, used, elapsed_ms(self.started)).await {
            tracing::error!(%error, operation = self.usage_operation, "recording model usage failed");
        }
        cost
    }
}

pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
