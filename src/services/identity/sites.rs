//! Sites of a tenant: name, slug, domains, default locale and locales.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::site;

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult};
use crate::platform::ids::KnowledgeBaseId;
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::permissions::Permission;
use crate::services::identity::tenants::{parse_slug, slugify};
use crate::services::identity::{Principal, TenantScope};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SitePayload {
    pub name: String,
    /// Unique in the tenant; derived from the name when absent.
    pub slug: Option<String>,
    /// Host names the site is served on, e.g. `blog.example.com`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Defaults to `en`.
    pub default_locale: Option<String>,
    /// The default locale is always included.
    #[serde(default)]
    pub locales: Vec<String>,
    /// Origins whose pages may call this site's public API from a browser, e.g.
    /// `https://blog.example.com`; `*` allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Also index published entries into this knowledge base, so RAG chat can cite them.
    pub knowledge_base_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SitePatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub domains: Option<Vec<String>>,
    pub default_locale: Option<String>,
    pub locales: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    /// `null` stops indexing entries into a knowledge base.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub knowledge_base_id: Option<Option<Uuid>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub slug: String,
    pub domains: Vec<String>,
    pub default_locale: String,
    pub locales: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub knowledge_base_id: Option<Uuid>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<site::Model> for SiteView {
    fn from(s: site::Model) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id,
            name: s.name,
            slug: s.slug,
            domains: serde_json::from_value(s.domains).unwrap_or_default(),
            default_locale: s.default_locale,
            locales: serde_json::from_value(s.locales).unwrap_or_default(),
            allowed_origins: s.allowed_origins.and_then(|o| serde_json::from_value(o).ok()).unwrap_or_default(),
            knowledge_base_id: s.knowledge_base_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A BCP 47-style locale: a 2–3 letter language, optionally `-Script` and/or `-REGION`.
pub fn parse_locale(field: &str, raw: &str) -> ApiResult<String> {
    let code = raw.trim();
    let mut parts = code.split('-');
    let language_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    let rest_ok = parts.all(|p| (2..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if language_ok && rest_ok && code.len() <= 16 {
        Ok(code.to_owned())
    } else {
        Err(ApiError::invalid_field(field, format!("`{code}` is not a locale code like `en` or `pt-BR`")))
    }
}

fn parse_domain(field: &str, raw: &str) -> ApiResult<String> {
    let host = raw.trim().to_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid {
        Ok(host)
    } else {
        Err(ApiError::invalid_field(field, format!("`{raw}` is not a host name")))
    }
}

/// `*`, or a scheme and host (and port) without a path: what browsers send in `Origin`.
fn parse_origins(origins: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in origins.iter().enumerate() {
        let origin = raw.trim().trim_end_matches('/').to_lowercase();
        let valid = origin == "*"
            || ["https://", "http://"].iter().any(|scheme| {
                origin.strip_prefix(scheme).is_some_and(|rest| {
                    let host = rest.rsplit_once(':').map_or(
                        rest,
                        |(h, port)| {
                            if port.parse::<u16>().is_ok() {
                                h
                            } else {
                                ""
                            }
                        },
                    );
                    parse_domain("origin", host).is_ok() || host == "localhost"
                })
            });
        if !valid {
            return Err(ApiError::invalid_field(
                &format!("allowedOrigins[{i}]"),
                format!("`{raw}` is not an origin like `https://example.com` or `*`"),
            ));
        }
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// The knowledge base must be the tenant's own.
async fn check_kb(ctx: &AppContext, tenant_id: Uuid, kb: Option<Uuid>) -> ApiResult<Option<Uuid>> {
    match kb {
        Some(id) => {
            Ok(Some(crate::services::knowledge::bases::find(ctx, tenant_id, KnowledgeBaseId::new(id)).await?.id))
        }
        None => Ok(None),
    }
}

fn parse_locales(default: &str, locales: &[String]) -> ApiResult<(String, Vec<String>)> {
    let default = parse_locale("defaultLocale", default)?;
    let mut all = vec![default.clone()];
    for (i, code) in locales.iter().enumerate() {
        let code = parse_locale(&format!("locales[{i}]"), code)?;
        if !all.contains(&code) {
            all.push(code);
        }
    }
    Ok((default, all))
}

fn parse_domains(domains: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, d) in domains.iter().enumerate() {
        let d = parse_domain(&format!("domains[{i}]"), d)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A site of the caller's tenant that the caller may see (site limits apply); else 404.
pub async fn visible(ctx: &AppContext, scope: &TenantScope, id: Uuid) -> ApiResult<site::Model> {
    let site = by_id_in_tenant::<site::Entity>(scope.tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))?;
    if scope.site_ids.as_ref().is_some_and(|ids| !ids.contains(&id)) {
        return Err(ApiError::not_found("site"));
    }
    Ok(site)
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<SiteView>> {
    let scope = principal.require(Permission::SitesRead)?;
    let sort = params.sort_or(&["name", "slug", "createdAt"], Sort::asc("name"))?;
    let column = match sort.field.as_str() {
        "slug" => site::Column::Slug,
        "createdAt" => site::Column::CreatedAt,
        _ => site::Column::Name,
    };
    let mut select = in_tenant::<site::Entity>(scope.tenant_id);
    if let Some(ids) = &scope.site_ids {
        select = select.filter(site::Column::Id.is_in(ids.clone()));
    }
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(SiteView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<SiteView> {
    let scope = principal.require(Permission::SitesRead)?;
    Ok(visible(ctx, scope, id).await?.into())
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: SitePayload) -> ApiResult<SiteView> {
    let scope = principal.require(Permission::SitesManage)?;
    let name = parse_name("name", &payload.name)?;
    let slug = match &payload.slug {
        Some(s) => parse_slug("slug", s)?,
        None => slugify(&name),
    };
    let (default_locale, locales) = parse_locales(payload.default_locale.as_deref().unwrap_or("en"), &payload.locales)?;
    let domains = parse_domains(&payload.domains)?;
    let origins = parse_origins(&payload.allowed_origins)?;
    let knowledge_base_id = check_kb(ctx, scope.tenant_id, payload.knowledge_base_id).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let site = site::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant_id),
        name: Set(name),
        slug: Set(slug),
        domains: Set(serde_json::json!(domains)),
        default_locale: Set(default_locale),
        locales: Set(serde_json::json!(locales)),
        allowed_origins: Set(Some(serde_json::json!(origins))),
        knowledge_base_id: Set(knowledge_base_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "a site with this slug already exists in the tenant"))?;
    audit::record(
        &txn,
        &principal.actor(),
        "site.create",
        Target::new("site", site.id),
        serde_json::json!({ "slug": site.slug }),
    )
    .await?;
    txn.commit().await?;
    Ok(site.into())
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: SitePatch) -> ApiResult<SiteView> {
    let scope = principal.require(Permission::SitesManage)?;
    let site = visible(ctx, scope, id).await?;
    let current = SiteView::from(site.clone());
    let mut active: site::ActiveModel = site.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(slug) = &patch.slug {
        active.slug = Set(parse_slug("slug", slug)?);
    }
    if let Some(domains) = &patch.domains {
        active.domains = Set(serde_json::json!(parse_domains(domains)?));
    }
    if patch.default_locale.is_some() || patch.locales.is_some() {
        let default = patch.default_locale.as_deref().unwrap_or(&current.default_locale);
        let locales = patch.locales.as_ref().unwrap_or(&current.locales);
        let (default, locales) = parse_locales(default, locales)?;
        active.default_locale = Set(default);
        active.locales = Set(serde_json::json!(locales));
    }
    if let Some(origins) = &patch.allowed_origins {
        active.allowed_origins = Set(Some(serde_json::json!(parse_origins(origins)?)));
    }
    if let Some(kb) = patch.knowledge_base_id {
        active.knowledge_base_id = Set(check_kb(ctx, scope.tenant_id, kb).await?);
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let site = active
        .update(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "a site with this slug already exists in the tenant"))?;
    audit::record(&txn, &principal.actor(), "site.update", Target::new("site", id), serde_json::Value::Null).await?;
    txn.commit().await?;
    crate::services::content::hooks::site_changed(ctx, id).await;
    Ok(site.into())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let scope = principal.require(Permission::SitesManage)?;
    let site = visible(ctx, scope, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    site::Entity::delete_by_id(site.id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "site.delete",
        Target::new("site", id),
        serde_json::json!({ "slug": site.slug }),
    )
    .await?;
    txn.commit().await?;
    ctx.content.public_cache.invalidate(id);
    if let Ok(engines) = ctx.engines() {
        let index = engines.site_index.clone();
        if let Err(error) = tokio::task::spawn_blocking(move || index.delete_site(id))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r.map_err(anyhow::Error::from))
        {
            tracing::warn!(%error, "removing the site from the public search index failed");
        }
    }
    let stale = crate::platform::coordination::Signal::SiteIndexStale { site_id: id };
    crate::services::content::hooks::tell_other_nodes(ctx, stale).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_and_domains_are_validated() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "fil"] {
            assert!(parse_locale("l", ok).is_ok(), "{ok}");
        }
        for bad in ["", "EN", "english", "en_US", "e"] {
            assert!(parse_locale("l", bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_locales("de", &["en".into(), "de".into()]).unwrap(),
            ("de".into(), vec!["de".into(), "en".into()])
        );
        assert_eq!(parse_domains(&["Blog.Example.com".into()]).unwrap(), ["blog.example.com"]);
        assert!(parse_domains(&["http://x.io".into()]).is_err());
        assert_eq!(
            parse_origins(&["https://Blog.example.com/".into(), "http://localhost:3000".into(), "*".into()]).unwrap(),
            ["https://blog.example.com", "http://localhost:3000", "*"]
        );
        for bad in ["blog.example.com", "https://x.io/path", "ftp://x.io", "https://x.io:port"] {
            assert!(parse_origins(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
