//! Paging and sorting bounds, on `GET /v1/errors` (the same helper every list uses).

use serde_json::json;

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn default_paging_is_page_1_of_20() {
    let app = spawn_app().await;
    let body = json(app.get("/v1/errors").await).await;
    let total = body["data"].as_array().unwrap().len() as u64;
    assert_eq!(
        body["pagination"],
        json!({"page": 1, "limit": 20, "total": total, "pages": 1, "hasNext": false, "hasPrev": false})
    );
}

#[tokio::test]
async fn pages_slice_the_list_and_report_neighbours() {
    let app = spawn_app().await;
    let all = json(app.get("/v1/errors?limit=100&sort=code").await).await;
    let codes: Vec<String> =
        all["data"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect();
    let total = codes.len() as u64;

    let second = json(app.get("/v1/errors?limit=5&page=2&sort=code").await).await;
    let got: Vec<&str> = second["data"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(got, codes[5..10].iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        second["pagination"],
        json!({"page": 2, "limit": 5, "total": total, "pages": total.div_ceil(5), "hasNext": true, "hasPrev": true})
    );

    let beyond = json(app.get("/v1/errors?limit=5&page=99").await).await;
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["pagination"]["hasNext"], false);
}

#[tokio::test]
async fn sort_direction_is_respected() {
    let app = spawn_app().await;
    let desc = json(app.get("/v1/errors?sort=-status&limit=1").await).await;
    assert_eq!(desc["data"][0]["status"], 504);
    let asc = json(app.get("/v1/errors?sort=status&limit=1").await).await;
    assert_eq!(asc["data"][0]["status"], 400);
}

#[tokio::test]
async fn out_of_range_paging_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let cases = [
        ("limit=101", "limit", "must be a whole number from 1 to 100, got `101`"),
        ("limit=0", "limit", "must be a whole number from 1 to 100, got `0`"),
        ("page=0", "page", "must be a whole number from 1 to 10000000, got `0`"),
        ("page=-1", "page", "must be a whole number from 1 to 10000000, got `-1`"),
        // (page - 1) × limit once overflowed the signed 64-bit offset the database binds: a 500.
        (
            "page=184467440737095516&limit=100",
            "page",
            "must be a whole number from 1 to 10000000, got `184467440737095516`",
        ),
        ("sort=createdAt", "sort", "cannot sort by `createdAt`; allowed: code, status"),
    ];
    for (query, field, reason) in cases {
        let response = app.get(&format!("/v1/errors?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let mut body = json(response).await;
        body.as_object_mut().unwrap().remove("requestId");
        assert_eq!(
            body,
            json!({
                "error": "INVALID_REQUEST",
                "message": format!("invalid `{field}`: {reason}"),
                "details": {"field": field, "reason": reason}
            }),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_visitors_huge_page_number_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let (_, tenant) = app.bootstrap().await;
    let site = app.create("/v1/sites", &tenant.owner, &tenant.id, serde_json::json!({"name": "Public"})).await;
    for query in ["page=9223372036854775808", "page=0", "page=10000001&limit=100"] {
        let response = app.get(&format!("/public/v1/sites/{site}/entries?{query}")).await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!((status.as_u16(), &body["details"]["field"]), (400, &serde_json::json!("page")), "{query}: {body}");
    }
    // Past u64 the query string itself does not parse: still a 400.
    let response = app.get(&format!("/public/v1/sites/{site}/entries?page=18446744073709551616")).await;
    assert_eq!(response.status(), 400);
    let last = app.get(&format!("/public/v1/sites/{site}/entries?page=10000000&limit=100")).await;
    assert_eq!(last.status(), 200, "the last page is empty, not an error");
}
