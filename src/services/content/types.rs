//! Content types of a tenant. `post` and `page` exist in every tenant; a change to a type's
//! fields is checked against every entry of the type and refused (409, with the entries) when
//! it would make any of them invalid. Fields removed from a type take their data with them.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{content_type, entry};

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::fields::{self, FieldDef};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::permissions::Permission;
use crate::services::identity::tenants::parse_slug;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypePayload {
    pub name: String,
    /// Lower-case letters, digits and hyphens; unique in the tenant. From the name when absent.
    pub api_id: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The whole new field list (checked against existing entries).
    pub fields: Option<Vec<FieldDef>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeView {
    pub id: Uuid,
    pub name: String,
    pub api_id: String,
    pub description: String,
    pub fields: Vec<FieldDef>,
    pub builtin: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<content_type::Model> for TypeView {
    fn from(t: content_type::Model) -> Self {
        Self {
            id: t.id,
            fields: defs(&t),
            name: t.name,
            api_id: t.api_id,
            description: t.description,
            builtin: t.builtin,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The field list stored with a type (it was validated when written).
pub fn defs(t: &content_type::Model) -> Vec<FieldDef> {
    serde_json::from_value(t.fields.clone()).unwrap_or_default()
}

fn builtin_fields(api_id: &str) -> Value {
    let seo = [
        json!({"name": "seoTitle", "label": "SEO title", "type": "text", "max": 70}),
        json!({"name": "seoDescription", "label": "SEO description", "type": "text", "max": 160}),
    ];
    match api_id {
        "post" => json!([
            {"name": "excerpt", "label": "Excerpt", "type": "text", "max": 500},
            {"name": "body", "label": "Body", "type": "richText"},
            {"name": "cover", "label": "Cover image", "type": "media"},
            seo[0], seo[1]
        ]),
        _ => json!([
            {"name": "body", "label": "Body", "type": "richText"},
            {"name": "blocks", "label": "Blocks", "type": "elements"},
            seo[0], seo[1]
        ]),
    }
}

/// Creates `post` and `page` for the tenant if missing (safe to repeat and to race).
pub async fn ensure_builtins<C: ConnectionTrait>(conn: &C, tenant_id: Uuid) -> ApiResult<()> {
    let present =
        in_tenant::<content_type::Entity>(tenant_id).filter(content_type::Column::Builtin.eq(true)).count(conn).await?;
    if present >= 2 {
        return Ok(());
    }
    for (api_id, name) in [("post", "Post"), ("page", "Page")] {
        let now = Utc::now();
        let inserted = content_type::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant_id),
            name: Set(name.to_owned()),
            api_id: Set(api_id.to_owned()),
            description: Set(format!("Built-in {api_id} type")),
            fields: Set(builtin_fields(api_id)),
            builtin: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(conn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The tenant's type by api id (400 naming the field when there is none).
pub async fn by_api_id(ctx: &AppContext, tenant_id: Uuid, api_id: &str) -> ApiResult<content_type::Model> {
    ensure_builtins(&ctx.db, tenant_id).await?;
    in_tenant::<content_type::Entity>(tenant_id)
        .filter(content_type::Column::ApiId.eq(api_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::invalid_field("type", format!("no content type `{api_id}`")))
}

pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<content_type::Model> {
    by_id_in_tenant::<content_type::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("content type"))
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<TypeView>> {
    let scope = principal.require(Permission::ContentRead)?;
    ensure_builtins(&ctx.db, scope.tenant_id).await?;
    let sort = params.sort_or(&["name", "apiId", "createdAt"], Sort::asc("name"))?;
    let column = match sort.field.as_str() {
        "apiId" => content_type::Column::ApiId,
        "createdAt" => content_type::Column::CreatedAt,
        _ => content_type::Column::Name,
    };
    let select = in_tenant::<content_type::Entity>(scope.tenant_id);
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(TypeView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<TypeView> {
    let scope = principal.require(Permission::ContentRead)?;
    Ok(find(ctx, scope.tenant_id, id).await?.into())
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: TypePayload) -> ApiResult<TypeView> {
    let scope = principal.require(Permission::ContentTypesManage)?;
    let name = parse_name("name", &payload.name)?;
    let api_id = match &payload.api_id {
        Some(id) => parse_slug("apiId", id)?,
        None => crate::services::identity::tenants::slugify(&name),
    };
    fields::check_defs(&payload.fields)?;
    ensure_builtins(&ctx.db, scope.tenant_id).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let created = content_type::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant_id),
        name: Set(name),
        api_id: Set(api_id),
        description: Set(payload.description.trim().to_owned()),
        fields: Set(serde_json::to_value(&payload.fields).map_err(anyhow::Error::from)?),
        builtin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "a content type with this api id already exists"))?;
    audit::record(
        &txn,
        &principal.actor(),
        "content_type.create",
        Target::new("content_type", created.id),
        json!({ "apiId": created.api_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(created.into())
}

/// An entry that a type change would break, for the 409.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Broken {
    id: Uuid,
    site_id: Uuid,
    locale: String,
    title: String,
    errors: Vec<fields::FieldError>,
}

/// Entries' data with removed fields dropped, checked against `new`; the 409 when any fails.
fn recheck(entries: &[entry::Model], new: &[FieldDef]) -> ApiResult<Vec<(Uuid, Value)>> {
    let mut pruned = Vec::new();
    let mut broken = Vec::new();
    let mut unique_seen: HashMap<(Uuid, String, String, String), Uuid> = HashMap::new();
    for e in entries {
        let mut data = e.data.as_object().cloned().unwrap_or_default();
        let before = data.len();
        data.retain(|key, _| new.iter().any(|f| &f.name == key));
        let data = Value::Object(data);
        let mut errors = match fields::validate(new, &data) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        };
        for f in new.iter().filter(|f| f.unique) {
            let Some(key) = data.get(&f.name).and_then(fields::unique_key) else { continue };
            let slot = (e.site_id, e.locale.clone(), f.name.clone(), key);
            if let Some(other) = unique_seen.insert(slot, e.id) {
                errors.push(fields::FieldError::new(&f.name, format!("same value as entry {other}")));
            }
        }
        if !errors.is_empty() {
            broken.push(Broken {
                id: e.id,
                site_id: e.site_id,
                locale: e.locale.clone(),
                title: e.title.clone(),
                errors,
            });
        } else if data.as_object().map_or(0, |m| m.len()) != before {
            pruned.push((e.id, data));
        }
    }
    if broken.is_empty() {
        return Ok(pruned);
    }
    let count = broken.len();
    broken.truncate(50);
    Err(ApiError::new(
        ErrorCode::Conflict,
        format!("the new fields would make {count} existing entr{} invalid", if count == 1 { "y" } else { "ies" }),
    )
    .with_details(json!({ "count": count, "entries": broken })))
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: TypePatch) -> ApiResult<TypeView> {
    let scope = principal.require(Permission::ContentTypesManage)?;
    let current = find(ctx, scope.tenant_id, id).await?;
    let mut active: content_type::ActiveModel = current.clone().into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(description) = &patch.description {
        active.description = Set(description.trim().to_owned());
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let mut touched = Vec::new();
    if let Some(new_fields) = &patch.fields {
        fields::check_defs(new_fields)?;
        let entries = entry::Entity::find().filter(entry::Column::ContentTypeId.eq(id)).all(&txn).await?;
        let pruned = recheck(&entries, new_fields)?;
        for (entry_id, data) in pruned {
            entry::Entity::update_many()
                .col_expr(entry::Column::Data, sea_orm::sea_query::Expr::value(data))
                .filter(entry::Column::Id.eq(entry_id))
                .exec(&txn)
                .await?;
            touched.push(entry_id);
        }
        active.fields = Set(serde_json::to_value(new_fields).map_err(anyhow::Error::from)?);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "content_type.update",
        Target::new("content_type", id),
        json!({ "entriesPruned": touched.len() }),
    )
    .await?;
    txn.commit().await?;
    if !touched.is_empty() {
        crate::services::content::hooks::type_changed(ctx, scope.tenant_id, id).await;
    }
    Ok(updated.into())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let scope = principal.require(Permission::ContentTypesManage)?;
    let current = find(ctx, scope.tenant_id, id).await?;
    if current.builtin {
        return Err(ApiError::new(ErrorCode::Conflict, "built-in content types cannot be deleted"));
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let entries = entry::Entity::find().filter(entry::Column::ContentTypeId.eq(id)).count(&txn).await?;
    if entries > 0 {
        return Err(ApiError::new(ErrorCode::Conflict, format!("{entries} entries still use this content type"))
            .with_details(json!({ "entries": entries })));
    }
    content_type::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "content_type.delete",
        Target::new("content_type", id),
        json!({ "apiId": current.api_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
