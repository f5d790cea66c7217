//! The OpenAPI document validates as OpenAPI 3.1, Swagger UI is served without downloads, and
//! the dashboard is served from the binary.

use std::process::Command;

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn openapi_json_is_a_valid_openapi_3_1_document() {
    let app = spawn_app().await;
    let spec = json(app.get("/openapi.json").await).await;
    assert_eq!(spec["openapi"], "3.1.0");
    for path in ["/health", "/health/ready", "/v1/info", "/v1/errors"] {
        assert!(spec["paths"][path].is_object(), "{path} is documented");
    }
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());

    let file = app.data_dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&spec).unwrap()).unwrap();
    // The test command installs openapi-spec-validator and points LECTERN_TEST_PYTHON at it.
    let python = std::env::var("LECTERN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, json\n\
        from openapi_spec_validator import validate\n\
        from openapi_spec_validator.versions import consts, get_spec_version\n\
        spec = json.load(open(sys.argv[1]))\n\
        assert get_spec_version(spec) == consts.OPENAPIV31, get_spec_version(spec)\n\
        validate(spec)\n\
        print('valid')";
    let output = Command::new(&python).args(["-c", script]).arg(&file).output().expect("python runs");
    assert!(
        output.status.success(),
        "openapi-spec-validator rejected the document (or is not installed: run the README test command):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn docs_serve_swagger_ui_with_its_assets() {
    let app = spawn_app().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-initializer.js"] {
        let response = app.get(asset).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 100, "{asset} has content");
    }
    let init = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();
    assert!(init.contains("/openapi.json"), "Swagger UI loads our document: {init}");
}

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_with_its_own_urls() {
    let app = spawn_app().await;
    let root = app.get("/").await;
    assert_eq!(root.status(), 200);
    assert!(root.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(root.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let index = root.text().await.unwrap();
    assert!(index.contains("<title>Lectern</title>") && index.contains("/app.js"));

    // The app's own page URLs (links in mails, reloads) load the app, not a 404.
    for page in
        ["/reset-password?token=abc", "/accept-invite?token=abc", "/knowledge-bases/0f6c0b4e", "/content/entries"]
    {
        let response = app.get(page).await;
        assert_eq!(response.status(), 200, "{page}");
        assert_eq!(response.text().await.unwrap(), index, "{page} is the app");
    }
    let script = app.get("/app.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let etag = script.headers()["etag"].to_str().unwrap().to_owned();
    let again = app.client.get(app.url("/app.js")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304, "unchanged files are revalidated, not sent again");
    let plain = script.bytes().await.unwrap();

    // Browsers that accept gzip get it (less than half the bytes), under a tag of its own.
    let fetch = |encoding: &'static str, tag: Option<String>| {
        let mut request = app.client.get(app.url("/app.js")).header("Accept-Encoding", encoding);
        if let Some(tag) = tag {
            request = request.header("If-None-Match", tag);
        }
        request.send()
    };
    let gz = fetch("gzip, deflate, br", None).await.unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["vary"], "Accept-Encoding");
    let gz_tag = gz.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_tag, etag);
    let compressed = gz.bytes().await.unwrap();
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut inflated).unwrap();
    assert_eq!(inflated, plain);
    assert!(compressed.len() * 2 < plain.len(), "{} of {} bytes", compressed.len(), plain.len());
    assert_eq!(fetch("gzip", Some(gz_tag)).await.unwrap().status(), 304);
    let refused = fetch("gzip;q=0, identity", None).await.unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    assert_eq!(refused.bytes().await.unwrap(), plain);

    // API paths, missing files and paths out of static/ stay JSON 404s.
    for missing in
        ["/v1/no-such-thing", "/public/v1/nothing", "/pages/missing.js", "/%2e%2e/Cargo.toml", "/lib/../../Cargo.toml"]
    {
        let response = app.get(missing).await;
        assert_eq!(response.status(), 404, "{missing}");
        assert_eq!(json(response).await["error"], "NOT_FOUND", "{missing}");
    }
    let post = app.post_json("/knowledge-bases", "{}").await;
    assert_eq!(post.status(), 404, "only GET and HEAD reach the app");
}
