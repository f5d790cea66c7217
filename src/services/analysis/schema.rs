//! Extraction schemas: named fields with a type, instructions, and rules. Changing the fields
//! makes a new version; runs record the version they used, and old versions stay readable.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{analysis_run, analysis_schema, analysis_schema_version};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::fields::{invalid_data, FieldError};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    String,
    Number,
    /// `{"amount": "1234.50", "currency": "EUR"}`.
    Money,
    /// ISO `YYYY-MM-DD`.
    Date,
    Boolean,
    /// One of `values`.
    Enum,
    StringList,
    /// Rows of `columns`.
    Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Field {
    /// `invoiceNumber`: letters, digits, `_`; unique in the schema.
    pub name: String,
    pub r#type: FieldType,
    /// What to look for, in words ("the invoice number, labelled Invoice No."): the extractors'
    /// instructions and the rule-based extractor's keywords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// A regular expression string values must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allowed values of an `enum`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Column names of a `table`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemaPayload {
    pub name: String,
    pub description: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemaPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// New fields make a new version.
    pub fields: Option<Vec<Field>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub version: i32,
    pub fields: Vec<Field>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<analysis_schema::Model> for SchemaView {
    fn from(m: analysis_schema::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            description: m.description,
            version: m.version,
            fields: serde_json::from_value(m.fields).unwrap_or_default(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

const MAX_FIELDS: usize = 100;

/// Checks a field list; every problem is reported with the field it concerns.
pub fn check_fields(fields: &[Field]) -> ApiResult<()> {
    let mut errors = Vec::new();
    if fields.is_empty() || fields.len() > MAX_FIELDS {
        errors.push(FieldError::new("fields", format!("1 to {MAX_FIELDS} fields")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let at = format!("fields[{i}]");
        let valid_name = !f.name.is_empty()
            && f.name.len() <= 64
            && f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && f.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !valid_name {
            errors.push(FieldError::new(
                &format!("{at}.name"),
                "letters, digits and _, starting with a letter, at most 64",
            ));
        }
        if !seen.insert(f.name.to_lowercase()) {
            errors.push(FieldError::new(&format!("{at}.name"), format!("`{}` is used twice", f.name)));
        }
        if let Some(pattern) = &f.pattern {
            if regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().is_err() {
                errors.push(FieldError::new(&format!("{at}.pattern"), "is not a valid regular expression"));
            }
        }
        let is_enum = f.r#type == FieldType::Enum;
        if is_enum == f.values.is_empty() {
            errors
                .push(FieldError::new(&format!("{at}.values"), "an enum needs allowed values; other types take none"));
        }
        let is_table = f.r#type == FieldType::Table;
        if is_table == f.columns.is_empty() {
            errors.push(FieldError::new(&format!("{at}.columns"), "a table needs columns; other types take none"));
        }
        if f.description.as_ref().is_some_and(|d| d.chars().count() > 2000) {
            errors.push(FieldError::new(&format!("{at}.description"), "at most 2000 characters"));
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(invalid_data(errors))
}

fn check_name(name: &str) -> ApiResult<String> {
    crate::services::identity::accounts::parse_name("name", name)
}

async fn name_taken(ctx: &AppContext, tenant: Uuid, name: &str, except: Option<Uuid>) -> ApiResult<()> {
    let mut q = in_tenant::<analysis_schema::Entity>(tenant).filter(analysis_schema::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(analysis_schema::Column::Id.ne(id));
    }
    if q.one(&ctx.db).await?.is_some() {
        return Err(ApiError::new(ErrorCode::Conflict, format!("a schema named `{name}` exists")));
    }
    Ok(())
}

fn version_row(schema: &analysis_schema::Model) -> analysis_schema_version::ActiveModel {
    analysis_schema_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        schema_id: Set(schema.id),
        tenant_id: Set(schema.tenant_id),
        version: Set(schema.version),
        fields: Set(schema.fields.clone()),
        created_at: Set(Utc::now()),
    }
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: SchemaPayload) -> ApiResult<SchemaView> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let name = check_name(&payload.name)?;
    check_fields(&payload.fields)?;
    name_taken(ctx, tenant_id, &name, None).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = analysis_schema::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        name: Set(name),
        description: Set(payload.description),
        version: Set(1),
        fields: Set(serde_json::to_value(&payload.fields).map_err(anyhow::Error::from)?),
        created_by: Set(principal.actor().id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    version_row(&saved).insert(&txn).await?;
    let details = json!({ "name": saved.name, "version": 1 });
    audit::record(
        &txn,
        &principal.actor(),
        "analysis_schema.create",
        Target::new("analysis_schema", saved.id),
        details,
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<analysis_schema::Model> {
    by_id_in_tenant::<analysis_schema::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("analysis schema"))
}

/// The fields of `version` of a schema.
pub async fn fields_of(ctx: &AppContext, schema: &analysis_schema::Model, version: i32) -> ApiResult<Vec<Field>> {
    let row = analysis_schema_version::Entity::find()
        .filter(analysis_schema_version::Column::SchemaId.eq(schema.id))
        .filter(analysis_schema_version::Column::Version.eq(version))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("schema version"))?;
    Ok(serde_json::from_value(row.fields).unwrap_or_default())
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<SchemaView>> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let sort = params.sort_or(&["name", "createdAt", "updatedAt"], Sort::asc("name"))?;
    let column = match sort.field.as_str() {
        "createdAt" => analysis_schema::Column::CreatedAt,
        "updatedAt" => analysis_schema::Column::UpdatedAt,
        _ => analysis_schema::Column::Name,
    };
    let select = in_tenant::<analysis_schema::Entity>(tenant_id);
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(SchemaView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid, version: Option<i32>) -> ApiResult<SchemaView> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let schema = find(ctx, tenant_id, id).await?;
    let Some(version) = version.filter(|v| *v != schema.version) else { return Ok(schema.into()) };
    let fields = fields_of(ctx, &schema, version).await?;
    Ok(SchemaView { version, fields, ..schema.into() })
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: SchemaPatch) -> ApiResult<SchemaView> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    find(ctx, tenant_id, id).await?;
    // Read again inside the write: the next version number comes from the row as it is now.
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let current = by_id_in_tenant::<analysis_schema::Entity>(tenant_id, id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("analysis schema"))?;
    let mut active: analysis_schema::ActiveModel = current.clone().into();
    if let Some(name) = &patch.name {
        let name = check_name(name)?;
        name_taken(ctx, tenant_id, &name, Some(id)).await?;
        active.name = Set(name);
    }
    if patch.description.is_some() {
        active.description = Set(patch.description.clone().filter(|d| !d.trim().is_empty()));
    }
    let mut new_version = false;
    if let Some(fields) = &patch.fields {
        check_fields(fields)?;
        let value = serde_json::to_value(fields).map_err(anyhow::Error::from)?;
        if value != current.fields {
            active.fields = Set(value);
            active.version = Set(current.version + 1);
            new_version = true;
        }
    }
    active.updated_at = Set(Utc::now());
    let saved = active.update(&txn).await?;
    if new_version {
        version_row(&saved).insert(&txn).await?;
    }
    let details = json!({ "version": saved.version, "name": patch.name });
    audit::record(&txn, &principal.actor(), "analysis_schema.update", Target::new("analysis_schema", id), details)
        .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Deletes a schema no run uses (a 409 lists how many do).
pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    find(ctx, tenant_id, id).await?;
    use sea_orm::PaginatorTrait;
    let runs = analysis_run::Entity::find().filter(analysis_run::Column::SchemaId.eq(id)).count(&ctx.db).await?;
    if runs > 0 {
        return Err(ApiError::new(ErrorCode::Conflict, format!("{runs} analysis runs use this schema"))
            .with_details(json!({ "runs": runs })));
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    analysis_schema_version::Entity::delete_many()
        .filter(analysis_schema_version::Column::SchemaId.eq(id))
        .exec(&txn)
        .await?;
    analysis_schema::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(&txn, &principal.actor(), "analysis_schema.delete", Target::new("analysis_schema", id), json!({}))
        .await?;
    txn.commit().await?;
    Ok(())
}
