//! The media library: sniffed types, content addressing, image sizes and variants, folders,
//! alt text search, replace, where-used and delete guards.

use std::io::Cursor;

use reqwest::Method;
use serde_json::{json, Value};

use crate::content::{public, site, Site};
use crate::support::app::{json, spawn_app, TestApp};

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload(app: &TestApp, site: &Site, query: &str, files: Vec<(&str, Vec<u8>)>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in files {
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    }
    let response = app
        .client
        .post(app.url(&format!("/v1/sites/{}/media{query}", site.id)))
        .bearer_auth(&site.token)
        .header("X-Tenant-ID", &site.tenant)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, json(response).await)
}

#[tokio::test]
async fn uploads_are_sniffed_measured_deduplicated_and_resized_on_request() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let photo = png(400, 300);
    let (status, uploaded) =
        upload(&app, &site, "", vec![("photo.png", photo.clone()), ("report.png", b"%PDF-1.7\nnot an image".to_vec())])
            .await;
    assert_eq!(status, 201, "{uploaded}");
    let image = &uploaded[0];
    assert_eq!(image["mime"], "image/png");
    assert_eq!((image["width"].as_i64(), image["height"].as_i64()), (Some(400), Some(300)));
    assert_eq!(uploaded[1]["mime"], "application/pdf", "the type comes from the bytes, not the name");

    // The same bytes again: a new library item, the same stored blob.
    let (_, again) = upload(&app, &site, "", vec![("copy.png", photo.clone())]).await;
    assert_eq!(again[0]["sha256"], image["sha256"]);
    assert_ne!(again[0]["id"], image["id"]);
    let blobs = walk(&app.data_dir.path().join("blobs"));
    assert_eq!(blobs.iter().filter(|p| p.ends_with(image["sha256"].as_str().unwrap())).count(), 1, "{blobs:?}");

    // Public file, ETag, and variants in allowed sizes only.
    let id = image["id"].as_str().unwrap();
    let original = public(&app, &site, &format!("/media/{id}")).await;
    assert_eq!(original.status(), 200);
    assert_eq!(original.headers()["content-type"], "image/png");
    assert_eq!(original.headers()["x-content-type-options"], "nosniff");
    let etag = original.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(original.bytes().await.unwrap().to_vec(), photo);
    let cached = app
        .client
        .get(app.url(&format!("/public/v1/sites/{}/media/{id}", site.id)))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let small = public(&app, &site, &format!("/media/{id}?w=128")).await;
    assert_eq!(small.status(), 200);
    let small = image::load_from_memory(&small.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (128, 96));
    let square = public(&app, &site, &format!("/media/{id}?w=64&h=64&fit=cover")).await;
    let square = image::load_from_memory(&square.bytes().await.unwrap()).unwrap();
    assert_eq!((square.width(), square.height()), (64, 64));
    let odd = public(&app, &site, &format!("/media/{id}?w=100")).await;
    assert_eq!(odd.status(), 400);
    let odd = json(odd).await;
    assert!(odd["details"]["allowed"].as_array().unwrap().contains(&json!(128)), "{odd}");
    let pdf_variant = public(&app, &site, &format!("/media/{}?w=128", uploaded[1]["id"].as_str().unwrap())).await;
    assert_eq!(pdf_variant.status(), 400);
    assert!(!walk(&app.data_dir.path().join("variants")).is_empty(), "variants are kept on disk");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn folders_alt_text_replace_and_usage() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let (status, folder) =
        site.call(&app, Method::POST, "/v1/sites/{site}/media-folders", Some(json!({"name": "Blog"}))).await;
    assert_eq!(status, 201, "{folder}");
    let folder_id = folder["id"].as_str().unwrap();
    let (status, child) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/media-folders",
            Some(json!({"name": "2026", "parentId": folder_id})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) =
        site.call(&app, Method::POST, "/v1/sites/{site}/media-folders", Some(json!({"name": "Blog"}))).await;
    assert_eq!(status, 409, "sibling names are unique");
    let (status, cycle) = site
        .call(
            &app,
            Method::PATCH,
            &format!("/v1/sites/{{site}}/media-folders/{folder_id}"),
            Some(json!({"parentId": child["id"]})),
        )
        .await;
    assert_eq!(status, 400, "{cycle}");

    let (_, uploaded) = upload(&app, &site, &format!("?folderId={folder_id}"), vec![("bike.png", png(20, 10))]).await;
    let media_id = uploaded[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(uploaded[0]["folderId"], folder_id);
    let (status, _) =
        site.call(&app, Method::DELETE, &format!("/v1/sites/{{site}}/media-folders/{folder_id}"), None).await;
    assert_eq!(status, 409, "not empty");

    let media_path = format!("/v1/sites/{{site}}/media/{media_id}");
    let (status, described) = site
        .call(
            &app,
            Method::PATCH,
            &media_path,
            Some(json!({"alt": {"en": "A red bicycle", "de": "Ein rotes Fahrrad"}})),
        )
        .await;
    assert_eq!(status, 200, "{described}");
    let (status, bad) = site.call(&app, Method::PATCH, &media_path, Some(json!({"alt": {"english": "x"}}))).await;
    assert_eq!(status, 400, "{bad}");
    let (_, found) = site.call(&app, Method::GET, "/v1/sites/{site}/media?q=bicycle", None).await;
    assert_eq!(found["pagination"]["total"], 1, "{found}");
    let (_, found) = site.call(&app, Method::GET, "/v1/sites/{site}/media?q=bike&mime=image/", None).await;
    assert_eq!(found["pagination"]["total"], 1, "by name: {found}");
    let (_, none) = site.call(&app, Method::GET, "/v1/sites/{site}/media?q=bicycle&folderId=root", None).await;
    assert_eq!(none["pagination"]["total"], 0);

    // Used by a published post: delivered with the locale's alt text, and cannot be deleted.
    let post = site.entry(&app, json!({"type": "post", "title": "Ride", "data": {"cover": media_id}})).await;
    site.publish(&app, post["id"].as_str().unwrap()).await;
    let ride = json(public(&app, &site, "/entries/post/ride?locale=de").await).await;
    assert_eq!(ride["fields"]["cover"]["alt"], "Ein rotes Fahrrad", "{ride}");
    assert_eq!(ride["fields"]["cover"]["width"], 20);
    let (_, usage) = site.call(&app, Method::GET, &format!("{media_path}/usage"), None).await;
    assert_eq!(usage[0]["id"], post["id"]);
    let (status, _) = site.call(&app, Method::DELETE, &media_path, None).await;
    assert_eq!(status, 409);

    // Replacing keeps the id; visitors get the new picture and its size.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(png(30, 30)).file_name("bike-square.png"));
    let replaced = app
        .client
        .put(app.url(&format!("/v1/sites/{}/media/{media_id}/file", site.id)))
        .bearer_auth(&site.token)
        .header("X-Tenant-ID", &site.tenant)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    let replaced = json(replaced).await;
    assert_eq!(replaced["id"], media_id.as_str());
    assert_eq!(replaced["width"], 30);
    assert_eq!(replaced["alt"]["en"], "A red bicycle", "descriptions stay");
    let ride = json(public(&app, &site, "/entries/post/ride").await).await;
    assert_eq!(ride["fields"]["cover"]["width"], 30);

    // Upload limits and bad requests.
    let (status, empty) = upload(&app, &site, "", vec![("empty.txt", Vec::new())]).await;
    assert_eq!(status, 400, "{empty}");
    let not_multipart = app
        .client
        .post(app.url(&format!("/v1/sites/{}/media", site.id)))
        .bearer_auth(&site.token)
        .header("X-Tenant-ID", &site.tenant)
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), 415);
}

#[tokio::test]
async fn files_over_the_limit_are_refused() {
    let app = crate::support::app::spawn_app_env(&[("LECTERN_MAX_MEDIA_BYTES", "2048")]).await;
    let site = site(&app).await;
    let (status, refused) = upload(&app, &site, "", vec![("big.bin", vec![7u8; 4096])]).await;
    assert_eq!(status, 413, "{refused}");
    let (_, listed) = site.call(&app, Method::GET, "/v1/sites/{site}/media", None).await;
    assert_eq!(listed["pagination"]["total"], 0, "nothing half-written");
}
