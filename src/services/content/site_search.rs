//! Public site search (`/public/v1/sites/{site}/search`, `…/suggest`, `…/search/click`) and
//! its admin side: rebuilding a site's index as a job.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{entry, site};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::jobs::JobError;
use crate::platform::jobs::{self, JobKind, JobView};
use crate::services::audit::{self, Target};
use crate::services::content::entries::Status;
use crate::services::content::hooks;
use crate::services::content::site_index::{self, SiteQuery};
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::visible;
use crate::services::identity::Principal;
use crate::services::search::highlight;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SiteSearchParams {
    /// What the visitor typed; the last word counts as a prefix unless followed by a space.
    #[serde(default)]
    pub q: String,
    /// Default: the site's default locale (entries not translated fall back to it).
    pub locale: Option<String>,
    /// Content type api ids, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Tags, comma-separated (any of them).
    pub tags: Option<String>,
    /// From 1.
    pub page: Option<usize>,
    /// 1–50, default 10.
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteSearchHit {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub slug: String,
    pub locale: String,
    /// HTML-escaped, matches in `<b>`.
    pub title: String,
    /// HTML-escaped passage of the text, matches in `<b>`.
    pub snippet: String,
    pub tags: Vec<String>,
    pub published_at: String,
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    #[serde(rename = "type")]
    pub kind: BTreeMap<String, u64>,
    pub tags: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteSearchResponse {
    pub query: String,
    pub locale: String,
    pub total: usize,
    pub page: usize,
    pub limit: usize,
    pub hits: Vec<SiteSearchHit>,
    pub facets: Facets,
    /// No entry had every word; these match some of them.
    pub relaxed: bool,
    pub took_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub id: Uuid,
    /// Plain text.
    pub title: String,
    /// HTML-escaped, matches in `<b>`.
    pub highlighted: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub slug: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchClick {
    /// The query the visitor searched for.
    pub query: String,
    /// The result they opened.
    pub entry_id: Uuid,
}

fn list_param(raw: &Option<String>) -> Vec<String> {
    raw.as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(20)
        .map(str::to_owned)
        .collect()
}

/// The site a visitor addresses (any tenant's; visitors have no principal).
pub async fn public_site(ctx: &AppContext, site_id: Uuid) -> ApiResult<site::Model> {
    site::Entity::find_by_id(site_id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("site"))
}

pub fn public_locale(site: &site::Model, raw: Option<&str>) -> ApiResult<String> {
    crate::services::content::entries::site_locale(site, raw.filter(|l| !l.is_empty()))
}

fn mark(text: &str, words: &[String], typing: bool, max: usize) -> String {
    highlight::snippet_with(text, |w| site_index::word_matches(w, words, typing), max)
}

pub async fn search(ctx: &AppContext, site_id: Uuid, params: &SiteSearchParams) -> ApiResult<SiteSearchResponse> {
    let started = std::time::Instant::now();
    let site = public_site(ctx, site_id).await?;
    let locale = public_locale(&site, params.locale.as_deref())?;
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be 1 to 50"));
    }
    let page = params.page.unwrap_or(1);
    if !(1..=100).contains(&page) {
        return Err(ApiError::invalid_field("page", "must be 1 to 100"));
    }
    if params.q.chars().count() > 200 {
        return Err(ApiError::invalid_field("q", "at most 200 characters"));
    }
    let (kinds, tags) = (list_param(&params.kind), list_param(&params.tags));
    let index = ctx.engines()?.site_index.clone();
    let text = params.q.clone();
    let query_locale = locale.clone();
    let results = tokio::task::spawn_blocking(move || {
        index.search(&SiteQuery {
            site_id,
            locale: &query_locale,
            text: &text,
            kinds: &kinds,
            tags: &tags,
            offset: (page - 1) * limit,
            limit,
        })
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    if page == 1 && !params.q.trim().is_empty() {
        ctx.content.analytics.search(site.tenant_id, site_id, &params.q, results.total > 0);
    }
    let words = site_index::words(&params.q);
    let typing = !params.q.ends_with(char::is_whitespace);
    let hits = results
        .hits
        .into_iter()
        .map(|h| SiteSearchHit {
            id: h.entry_id,
            title: mark(&h.title, &words, typing, 300),
            snippet: mark(&h.body, &words, typing, 200),
            kind: h.kind,
            slug: h.slug,
            locale: h.locale,
            tags: h.tags,
            published_at: h.published_at,
            score: h.score,
        })
        .collect();
    Ok(SiteSearchResponse {
        query: params.q.clone(),
        locale,
        total: results.total,
        page,
        limit,
        hits,
        facets: Facets { kind: results.kinds.into_iter().collect(), tags: results.tags.into_iter().collect() },
        relaxed: !results.all_words,
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Titles for search-as-you-type: the best 8 matches of what was typed so far.
pub async fn suggest(ctx: &AppContext, site_id: Uuid, params: &SiteSearchParams) -> ApiResult<Suggestions> {
    if params.q.trim().is_empty() {
        return Ok(Suggestions { suggestions: Vec::new() });
    }
    let site = public_site(ctx, site_id).await?;
    let locale = public_locale(&site, params.locale.as_deref())?;
    let index = ctx.engines()?.site_index.clone();
    let (text, kinds) = (params.q.clone(), list_param(&params.kind));
    let results = tokio::task::spawn_blocking(move || {
        index.search(&SiteQuery {
            site_id,
            locale: &locale,
            text: &text,
            kinds: &kinds,
            tags: &[],
            offset: 0,
            limit: 8,
        })
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    let words = site_index::words(&params.q);
    let typing = !params.q.ends_with(char::is_whitespace);
    Ok(Suggestions {
        suggestions: results
            .hits
            .into_iter()
            .map(|h| Suggestion {
                id: h.entry_id,
                highlighted: mark(&h.title, &words, typing, 300),
                title: h.title,
                kind: h.kind,
                slug: h.slug,
            })
            .collect(),
    })
}

pub async fn click(ctx: &AppContext, site_id: Uuid, click: &SearchClick) -> ApiResult<()> {
    let site = public_site(ctx, site_id).await?;
    let known = entry::Entity::find_by_id(click.entry_id)
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::Status.eq(Status::Published.as_str()))
        .count(&ctx.db)
        .await?;
    if known == 0 {
        return Err(ApiError::not_found("entry"));
    }
    ctx.content.analytics.click(site.tenant_id, site_id, &click.query);
    Ok(())
}

/// Queues a rebuild of the site's search index from its published entries.
pub async fn reindex(ctx: &AppContext, principal: &Principal, site_id: Uuid) -> ApiResult<JobView> {
    let scope = principal.require(Permission::SitesManage)?;
    visible(ctx, scope, site_id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let job = jobs::enqueue(&txn, scope.tenant_id, JobKind::ReindexSite, site_id).await?;
    audit::record(&txn, &principal.actor(), "site.reindex", Target::new("site", site_id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    Ok(job.into())
}

/// The `reindex_site` job: drops the site's documents and adds every published entry again,
/// 500 at a time, reporting progress; other nodes hear of it and rebuild their copy.
pub async fn run_reindex(ctx: &AppContext, job: &entity::job::Model) -> Result<(), JobError> {
    let Some(site_id) = job.target_id else { return Ok(()) };
    rebuild(ctx, Some(site_id), Some(job)).await?;
    hooks::tell_other_nodes(ctx, crate::platform::coordination::Signal::SiteIndexStale { site_id }).await;
    Ok(())
}

/// Rebuilds this node's public index of one site (every site with None) from the published
/// entries, in one commit: searches see the old documents until the new ones are in.
pub async fn rebuild(ctx: &AppContext, site: Option<Uuid>, job: Option<&entity::job::Model>) -> Result<(), JobError> {
    let fail = |message: String| JobError::Transient(message);
    let engines = ctx.engines().map_err(|e| fail(e.to_string()))?;
    let index = engines.site_index.clone();
    let published = || {
        let all = entry::Entity::find().filter(entry::Column::Status.eq(Status::Published.as_str()));
        match site {
            Some(site_id) => all.filter(entry::Column::SiteId.eq(site_id)),
            None => all,
        }
    };
    let total = published().count(&ctx.db).await.map_err(|e| fail(e.to_string()))?;
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let lease = jobs::lease(&ctx.settings);
    let blocking = |f: Box<dyn FnOnce() -> Result<(), crate::engines::fulltext::FulltextError> + Send>| async move {
        tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
    };
    let clear = index.clone();
    blocking(Box::new(move || clear.clear_uncommitted(site))).await.map_err(fail)?;
    let mut pages = published()
        .order_by_asc(entry::Column::TranslationGroup)
        .order_by_asc(entry::Column::Id)
        .paginate(&ctx.db, 500);
    let mut done = 0i64;
    while let Some(rows) = pages.fetch_and_next().await.map_err(|e| fail(e.to_string()))? {
        // Fallback locales need a group's other variants; pages are ordered by group so they
        // are together except where a page boundary splits one.
        done += i64::try_from(rows.len()).unwrap_or(0);
        let documents = hooks::documents(ctx, rows).await.map_err(|e| fail(e.to_string()))?;
        let add = index.clone();
        blocking(Box::new(move || add.add(&documents))).await.map_err(fail)?;
        if let Some(job) = job {
            let alive = jobs::progress(&ctx.db, job.id, "indexing", done, total, lease)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !alive {
                return Err(JobError::Cancelled);
            }
        }
    }
    let commit = index.clone();
    blocking(Box::new(move || commit.commit())).await.map_err(fail)?;
    match site {
        Some(site_id) => ctx.content.public_cache.invalidate(site_id),
        None => ctx.content.public_cache.invalidate_all(),
    }
    Ok(())
}
