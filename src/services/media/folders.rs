//! Folders of a site's media library: a tree (parent ids). Names are unique among siblings; a
//! folder moves anywhere but into itself or below itself; only an empty folder is deleted.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{media, media_folder};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::visible;
use crate::services::identity::{Principal, TenantScope};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FolderPayload {
    pub name: String,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FolderPatch {
    pub name: Option<String>,
    /// `null` moves the folder to the top level.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<media_folder::Model> for FolderView {
    fn from(f: media_folder::Model) -> Self {
        Self {
            id: f.id,
            site_id: f.site_id,
            parent_id: f.parent_id,
            name: f.name,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

fn parse_folder_name(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains(['/', '\\']) || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_field("name", "must be 1 to 100 characters without slashes"));
    }
    Ok(name.to_owned())
}

pub async fn find(ctx: &AppContext, scope: &TenantScope, site_id: Uuid, id: Uuid) -> ApiResult<media_folder::Model> {
    visible(ctx, scope, site_id).await?;
    by_id_in_tenant::<media_folder::Entity>(scope.tenant_id, id)
        .filter(media_folder::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("folder"))
}

async fn sibling_named<C: sea_orm::ConnectionTrait>(
    conn: &C,
    site_id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut select = media_folder::Entity::find()
        .filter(media_folder::Column::SiteId.eq(site_id))
        .filter(media_folder::Column::Name.eq(name));
    select = match parent {
        Some(p) => select.filter(media_folder::Column::ParentId.eq(p)),
        None => select.filter(media_folder::Column::ParentId.is_null()),
    };
    if let Some(id) = except {
        select = select.filter(media_folder::Column::Id.ne(id));
    }
    if select.count(conn).await? > 0 {
        return Err(ApiError::new(ErrorCode::Conflict, format!("a folder named `{name}` is already there")));
    }
    Ok(())
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    params: &ListParams,
) -> ApiResult<Page<FolderView>> {
    let scope = principal.require(Permission::MediaRead)?;
    visible(ctx, scope, site_id).await?;
    let sort = params.sort_or(&["name", "createdAt"], Sort::asc("name"))?;
    let column = if sort.field == "createdAt" { media_folder::Column::CreatedAt } else { media_folder::Column::Name };
    let select = in_tenant::<media_folder::Entity>(scope.tenant_id).filter(media_folder::Column::SiteId.eq(site_id));
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(FolderView::from))
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    payload: FolderPayload,
) -> ApiResult<FolderView> {
    let scope = principal.require(Permission::MediaWrite)?;
    visible(ctx, scope, site_id).await?;
    let name = parse_folder_name(&payload.name)?;
    if let Some(parent) = payload.parent_id {
        find(ctx, scope, site_id, parent).await?;
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    sibling_named(&txn, site_id, payload.parent_id, &name, None).await?;
    let now = Utc::now();
    let folder = media_folder::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant_id),
        site_id: Set(site_id),
        parent_id: Set(payload.parent_id),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "media_folder.create",
        Target::new("media_folder", folder.id),
        json!({ "name": folder.name }),
    )
    .await?;
    txn.commit().await?;
    Ok(folder.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    patch: FolderPatch,
) -> ApiResult<FolderView> {
    let scope = principal.require(Permission::MediaWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let name = match &patch.name {
        Some(n) => parse_folder_name(n)?,
        None => current.name.clone(),
    };
    let parent = patch.parent_id.unwrap_or(current.parent_id);
    // Walk up from the new parent: meeting this folder means a cycle.
    let mut cursor = parent;
    let mut steps = 0;
    while let Some(ancestor) = cursor {
        if ancestor == id {
            return Err(ApiError::invalid_field("parentId", "a folder cannot move into itself or its subfolders"));
        }
        cursor = find(ctx, scope, site_id, ancestor).await?.parent_id;
        steps += 1;
        if steps > 100 {
            return Err(ApiError::invalid_field("parentId", "folders nest at most 100 deep"));
        }
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    sibling_named(&txn, site_id, parent, &name, Some(id)).await?;
    let mut active: media_folder::ActiveModel = current.into();
    active.name = Set(name);
    active.parent_id = Set(parent);
    active.updated_at = Set(Utc::now());
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "media_folder.update",
        Target::new("media_folder", id),
        json!({ "parentId": parent }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<()> {
    let scope = principal.require(Permission::MediaWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let files = media::Entity::find().filter(media::Column::FolderId.eq(id)).count(&txn).await?;
    let folders = media_folder::Entity::find().filter(media_folder::Column::ParentId.eq(id)).count(&txn).await?;
    if files + folders > 0 {
        return Err(ApiError::new(ErrorCode::Conflict, "the folder is not empty")
            .with_details(json!({ "files": files, "folders": folders })));
    }
    media_folder::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "media_folder.delete",
        Target::new("media_folder", id),
        json!({ "name": current.name }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
