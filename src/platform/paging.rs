//! Paging and sorting shared by every list endpoint:
//! `?page=` (default 1), `?limit=` (default 20, max 100), `?sort=field` / `?sort=-field`, and the
//! `{"data": [...], "pagination": {...}}` response.

use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryOrder, Select};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;
/// The last page any list serves. Keeps every offset (`(page - 1) * limit`) far inside the
/// signed 64-bit range the databases bind, whatever the limit.
pub const MAX_PAGE: u64 = 10_000_000;

/// Paging and sorting parameters, validated. Other query parameters (filters) are left to the
/// endpoint's own extractor.
#[derive(Debug, Clone, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 10_000_000, default = 1)]
    pub page: u64,
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: u64,
    /// `field` for ascending, `-field` for descending; the allowed fields depend on the endpoint.
    #[param(value_type = Option<String>, example = "-createdAt")]
    pub sort: Option<Sort>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub field: String,
    pub descending: bool,
}

impl ListParams {
    /// Parses the query string; every error names the parameter and the accepted range.
    pub fn parse(query: &str) -> ApiResult<Self> {
        let mut params = Self { page: 1, limit: DEFAULT_LIMIT, sort: None };
        for (key, value) in form_urlencoded(query)? {
            match key.as_str() {
                "page" => params.page = whole_number("page", &value, 1, MAX_PAGE)?,
                "limit" => params.limit = whole_number("limit", &value, 1, MAX_LIMIT)?,
                "sort" => params.sort = Some(Sort::parse(&value)?),
                _ => {}
            }
        }
        Ok(params)
    }

    /// The requested sort if its field is one of `allowed`, else `default`; an unknown field is
    /// a 400 that lists the allowed ones.
    pub fn sort_or(&self, allowed: &[&str], default: Sort) -> ApiResult<Sort> {
        match &self.sort {
            None => Ok(default),
            Some(sort) if allowed.contains(&sort.field.as_str()) => Ok(sort.clone()),
            Some(sort) => Err(ApiError::invalid_field(
                "sort",
                format!("cannot sort by `{}`; allowed: {}", sort.field, allowed.join(", ")),
            )),
        }
    }

    pub fn offset(&self) -> u64 {
        offset(self.page, self.limit)
    }
}

/// Validates a page and limit that an endpoint reads with its own query struct (the public
/// ones): `page` from 1 to [`MAX_PAGE`], `limit` from 1 to `max_limit`; a 400 names the field.
pub fn page_and_limit(
    page: Option<u64>,
    limit: Option<u64>,
    default_limit: u64,
    max_limit: u64,
) -> ApiResult<(u64, u64)> {
    let check = |field: &str, value: u64, max: u64| {
        if (1..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ApiError::invalid_field(field, format!("must be a whole number from 1 to {max}, got `{value}`")))
        }
    };
    Ok((check("page", page.unwrap_or(1), MAX_PAGE)?, check("limit", limit.unwrap_or(default_limit), max_limit)?))
}

/// A `YYYY-MM-DD` day from a query filter, years 1900 to 9999 (so a day after it, or a span of
/// days, never leaves chrono's range); a 400 names the field.
pub fn parse_day(field: &str, raw: &str) -> ApiResult<chrono::NaiveDate> {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=9999).contains(&d.year()))
        .ok_or_else(|| ApiError::invalid_field(field, format!("`{raw}` is not a date like 2026-05-01")))
}

/// Rows skipped before a page; saturates rather than overflow (bounded pages never reach it).
pub fn offset(page: u64, limit: u64) -> u64 {
    page.saturating_sub(1).saturating_mul(limit)
}

impl Sort {
    pub fn asc(field: &str) -> Self {
        Self { field: field.to_owned(), descending: false }
    }

    pub fn desc(field: &str) -> Self {
        Self { field: field.to_owned(), descending: true }
    }

    fn parse(text: &str) -> ApiResult<Self> {
        let (descending, field) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            return Err(ApiError::invalid_field("sort", format!("`{text}` is not `field` or `-field`")));
        }
        Ok(Self { field: field.to_owned(), descending })
    }

    pub fn order(&self) -> sea_orm::Order {
        if self.descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        }
    }
}

fn whole_number(field: &str, value: &str, min: u64, max: u64) -> ApiResult<u64> {
    let reason = || format!("must be a whole number from {min} to {max}, got `{value}`");
    let n: u64 = value.parse().map_err(|_| ApiError::invalid_field(field, reason()))?;
    if n < min || n > max {
        return Err(ApiError::invalid_field(field, reason()));
    }
    Ok(n)
}

/// A query string that does not decode (e.g. `%FF`, not UTF-8) is a 400, never read as empty.
fn form_urlencoded(query: &str) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|e| ApiError::invalid_field("query", format!("the query string does not decode: {e}")))
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub pages: u64,
    pub has_next: bool,
    pub has_prev: bool,
}

impl Pagination {
    pub fn new(params: &ListParams, total: u64) -> Self {
        let pages = total.div_ceil(params.limit);
        Self {
            page: params.page,
            limit: params.limit,
            total,
            pages,
            has_next: params.page < pages,
            has_prev: params.page > 1,
        }
    }
}

impl<T> Page<T> {
    /// Pages an in-memory list (small fixed tables); database lists use [`fetch_page`].
    pub fn from_vec(all: Vec<T>, params: &ListParams) -> Self {
        let pagination = Pagination::new(params, all.len() as u64);
        let skip = usize::try_from(params.offset()).unwrap_or(usize::MAX);
        let take = usize::try_from(params.limit).unwrap_or(usize::MAX);
        Self { data: all.into_iter().skip(skip).take(take).collect(), pagination }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), pagination: self.pagination }
    }
}

/// Counts and fetches one page of `select`, ordered by `sort` mapped to a column by `column`
/// (the caller has already validated the field with [`ListParams::sort_or`]).
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    params: &ListParams,
    order: Option<(E::Column, sea_orm::Order)>,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
    C: ConnectionTrait,
{
    let select = match order {
        Some((column, direction)) => select.order_by(column, direction),
        None => select,
    };
    let paginator = select.paginate(db, params.limit);
    let total = paginator.num_items().await.map_err(anyhow::Error::from)?;
    let data = paginator.fetch_page(params.page - 1).await.map_err(anyhow::Error::from)?;
    Ok(Page { data, pagination: Pagination::new(params, total) })
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityTrait;
    use serde_json::json;

    use super::*;
    use crate::error::ErrorCode;
    use crate::services::audit::{record, Actor, Target};
    use entity::audit_event;

    #[test]
    fn defaults_are_page_1_of_20() {
        assert_eq!(ListParams::parse("").unwrap(), ListParams { page: 1, limit: 20, sort: None });
    }

    #[test]
    fn limit_and_page_bounds_are_enforced_with_the_field_named() {
        for (query, field) in [("limit=101", "limit"), ("limit=0", "limit"), ("page=0", "page"), ("page=x", "page")] {
            let err = ListParams::parse(query).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidRequest);
            assert_eq!(err.public_parts().1["field"], json!(field), "{query}");
        }
        assert_eq!(ListParams::parse("limit=100&page=3").unwrap().offset(), 200);
    }

    #[test]
    fn huge_pages_are_a_400_not_an_overflow() {
        for query in ["page=184467440737095516&limit=100", "page=9223372036854775808", "page=18446744073709551616"] {
            let err = ListParams::parse(query).unwrap_err();
            assert_eq!(err.public_parts().1["field"], json!("page"), "{query}");
        }
        let last = ListParams::parse("page=10000000&limit=100").unwrap();
        assert!(i64::try_from(last.offset()).is_ok());
        assert!(page_and_limit(Some(9_223_372_036_854_775_808), None, 20, 100).is_err());
        assert!(page_and_limit(Some(0), None, 20, 100).is_err());
        assert!(page_and_limit(None, Some(101), 20, 100).is_err());
        assert_eq!(page_and_limit(None, None, 20, 100).unwrap(), (1, 20));
        assert_eq!(offset(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn days_outside_four_digit_years_are_refused() {
        assert!(parse_day("from", "2026-05-01").is_ok());
        for bad in ["262143-12-31", "+262142-12-31", "-0001-01-01", "0000-01-01", "2026-13-01", "x"] {
            assert_eq!(parse_day("to", bad).unwrap_err().public_parts().1["field"], json!("to"), "{bad}");
        }
    }

    #[test]
    fn sort_accepts_only_allowed_fields() {
        let params = ListParams::parse("sort=-createdAt").unwrap();
        assert_eq!(params.sort_or(&["createdAt"], Sort::asc("name")).unwrap(), Sort::desc("createdAt"));
        let err = params.sort_or(&["name"], Sort::asc("name")).unwrap_err();
        assert!(err.to_string().contains("allowed: name"), "{err}");
        assert!(ListParams::parse("sort=-").is_err());
        assert!(ListParams::parse("sort=a;drop").is_err());
    }

    #[test]
    fn pagination_flags_follow_the_page() {
        let p = |page, limit| ListParams { page, limit, sort: None };
        assert_eq!(Pagination::new(&p(1, 5), 12).pages, 3);
        assert!(Pagination::new(&p(1, 5), 12).has_next && !Pagination::new(&p(1, 5), 12).has_prev);
        assert!(!Pagination::new(&p(3, 5), 12).has_next && Pagination::new(&p(3, 5), 12).has_prev);
        assert_eq!(Pagination::new(&p(1, 5), 0).pages, 0);
        let page = Page::from_vec((1..=12).collect::<Vec<_>>(), &p(3, 5));
        assert_eq!(page.data, vec![11, 12]);
    }

    #[tokio::test]
    async fn fetch_page_counts_orders_and_slices_database_rows() {
        let db = crate::engines::store::memory_db().await;
        for n in 0..7 {
            record(&db, &Actor::system(), &format!("a{n}"), Target::new("t", n), json!(n)).await.unwrap();
        }
        let params = ListParams::parse("page=2&limit=3").unwrap();
        let order = Some((audit_event::Column::Action, sea_orm::Order::Desc));
        let page = fetch_page(&db, audit_event::Entity::find(), &params, order).await.unwrap();
        let actions: Vec<_> = page.data.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["a3", "a2", "a1"]);
        assert_eq!((page.pagination.total, page.pagination.pages), (7, 3));
    }
}
