//! The review queue: people approve, correct or reject extracted values; a run is complete when
//! every required field of every document is approved or corrected. Approved records export as
//! JSON or CSV.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{analysis_result, analysis_run, document};

use super::runs::{self, ResultView};
use super::schema::{self, Field};
use super::values;
use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{ListParams, Page};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct QueueFilter {
    /// `pending` (default), `approved`, `corrected` or `rejected`.
    pub status: Option<String>,
    pub run_id: Option<Uuid>,
}

/// Values failing validation first, then the least confident.
pub async fn queue(
    ctx: &AppContext,
    principal: &Principal,
    filter: &QueueFilter,
    params: &ListParams,
) -> ApiResult<Page<ResultView>> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let status = filter.status.clone().unwrap_or_else(|| "pending".to_owned());
    if !["pending", "approved", "corrected", "rejected"].contains(&status.as_str()) {
        return Err(ApiError::invalid_field("status", "one of pending, approved, corrected, rejected"));
    }
    let mut select = in_tenant::<analysis_result::Entity>(tenant_id).filter(analysis_result::Column::Status.eq(status));
    if let Some(run) = filter.run_id {
        runs::find(ctx, tenant_id, run).await?;
        select = select.filter(analysis_result::Column::RunId.eq(run));
    }
    let mut all = select.order_by_asc(analysis_result::Column::Confidence).all(&ctx.db).await?;
    // Errors first; the sort is stable, so confidence order holds within each group.
    all.sort_by_key(|r| r.errors.as_array().is_none_or(Vec::is_empty));
    Ok(Page::from_vec(all, params).map(ResultView::from))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Review {
    /// `approve`, `correct` (with `value`) or `reject`.
    pub action: String,
    /// The right value, for `correct`: typed as the field (`"2024-03-15"`, `{"amount": "10.00", "currency": "EUR"}`).
    pub value: Option<Value>,
    pub comment: Option<String>,
}

/// A reviewer's value, made typed for the field like an extracted one.
fn corrected(field: &Field, value: &Value) -> ApiResult<Value> {
    let typed = match value {
        Value::String(s) => values::normalise(field, s).map_err(|e| ApiError::invalid_field("value", e))?,
        Value::Object(m) if m.contains_key("amount") => {
            let text = format!(
                "{} {}",
                m.get("currency").and_then(Value::as_str).unwrap_or_default(),
                m["amount"].as_str().map_or_else(|| m["amount"].to_string(), str::to_owned)
            );
            values::normalise(field, &text).map_err(|e| ApiError::invalid_field("value", e))?
        }
        other => other.clone(),
    };
    let errors = values::check(field, &typed);
    if !errors.is_empty() {
        return Err(ApiError::invalid_field("value", errors.join("; ")));
    }
    Ok(typed)
}

pub async fn review(ctx: &AppContext, principal: &Principal, id: Uuid, review: Review) -> ApiResult<ResultView> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let result = by_id_in_tenant::<analysis_result::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("analysis result"))?;
    let run = runs::find(ctx, tenant_id, result.run_id).await?;
    let schema_row = schema::find(ctx, tenant_id, run.schema_id).await?;
    let fields = schema::fields_of(ctx, &schema_row, run.schema_version).await?;
    let field = fields.iter().find(|f| f.name == result.field).ok_or_else(|| ApiError::not_found("field"))?;
    let (status, value) = match (review.action.as_str(), &review.value) {
        ("approve", None) if result.value.is_none() => {
            return Err(ApiError::new(ErrorCode::Conflict, "nothing was found to approve; correct it with a value"))
        }
        ("approve", None) => ("approved", None),
        ("correct", Some(v)) => ("corrected", Some(corrected(field, v)?)),
        ("correct", None) => return Err(ApiError::invalid_field("value", "a correction needs the value")),
        ("reject", None) => ("rejected", None),
        ("approve" | "reject", Some(_)) => {
            return Err(ApiError::invalid_field("value", "only `correct` takes a value"))
        }
        (other, _) => {
            return Err(ApiError::invalid_field("action", format!("`{other}` is not approve, correct or reject")))
        }
    };
    let comment = review.comment.map(|c| c.trim().chars().take(2000).collect::<String>()).filter(|c| !c.is_empty());
    let mut active: analysis_result::ActiveModel = result.clone().into();
    active.status = Set(status.to_owned());
    active.reviewed_value = Set(value.clone());
    active.reviewer = Set(principal.actor().id);
    active.reviewed_at = Set(Some(Utc::now()));
    active.comment = Set(comment.clone());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    let details =
        json!({ "run": run.id, "field": result.field, "action": review.action, "value": value, "comment": comment });
    audit::record(&txn, &principal.actor(), "analysis.review", Target::new("analysis_result", id), details).await?;
    txn.commit().await?;
    finish_if_complete(ctx, run.id).await?;
    Ok(saved.into())
}

fn accepted(r: &analysis_result::Model) -> bool {
    r.status == "approved" || r.status == "corrected"
}

/// Completes a run whose every required field is approved or corrected (and emits `analysis.completed`).
pub async fn finish_if_complete(ctx: &AppContext, run_id: Uuid) -> ApiResult<bool> {
    let Some(run) = analysis_run::Entity::find_by_id(run_id).one(&ctx.db).await? else { return Ok(false) };
    if !matches!(run.status.as_str(), "running" | "review") {
        return Ok(run.status == "completed");
    }
    let schema_row = entity::analysis_schema::Entity::find_by_id(run.schema_id).one(&ctx.db).await?;
    let Some(schema_row) = schema_row else { return Ok(false) };
    let fields = schema::fields_of(ctx, &schema_row, run.schema_version).await?;
    let results = runs::results_of(ctx, run.id).await?;
    let ids: Vec<Uuid> = serde_json::from_value(run.document_ids.clone()).unwrap_or_default();
    let complete = ids.iter().all(|doc| {
        fields
            .iter()
            .filter(|f| f.required)
            .all(|f| results.iter().any(|r| r.document_id == *doc && r.field == f.name && accepted(r)))
    }) && ids.iter().all(|doc| results.iter().any(|r| r.document_id == *doc));
    if !complete {
        return Ok(false);
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let updated = analysis_run::Entity::update_many()
        .col_expr(analysis_run::Column::Status, sea_orm::sea_query::Expr::value("completed"))
        .col_expr(analysis_run::Column::CompletedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .col_expr(analysis_run::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(analysis_run::Column::Id.eq(run.id))
        .filter(analysis_run::Column::Status.is_in(["running", "review"]))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 1 {
        let event = crate::services::webhooks::events::AnalysisCompletedV1 {
            run_id: run.id,
            schema_id: run.schema_id,
            documents: ids.len(),
        };
        crate::services::webhooks::events::emit(&txn, run.tenant_id, &event).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// One document's accepted values by field (corrections win over extracted values).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub document_id: Uuid,
    pub title: Option<String>,
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
}

pub async fn records(ctx: &AppContext, principal: &Principal, run_id: Uuid) -> ApiResult<(Vec<Field>, Vec<Record>)> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let run = runs::find(ctx, tenant_id, run_id).await?;
    let schema_row = schema::find(ctx, tenant_id, run.schema_id).await?;
    let fields = schema::fields_of(ctx, &schema_row, run.schema_version).await?;
    let ids: Vec<Uuid> = serde_json::from_value(run.document_ids.clone()).unwrap_or_default();
    let titles: BTreeMap<Uuid, String> = document::Entity::find()
        .filter(document::Column::Id.is_in(ids.clone()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.title))
        .collect();
    let results = runs::results_of(ctx, run.id).await?;
    let records = ids
        .iter()
        .map(|doc| {
            let fields = results
                .iter()
                .filter(|r| r.document_id == *doc && accepted(r))
                .map(|r| (r.field.clone(), r.reviewed_value.clone().or_else(|| r.value.clone()).unwrap_or(Value::Null)))
                .collect();
            Record { document_id: *doc, title: titles.get(doc).cloned(), fields }
        })
        .collect();
    Ok((fields, records))
}

/// A value as one CSV cell: money as `1234.50 EUR`, lists and tables as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(m) if m.contains_key("amount") => {
            format!("{} {}", m["amount"].as_str().unwrap_or_default(), m["currency"].as_str().unwrap_or_default())
                .trim()
                .to_owned()
        }
        other => other.to_string(),
    }
}

pub async fn csv(ctx: &AppContext, principal: &Principal, run_id: Uuid) -> ApiResult<String> {
    let (fields, records) = records(ctx, principal, run_id).await?;
    let field = crate::services::audit::events::csv_field;
    let mut out = String::new();
    let header: Vec<String> = ["documentId", "document"]
        .iter()
        .map(|h| (*h).to_owned())
        .chain(fields.iter().map(|f| f.name.clone()))
        .collect();
    out.push_str(&header.iter().map(|h| field(h)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for r in records {
        let mut row = vec![field(&r.document_id.to_string()), field(r.title.as_deref().unwrap_or_default())];
        row.extend(fields.iter().map(|f| field(&cell(r.fields.get(&f.name).unwrap_or(&Value::Null)))));
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Ok(out)
}
