//! Public delivery: published entries of a site for visitors and front ends. Drafts, scheduled
//! and archived entries do not exist here. A locale that an entry lacks falls back to the site's
//! default locale. Media, elements and references are resolved to a bounded depth; a reference
//! to an entry that is not published resolves to null.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{content_type, element, entry, media, site};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::services::content::entries::{split_tags, Status};
use crate::services::content::fields::{FieldDef, FieldKind};
use crate::services::content::site_search::{public_locale, public_site};
use crate::services::identity::sites::SiteView;

pub const MAX_DEPTH: u8 = 3;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Content type api id.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Default: the site's default locale.
    pub locale: Option<String>,
    pub tag: Option<String>,
    /// `publishedAt` (default `-publishedAt`), `title`, `updatedAt`, with `-` for descending.
    pub sort: Option<String>,
    /// From 1 (default) to 10,000,000.
    #[param(minimum = 1, maximum = 10_000_000)]
    pub page: Option<u64>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// How deep references are resolved, 0–3 (default 1).
    pub depth: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicEntry {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    /// The locale of this content (the default locale when it is a fallback).
    pub locale: String,
    /// True when the requested locale has no translation and this is the default's.
    pub fallback: bool,
    pub slug: String,
    pub title: String,
    pub tags: Vec<String>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Field values with media, elements and references resolved.
    pub fields: Value,
    /// Other published locales of this entry.
    pub translations: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicPagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicEntries {
    pub data: Vec<PublicEntry>,
    pub pagination: PublicPagination,
}

fn published() -> Condition {
    Condition::all().add(entry::Column::Status.eq(Status::Published.as_str()))
}

/// Published entries of the site in `locale`, or in the default locale for translation
/// groups without a published `locale` variant.
fn in_locale(site: &site::Model, locale: &str) -> Condition {
    let default = SiteView::from(site.clone()).default_locale;
    let mut either = Condition::any().add(entry::Column::Locale.eq(locale));
    if default != locale {
        let translated = Query::select()
            .column(entry::Column::TranslationGroup)
            .from(entry::Entity)
            .and_where(Expr::col(entry::Column::SiteId).eq(site.id))
            .and_where(Expr::col(entry::Column::Locale).eq(locale))
            .and_where(Expr::col(entry::Column::Status).eq(Status::Published.as_str()))
            .to_owned();
        either = either.add(
            Condition::all()
                .add(entry::Column::Locale.eq(default))
                .add(entry::Column::TranslationGroup.not_in_subquery(translated)),
        );
    }
    Condition::all().add(entry::Column::SiteId.eq(site.id)).add(published()).add(either)
}

pub async fn list(ctx: &AppContext, site_id: Uuid, params: &DeliveryParams) -> ApiResult<PublicEntries> {
    let site = public_site(ctx, site_id).await?;
    let locale = public_locale(&site, params.locale.as_deref())?;
    let (page, limit) = crate::platform::paging::page_and_limit(params.page, params.limit, 20, 100)?;
    let depth = depth(params)?;
    let mut select = entry::Entity::find().filter(in_locale(&site, &locale));
    if let Some(kind) = &params.kind {
        select = select.filter(entry::Column::TypeApiId.eq(kind.as_str()));
    }
    if let Some(tag) = params.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        select = select.filter(entry::Column::Tags.contains(format!(",{tag},")));
    }
    let sort = params.sort.as_deref().unwrap_or("-publishedAt");
    let (field, descending) = sort.strip_prefix('-').map_or((sort, false), |f| (f, true));
    let column = match field {
        "publishedAt" => entry::Column::PublishedAt,
        "title" => entry::Column::Title,
        "updatedAt" => entry::Column::UpdatedAt,
        other => {
            return Err(ApiError::invalid_field(
                "sort",
                format!("cannot sort by `{other}`; allowed: publishedAt, title, updatedAt"),
            ))
        }
    };
    let order = if descending { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
    let total = select.clone().count(&ctx.db).await?;
    let rows = select
        .order_by(column, order.clone())
        .order_by(entry::Column::Id, order)
        .offset(crate::platform::paging::offset(page, limit))
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let mut resolver = Resolver::new(ctx, &site, &locale);
    let mut data = Vec::with_capacity(rows.len());
    for row in rows {
        data.push(resolver.entry(row, depth).await?);
    }
    Ok(PublicEntries { data, pagination: PublicPagination { page, limit, total } })
}

fn depth(params: &DeliveryParams) -> ApiResult<u8> {
    let depth = params.depth.unwrap_or(1);
    if depth > MAX_DEPTH {
        return Err(ApiError::invalid_field("depth", format!("at most {MAX_DEPTH}")));
    }
    Ok(depth)
}

/// One published entry by type and slug. The slug may be the requested locale's or the
/// default's; either way the visitor gets the requested locale when it is published.
pub async fn get(
    ctx: &AppContext,
    site_id: Uuid,
    kind: &str,
    slug: &str,
    params: &DeliveryParams,
) -> ApiResult<PublicEntry> {
    let site = public_site(ctx, site_id).await?;
    let locale = public_locale(&site, params.locale.as_deref())?;
    let depth = depth(params)?;
    let matching = entry::Entity::find()
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::TypeApiId.eq(kind))
        .filter(entry::Column::Slug.eq(slug))
        .filter(published())
        .all(&ctx.db)
        .await?;
    let Some(found) = matching.iter().find(|e| e.locale == locale).or_else(|| matching.first()) else {
        return Err(ApiError::not_found("entry"));
    };
    let chosen = Resolver::new(ctx, &site, &locale).variant(found.translation_group).await?;
    let chosen = chosen.unwrap_or_else(|| found.clone());
    Resolver::new(ctx, &site, &locale).entry(chosen, depth).await
}

/// A published entry of the site (for page-view beacons).
pub async fn published_entry(ctx: &AppContext, site_id: Uuid, id: Uuid) -> ApiResult<(site::Model, entry::Model)> {
    let site = public_site(ctx, site_id).await?;
    let found = entry::Entity::find_by_id(id)
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(published())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("entry"))?;
    Ok((site, found))
}

/// Resolves entries for one response, caching type definitions.
struct Resolver<'a> {
    ctx: &'a AppContext,
    site: &'a site::Model,
    locale: &'a str,
    default_locale: String,
    types: HashMap<Uuid, Vec<FieldDef>>,
}

impl<'a> Resolver<'a> {
    fn new(ctx: &'a AppContext, site: &'a site::Model, locale: &'a str) -> Self {
        let default_locale = SiteView::from(site.clone()).default_locale;
        Self { ctx, site, locale, default_locale, types: HashMap::new() }
    }

    /// The group's published variant in the requested locale, else in the default locale.
    async fn variant(&self, group: Uuid) -> ApiResult<Option<entry::Model>> {
        let variants = entry::Entity::find()
            .filter(entry::Column::TranslationGroup.eq(group))
            .filter(entry::Column::SiteId.eq(self.site.id))
            .filter(published())
            .all(&self.ctx.db)
            .await?;
        Ok(variants
            .iter()
            .find(|v| v.locale == self.locale)
            .or_else(|| variants.iter().find(|v| v.locale == self.default_locale))
            .cloned())
    }

    async fn defs(&mut self, type_id: Uuid) -> ApiResult<Vec<FieldDef>> {
        if let Some(d) = self.types.get(&type_id) {
            return Ok(d.clone());
        }
        let defs = content_type::Entity::find_by_id(type_id)
            .one(&self.ctx.db)
            .await?
            .map(|t| crate::services::content::types::defs(&t))
            .unwrap_or_default();
        self.types.insert(type_id, defs.clone());
        Ok(defs)
    }

    async fn entry(&mut self, e: entry::Model, depth: u8) -> ApiResult<PublicEntry> {
        let defs = self.defs(e.content_type_id).await?;
        let mut fields = Map::new();
        for def in &defs {
            let Some(value) = e.data.get(&def.name) else { continue };
            fields.insert(def.name.clone(), Box::pin(self.value(def, value, depth)).await?);
        }
        let translations = entry::Entity::find()
            .filter(entry::Column::TranslationGroup.eq(e.translation_group))
            .filter(entry::Column::Id.ne(e.id))
            .filter(published())
            .all(&self.ctx.db)
            .await?
            .into_iter()
            .map(|t| json!({ "locale": t.locale, "slug": t.slug }))
            .collect();
        Ok(PublicEntry {
            id: e.id,
            kind: e.type_api_id,
            fallback: e.locale != self.locale,
            locale: e.locale,
            slug: e.slug,
            title: e.title,
            tags: split_tags(&e.tags),
            published_at: e.published_at,
            updated_at: e.updated_at,
            fields: Value::Object(fields),
            translations,
        })
    }

    async fn value(&mut self, def: &FieldDef, value: &Value, depth: u8) -> ApiResult<Value> {
        let ids = |v: &Value| -> Vec<Uuid> {
            match v {
                Value::Array(items) => items.iter().filter_map(|i| i.as_str()?.parse().ok()).collect(),
                Value::String(s) => s.parse().ok().into_iter().collect(),
                _ => Vec::new(),
            }
        };
        let single = !matches!(value, Value::Array(_));
        let resolved: Vec<Value> = match def.kind {
            FieldKind::Media => self.media(&ids(value)).await?,
            FieldKind::Elements => self.elements(&ids(value)).await?,
            FieldKind::Reference if depth > 0 => {
                let mut out = Vec::new();
                for id in ids(value) {
                    out.push(self.reference(id, depth - 1).await?);
                }
                out
            }
            FieldKind::Reference => ids(value).into_iter().map(|id| json!({ "id": id })).collect(),
            _ => return Ok(value.clone()),
        };
        Ok(if single {
            resolved.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::Array(resolved.into_iter().filter(|v| !v.is_null()).collect())
        })
    }

    async fn reference(&mut self, id: Uuid, depth: u8) -> ApiResult<Value> {
        let Some(target) =
            entry::Entity::find_by_id(id).filter(entry::Column::SiteId.eq(self.site.id)).one(&self.ctx.db).await?
        else {
            return Ok(Value::Null);
        };
        let Some(variant) = self.variant(target.translation_group).await? else { return Ok(Value::Null) };
        if depth == 0 {
            return Ok(
                json!({ "id": variant.id, "type": variant.type_api_id, "slug": variant.slug, "title": variant.title, "locale": variant.locale }),
            );
        }
        let resolved = Box::pin(self.entry(variant, depth)).await?;
        Ok(serde_json::to_value(resolved).map_err(anyhow::Error::from)?)
    }

    async fn media(&self, ids: &[Uuid]) -> ApiResult<Vec<Value>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: HashMap<Uuid, media::Model> = media::Entity::find()
            .filter(media::Column::Id.is_in(ids.to_vec()))
            .filter(media::Column::SiteId.eq(self.site.id))
            .all(&self.ctx.db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(ids
            .iter()
            .map(|id| found.get(id).map_or(Value::Null, |m| public_media(m, self.locale, &self.default_locale)))
            .collect())
    }

    async fn elements(&self, ids: &[Uuid]) -> ApiResult<Vec<Value>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: HashMap<Uuid, element::Model> = element::Entity::find()
            .filter(element::Column::Id.is_in(ids.to_vec()))
            .filter(element::Column::SiteId.eq(self.site.id))
            .all(&self.ctx.db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(ids
            .iter()
            .map(|id| {
                found
                    .get(id)
                    .map_or(Value::Null, |e| json!({ "id": e.id, "kind": e.kind, "name": e.name, "data": e.data }))
            })
            .collect())
    }
}

/// A media item as visitors see it, with its alt text and caption in the locale (or default).
pub fn public_media(m: &media::Model, locale: &str, default_locale: &str) -> Value {
    let text = |map: &Value| map.get(locale).or_else(|| map.get(default_locale)).cloned().unwrap_or(Value::Null);
    json!({
        "id": m.id,
        "url": format!("/public/v1/sites/{}/media/{}", m.site_id, m.id),
        "name": m.name,
        "mime": m.mime,
        "size": m.size,
        "width": m.width,
        "height": m.height,
        "alt": text(&m.alt),
        "caption": text(&m.caption),
    })
}
