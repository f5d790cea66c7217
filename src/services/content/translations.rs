//! Translations: the locale variants of an entry share a translation group. Create a variant,
//! list a group's variants and missing locales, list a site's entries missing a locale.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::entry;

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiResult};
use crate::platform::tenancy::in_tenant;
use crate::services::audit::{self, Target};
use crate::services::content::entries::{self, join_tags, parse_title, EntryView, Status};
use crate::services::content::{hooks, save, types};
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::{visible, SiteView};
use crate::services::identity::tenants::parse_slug;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranslationPayload {
    /// One of the site's locales that the entry does not have yet.
    pub locale: String,
    /// Default: the source entry's title.
    pub title: Option<String>,
    /// Default: the source entry's slug.
    pub slug: Option<String>,
    /// Default: a copy of the source entry's data.
    pub data: Option<Value>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantSummary {
    pub id: Uuid,
    pub locale: String,
    pub title: String,
    pub slug: String,
    pub status: String,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&entry::Model> for VariantSummary {
    fn from(e: &entry::Model) -> Self {
        Self {
            id: e.id,
            locale: e.locale.clone(),
            title: e.title.clone(),
            slug: e.slug.clone(),
            status: e.status.clone(),
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Translations {
    pub translation_group: Uuid,
    pub variants: Vec<VariantSummary>,
    /// Site locales without a variant.
    pub missing: Vec<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MissingFilter {
    /// Only groups missing this locale (default: any of the site's locales).
    pub locale: Option<String>,
    /// Content type api id.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MissingTranslation {
    pub translation_group: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    /// The variants that exist.
    pub variants: Vec<VariantSummary>,
    pub missing: Vec<String>,
}

async fn group(ctx: &AppContext, group: Uuid) -> ApiResult<Vec<entry::Model>> {
    Ok(entry::Entity::find()
        .filter(entry::Column::TranslationGroup.eq(group))
        .order_by_asc(entry::Column::Locale)
        .all(&ctx.db)
        .await?)
}

pub async fn list(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<Translations> {
    let scope = principal.require(Permission::ContentRead)?;
    let (site, current) = entries::find(ctx, scope, site_id, id).await?;
    let variants = group(ctx, current.translation_group).await?;
    let locales = SiteView::from(site).locales;
    Ok(Translations {
        translation_group: current.translation_group,
        missing: locales.into_iter().filter(|l| !variants.iter().any(|v| &v.locale == l)).collect(),
        variants: variants.iter().map(VariantSummary::from).collect(),
    })
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    payload: TranslationPayload,
) -> ApiResult<EntryView> {
    let (scope, _) = entries::write_access(principal)?;
    let (site, source) = entries::find(ctx, scope, site_id, id).await?;
    let locale = entries::site_locale(&site, Some(&payload.locale))?;
    let content_type = types::find(ctx, scope.tenant_id, source.content_type_id).await?;
    let defs = types::defs(&content_type);
    let title = match &payload.title {
        Some(t) => parse_title(t)?,
        None => source.title.clone(),
    };
    let slug = match &payload.slug {
        Some(s) => parse_slug("slug", s)?,
        None => source.slug.clone(),
    };
    let tags = match &payload.tags {
        Some(t) => join_tags(t)?,
        None => source.tags.clone(),
    };
    // Shared (non-localized) fields always come from the group, whatever the payload says.
    let mut data = payload.data.clone().unwrap_or_else(|| source.data.clone());
    if let Value::Object(map) = &mut data {
        for f in defs.iter().filter(|f| !f.localized) {
            match source.data.get(&f.name) {
                Some(v) => map.insert(f.name.clone(), v.clone()),
                None => map.remove(&f.name),
            };
        }
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let checked =
        save::check(&txn, scope.tenant_id, site_id, source.content_type_id, &locale, None, &defs, &data).await?;
    let now = Utc::now();
    let created = entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        locale: Set(locale.clone()),
        title: Set(title),
        slug: Set(slug),
        tags: Set(tags),
        data: Set(Value::Object(checked.data.clone())),
        status: Set(Status::Draft.as_str().to_owned()),
        author_id: Set(principal.user_id),
        publish_at: Set(None),
        published_at: Set(None),
        revision: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..source.clone().into()
    };
    let created = entry::Entity::insert(created)
        .exec_with_returning(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "the entry already has this locale, or its slug is taken in that locale"))?;
    save::write_revision(&txn, None, &created, &principal.actor(), Some(format!("translated from {}", source.locale)))
        .await?;
    save::replace_refs(&txn, &created, &checked).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "entry.translate",
        Target::new("entry", created.id),
        json!({ "source": id, "locale": locale }),
    )
    .await?;
    txn.commit().await?;
    hooks::entries_changed(ctx, std::slice::from_ref(&created)).await;
    Ok(created.into())
}

/// Translation groups of the site that lack some of its locales (at most 500 groups).
pub async fn missing(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    filter: &MissingFilter,
) -> ApiResult<Vec<MissingTranslation>> {
    let scope = principal.require(Permission::ContentRead)?;
    let site = visible(ctx, scope, site_id).await?;
    let locales = match &filter.locale {
        Some(l) => vec![entries::site_locale(&site, Some(l))?],
        None => SiteView::from(site).locales,
    };
    let mut select = in_tenant::<entry::Entity>(scope.tenant_id)
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::Status.ne(Status::Archived.as_str()));
    if let Some(kind) = &filter.kind {
        select = select.filter(entry::Column::TypeApiId.eq(kind.as_str()));
    }
    let rows = select.order_by_desc(entry::Column::UpdatedAt).limit(20_000).all(&ctx.db).await?;
    let mut groups: BTreeMap<Uuid, Vec<entry::Model>> = BTreeMap::new();
    for row in rows {
        groups.entry(row.translation_group).or_default().push(row);
    }
    let mut out: Vec<MissingTranslation> = groups
        .into_iter()
        .filter_map(|(group, variants)| {
            let missing: Vec<String> =
                locales.iter().filter(|l| !variants.iter().any(|v| &v.locale == *l)).cloned().collect();
            (!missing.is_empty()).then(|| MissingTranslation {
                translation_group: group,
                kind: variants[0].type_api_id.clone(),
                variants: variants.iter().map(VariantSummary::from).collect(),
                missing,
            })
        })
        .collect();
    out.truncate(500);
    Ok(out)
}
