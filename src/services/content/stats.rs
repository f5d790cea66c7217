//! Site statistics and search analytics for admins, from the daily aggregates.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{entry, page_view_day, search_query_day};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::services::content::entries::{self, Status};
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::visible;
use crate::services::identity::Principal;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// First day (`YYYY-MM-DD`, UTC); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, included; default today.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    pub day: String,
    pub views: i64,
    pub searches: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopEntry {
    pub entry_id: Uuid,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub views: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub views: i64,
    pub searches: i64,
    pub zero_result_searches: i64,
    pub clicks: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteStats {
    pub from: String,
    pub to: String,
    pub totals: Totals,
    /// The same totals for the period of equal length just before.
    pub previous: Totals,
    /// Change of views against the previous period, in percent (null when it had none).
    pub views_trend_percent: Option<f64>,
    pub days: Vec<DayCount>,
    pub top_entries: Vec<TopEntry>,
    pub published_entries: u64,
    pub draft_entries: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryCount {
    pub query: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicks: i64,
    /// clicks / searches.
    pub click_through: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchDay {
    pub day: String,
    pub searches: i64,
    pub zero_results: i64,
    pub clicks: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchAnalytics {
    pub from: String,
    pub to: String,
    pub top_queries: Vec<QueryCount>,
    pub zero_result_queries: Vec<QueryCount>,
    pub days: Vec<SearchDay>,
}

use crate::platform::paging::parse_day;

/// The period as inclusive days, at most 366 of them.
pub fn days(period: &Period) -> ApiResult<(NaiveDate, NaiveDate)> {
    let to = match &period.to {
        Some(raw) => parse_day("to", raw)?,
        None => Utc::now().date_naive(),
    };
    let from = match &period.from {
        Some(raw) => parse_day("from", raw)?,
        None => to - Duration::days(29),
    };
    if from > to {
        return Err(ApiError::invalid_field("from", "must not be after `to`"));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::invalid_field("from", "the period is at most 366 days"));
    }
    Ok((from, to))
}

fn day_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn rows(
    ctx: &AppContext,
    site_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<(Vec<page_view_day::Model>, Vec<search_query_day::Model>)> {
    ctx.content.analytics.flush(&ctx.db).await?;
    let views = page_view_day::Entity::find()
        .filter(page_view_day::Column::SiteId.eq(site_id))
        .filter(page_view_day::Column::Day.between(day_string(from), day_string(to)))
        .all(&ctx.db)
        .await?;
    let searches = search_query_day::Entity::find()
        .filter(search_query_day::Column::SiteId.eq(site_id))
        .filter(search_query_day::Column::Day.between(day_string(from), day_string(to)))
        .all(&ctx.db)
        .await?;
    Ok((views, searches))
}

fn totals(views: &[page_view_day::Model], searches: &[search_query_day::Model]) -> Totals {
    Totals {
        views: views.iter().map(|v| v.views).sum(),
        searches: searches.iter().map(|s| s.searches).sum(),
        zero_result_searches: searches.iter().map(|s| s.zero_results).sum(),
        clicks: searches.iter().map(|s| s.clicks).sum(),
    }
}

pub async fn site_stats(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    period: &Period,
) -> ApiResult<SiteStats> {
    let scope = principal.require(Permission::SitesManage)?;
    visible(ctx, scope, site_id).await?;
    let (from, to) = days(period)?;
    let (views, searches) = rows(ctx, site_id, from, to).await?;
    let length = (to - from).num_days() + 1;
    let (before_views, before_searches) =
        rows(ctx, site_id, from - Duration::days(length), from - Duration::days(1)).await?;
    let mut per_day: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        per_day.insert(day_string(day), (0, 0));
        day += Duration::days(1);
    }
    let mut per_entry: HashMap<Uuid, i64> = HashMap::new();
    for v in &views {
        per_day.entry(v.day.clone()).or_default().0 += v.views;
        *per_entry.entry(v.entry_id).or_default() += v.views;
    }
    for s in &searches {
        per_day.entry(s.day.clone()).or_default().1 += s.searches;
    }
    let mut ranked: Vec<(Uuid, i64)> = per_entry.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(10);
    let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
    let titles: HashMap<Uuid, entry::Model> = entry::Entity::find()
        .filter(entry::Column::Id.is_in(ids))
        .filter(entry::Column::SiteId.eq(site_id))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let top_entries = ranked
        .into_iter()
        .filter_map(|(id, views)| {
            titles.get(&id).map(|e| TopEntry {
                entry_id: id,
                title: e.title.clone(),
                kind: e.type_api_id.clone(),
                views,
            })
        })
        .collect();
    let current = totals(&views, &searches);
    let previous = totals(&before_views, &before_searches);
    let views_trend_percent = (previous.views > 0)
        .then(|| ((current.views - previous.views) as f64 / previous.views as f64 * 1000.0).round() / 10.0);
    Ok(SiteStats {
        from: day_string(from),
        to: day_string(to),
        totals: current,
        previous,
        views_trend_percent,
        days: per_day.into_iter().map(|(day, (views, searches))| DayCount { day, views, searches }).collect(),
        top_entries,
        published_entries: entries::count(ctx, site_id, Status::Published).await?,
        draft_entries: entries::count(ctx, site_id, Status::Draft).await?,
    })
}

fn ranked_queries(rows: &[search_query_day::Model], keep: impl Fn(&QueryCount) -> bool) -> Vec<QueryCount> {
    let mut by_query: HashMap<&str, (i64, i64, i64)> = HashMap::new();
    for r in rows {
        let slot = by_query.entry(&r.query).or_default();
        slot.0 += r.searches;
        slot.1 += r.zero_results;
        slot.2 += r.clicks;
    }
    let mut out: Vec<QueryCount> = by_query
        .into_iter()
        .map(|(query, (searches, zero_results, clicks))| QueryCount {
            query: query.to_owned(),
            searches,
            zero_results,
            clicks,
            click_through: if searches > 0 {
                ((clicks as f64 / searches as f64) * 1000.0).round() / 1000.0
            } else {
                0.0
            },
        })
        .filter(|q| keep(q))
        .collect();
    out.sort_by(|a, b| b.searches.cmp(&a.searches).then_with(|| a.query.cmp(&b.query)));
    out.truncate(50);
    out
}

pub async fn search_analytics(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    period: &Period,
) -> ApiResult<SearchAnalytics> {
    let scope = principal.require(Permission::SitesManage)?;
    visible(ctx, scope, site_id).await?;
    let (from, to) = days(period)?;
    let (_, searches) = rows(ctx, site_id, from, to).await?;
    let mut per_day: BTreeMap<String, SearchDay> = BTreeMap::new();
    for s in &searches {
        let day = per_day.entry(s.day.clone()).or_insert_with(|| SearchDay {
            day: s.day.clone(),
            searches: 0,
            zero_results: 0,
            clicks: 0,
        });
        day.searches += s.searches;
        day.zero_results += s.zero_results;
        day.clicks += s.clicks;
    }
    Ok(SearchAnalytics {
        from: day_string(from),
        to: day_string(to),
        top_queries: ranked_queries(&searches, |_| true),
        zero_result_queries: ranked_queries(&searches, |q| q.zero_results > 0 && q.zero_results == q.searches),
        days: per_day.into_values().collect(),
    })
}
