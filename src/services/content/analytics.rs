//! Site statistics without tracking people: page views and searches are counted in memory per
//! site, entry or query and UTC day, and added to daily rows every few seconds (and before any
//! statistics are read). No IP address, cookie or visitor id is stored anywhere.

use std::collections::HashMap;
use std::sync::Mutex;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use entity::{page_view_day, search_query_day};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    tenant: Uuid,
    site: Uuid,
    entry: Uuid,
    day: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SearchKey {
    tenant: Uuid,
    site: Uuid,
    day: String,
    query: String,
}

#[derive(Debug, Default, Clone, Copy)]
struct SearchCounts {
    searches: i64,
    zero: i64,
    clicks: i64,
}

#[derive(Default)]
pub struct Analytics {
    views: Mutex<HashMap<ViewKey, i64>>,
    searches: Mutex<HashMap<SearchKey, SearchCounts>>,
    /// One flush at a time, so counts are never added twice.
    flushing: tokio::sync::Mutex<()>,
}

pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Lower-cased, single-spaced, at most 100 characters: how queries are grouped.
pub fn normalise_query(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().chars().take(100).collect()
}

impl Analytics {
    pub fn view(&self, tenant: Uuid, site: Uuid, entry: Uuid) {
        let key = ViewKey { tenant, site, entry, day: today() };
        *self.views.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += 1;
    }

    pub fn search(&self, tenant: Uuid, site: Uuid, query: &str, found: bool) {
        self.bump(tenant, site, query, |c| {
            c.searches += 1;
            c.zero += i64::from(!found);
        });
    }

    pub fn click(&self, tenant: Uuid, site: Uuid, query: &str) {
        self.bump(tenant, site, query, |c| c.clicks += 1);
    }

    fn bump(&self, tenant: Uuid, site: Uuid, query: &str, f: impl FnOnce(&mut SearchCounts)) {
        let query = normalise_query(query);
        if query.is_empty() {
            return;
        }
        let key = SearchKey { tenant, site, day: today(), query };
        f(self.searches.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default());
    }

    /// Adds the counts gathered so far to the daily rows. Counts that fail to save are kept for
    /// the next flush.
    pub async fn flush<C: ConnectionTrait>(&self, db: &C) -> Result<(), sea_orm::DbErr> {
        let _one = self.flushing.lock().await;
        let views: Vec<(ViewKey, i64)> = self.views.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        let searches: Vec<(SearchKey, SearchCounts)> =
            self.searches.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        let mut failed = None;
        for (i, (key, n)) in views.iter().enumerate() {
            if let Err(e) = add_views(db, key, *n).await {
                let mut pending = self.views.lock().unwrap_or_else(|p| p.into_inner());
                for (key, n) in &views[i..] {
                    *pending.entry(key.clone()).or_default() += n;
                }
                failed = Some(e);
                break;
            }
        }
        for (i, (key, c)) in searches.iter().enumerate() {
            if let Err(e) = add_searches(db, key, *c).await {
                let mut pending = self.searches.lock().unwrap_or_else(|p| p.into_inner());
                for (key, c) in &searches[i..] {
                    let slot = pending.entry(key.clone()).or_default();
                    slot.searches += c.searches;
                    slot.zero += c.zero;
                    slot.clicks += c.clicks;
                }
                failed = Some(e);
                break;
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// `table.column + excluded.column`: qualified, which both SQLite and PostgreSQL accept.
fn plus_excluded(table: &str, column: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!("{table}.{column} + excluded.{column}"))
}

async fn add_views<C: ConnectionTrait>(db: &C, key: &ViewKey, n: i64) -> Result<(), sea_orm::DbErr> {
    let row = page_view_day::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(key.tenant),
        site_id: Set(key.site),
        entry_id: Set(key.entry),
        day: Set(key.day.clone()),
        views: Set(n),
    };
    page_view_day::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                page_view_day::Column::SiteId,
                page_view_day::Column::Day,
                page_view_day::Column::EntryId,
            ])
            .value(page_view_day::Column::Views, plus_excluded("page_view_days", "views"))
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

async fn add_searches<C: ConnectionTrait>(db: &C, key: &SearchKey, c: SearchCounts) -> Result<(), sea_orm::DbErr> {
    let row = search_query_day::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(key.tenant),
        site_id: Set(key.site),
        day: Set(key.day.clone()),
        query: Set(key.query.clone()),
        searches: Set(c.searches),
        zero_results: Set(c.zero),
        clicks: Set(c.clicks),
    };
    let table = "search_query_days";
    search_query_day::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                search_query_day::Column::SiteId,
                search_query_day::Column::Day,
                search_query_day::Column::Query,
            ])
            .value(search_query_day::Column::Searches, plus_excluded(table, "searches"))
            .value(search_query_day::Column::ZeroResults, plus_excluded(table, "zero_results"))
            .value(search_query_day::Column::Clicks, plus_excluded(table, "clicks"))
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Flushes every few seconds for the life of the process.
pub fn spawn_flusher(ctx: std::sync::Arc<crate::app::context::AppContext>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(error) = ctx.content.analytics.flush(&ctx.db).await {
                tracing::warn!(%error, "saving site statistics failed; will retry");
            }
        }
    });
}
