//! Knowledge bases and the ingestion pipeline, end to end on real documents.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::eventually;

fn shared(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../shared/data/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

impl TestApp {
    pub async fn upload(&self, token: &str, kb: &str, files: Vec<(&str, Vec<u8>)>, query: &str) -> reqwest::Response {
        let mut form = Form::new();
        for (name, bytes) in files {
            form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
        }
        self.client
            .post(self.url(&format!("/v1/knowledge-bases/{kb}/documents{query}")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Polls a job until it leaves queued/running (60 s at most) and returns it.
    pub async fn wait_for_job(&self, token: &str, job: &str) -> Value {
        eventually(&format!("job {job} to finish"), Duration::from_secs(60), || async {
            let view = json(self.call(Method::GET, &format!("/v1/jobs/{job}"), token, None, None).await).await;
            (!["queued", "running"].contains(&view["status"].as_str().unwrap_or_default())).then_some(view)
        })
        .await
    }
}

async fn kb(app: &TestApp, token: &str) -> String {
    app.create("/v1/knowledge-bases", token, "", json!({"name": "Manuals"})).await
}

#[tokio::test]
async fn a_pdf_and_a_docx_become_ready_with_chunks_pages_and_their_original_bytes() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;
    let pdf = shared("pdfs/sf__pdflatex-4-pages.pdf");

    let accepted = app.upload(&token, &kb, vec![("four-pages.pdf", pdf.clone())], "").await;
    assert_eq!(accepted.status(), 202);
    let accepted = json(accepted).await;
    assert_eq!(accepted["document"]["status"], "queued");
    assert_eq!(accepted["document"]["kind"], "pdf");
    let job = app.wait_for_job(&token, accepted["job"]["id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["progress"].as_u64()), (Some("succeeded"), Some(100)), "{job}");

    let doc_id = accepted["document"]["id"].as_str().unwrap();
    let doc =
        json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc_id}"), &token, None, None).await)
            .await;
    assert_eq!((doc["status"].as_str(), doc["pages"].as_u64()), (Some("ready"), Some(4)), "{doc}");
    assert_eq!(doc["progress"]["jobId"], accepted["job"]["id"]);
    assert_eq!((doc["progress"]["stage"].as_str(), doc["progress"]["percent"].as_u64()), (Some("done"), Some(100)));
    let chunk_count = doc["chunkCount"].as_u64().unwrap();
    assert!(chunk_count >= 5, "{doc}");

    let chunks = json(
        app.call(
            Method::GET,
            &format!("/v1/knowledge-bases/{kb}/documents/{doc_id}/chunks?limit=100"),
            &token,
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(chunks["pagination"]["total"].as_u64(), Some(chunk_count));
    let first = &chunks["data"][0];
    assert_eq!(first["index"], 0);
    assert_eq!(first["pages"], json!([1]));
    assert!(first["tokens"].as_u64().unwrap() <= 200);
    assert!(chunks["data"].as_array().unwrap().last().unwrap()["pages"].as_array().unwrap().contains(&json!(4)));

    let content = app
        .call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc_id}/content"), &token, None, None)
        .await;
    assert_eq!(content.headers()["content-type"], "application/pdf");
    assert_eq!(content.bytes().await.unwrap().to_vec(), pdf);

    let docx = app.upload(&token, &kb, vec![("tables.docx", shared("docs/docx/mammoth__tables.docx"))], "").await;
    let docx = json(docx).await;
    let job = app.wait_for_job(&token, docx["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let summary = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await).await;
    assert_eq!(summary["documents"], 2);
    assert_eq!(summary["status"]["ready"], 2);
    // The DOCX gives three: the text above its table, the table, the text below.
    assert_eq!(summary["chunks"].as_u64(), Some(chunk_count + 3));
    let originals = pdf.len() + shared("docs/docx/mammoth__tables.docx").len();
    assert_eq!(summary["bytes"].as_u64(), Some(originals as u64), "the originals' bytes add up");
    let listed = json(app.call(Method::GET, "/v1/knowledge-bases", &token, None, None).await).await;
    assert_eq!(listed["data"][0], summary, "the list shows the same counts");
}

#[tokio::test]
async fn in_one_upload_bad_files_are_rejected_or_fail_with_reasons_and_good_ones_succeed() {
    let app = spawn_app_env(&[("LECTERN_MAX_UPLOAD_BYTES", "200000"), ("LECTERN_MAX_UNPACKED_BYTES", "1048576")]).await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;
    let files = vec![
        ("photo.pdf", b"GIF89a\x01\0\x01\0".to_vec()),
        ("empty.txt", Vec::new()),
        ("huge.txt", vec![b'a'; 300_000]),
        ("bomb.docx", zip_bomb()),
        ("locked.pdf", shared("pdfs/pypdf__r4-aes-user-password.pdf")),
        ("truncated.pdf", shared("pdfs/pypdf__crazyones.pdf")[..400].to_vec()),
        ("notes.md", b"# Notes\n\nThe staging server restarts every night at two.\n".to_vec()),
    ];
    let response = app.upload(&token, &kb, files, "").await;
    assert_eq!(response.status(), 202);
    let results = json(response).await;
    let rejected: Vec<(&str, &str)> = results["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["file"].as_str().unwrap(), r["error"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            ("photo.pdf", "UNSUPPORTED_MEDIA_TYPE"),
            ("empty.txt", "UNPROCESSABLE_ENTITY"),
            ("huge.txt", "PAYLOAD_TOO_LARGE")
        ]
    );
    let accepted = results["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 4);
    let mut outcomes = Vec::new();
    for item in accepted {
        let job = app.wait_for_job(&token, item["job"]["id"].as_str().unwrap()).await;
        let doc = json(
            app.call(
                Method::GET,
                &format!("/v1/knowledge-bases/{kb}/documents/{}", item["document"]["id"].as_str().unwrap()),
                &token,
                None,
                None,
            )
            .await,
        )
        .await;
        outcomes.push((
            doc["title"].as_str().unwrap().to_owned(),
            job["status"].as_str().unwrap().to_owned(),
            doc["status"].as_str().unwrap().to_owned(),
            doc["error"].clone(),
        ));
    }
    let by_title = |title: &str| {
        outcomes.iter().find(|o| o.0 == title).unwrap_or_else(|| panic!("{title} in {outcomes:?}")).clone()
    };
    let bomb = by_title("bomb.docx");
    assert_eq!(
        (bomb.1.as_str(), bomb.3.clone()),
        ("failed", json!("the document unpacks to more than 1048576 bytes; the limit guards against archive bombs"))
    );
    let locked = by_title("locked.pdf");
    assert_eq!(
        (locked.1.as_str(), locked.3.clone()),
        ("failed", json!("the PDF is encrypted with a password; upload it without the password"))
    );
    let truncated = by_title("truncated.pdf");
    assert_eq!((truncated.1.as_str(), truncated.2.as_str()), ("failed", "failed"));
    assert!(truncated.3.as_str().unwrap().len() > 10, "a reason: {:?}", truncated.3);
    let notes = by_title("notes.md");
    assert_eq!((notes.1.as_str(), notes.2.as_str()), ("succeeded", "ready"), "the good file is not held back");
    assert_eq!(app.get("/health").await.status(), 200);

    let failed = json(
        app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents?status=failed"), &token, None, None).await,
    )
    .await;
    assert_eq!(failed["pagination"]["total"], 3);
}

#[tokio::test]
async fn single_file_errors_answer_with_their_status_and_duplicates_are_caught() {
    let app = spawn_app_env(&[("LECTERN_MAX_UPLOAD_BYTES", "20000")]).await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;

    let unsupported = app.upload(&token, &kb, vec![("x.pdf", vec![0u8, 159, 146, 150, 1, 2, 3])], "").await;
    assert_eq!(unsupported.status(), 415);
    let body = json(unsupported).await;
    assert_eq!(
        body["details"]["supported"],
        json!([
            "pdf", "docx", "html", "markdown", "text", "csv", "json", "xlsx", "xls", "ods", "pptx", "odt", "epub",
            "rtf", "eml", "png", "jpeg", "tiff"
        ])
    );
    let big = app.upload(&token, &kb, vec![("big.txt", vec![b'a'; 30_000])], "").await;
    assert_eq!(big.status(), 413);
    assert_eq!(json(big).await["details"]["limitBytes"], 20000);

    let text = b"Lectern keeps every chunk in the database.".to_vec();
    let first = json(app.upload(&token, &kb, vec![("a.txt", text.clone())], "").await).await;
    let again = app.upload(&token, &kb, vec![("b.txt", text.clone())], "").await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(again).await["details"]["documentId"], first["document"]["id"]);
    assert_eq!(app.upload(&token, &kb, vec![("b.txt", text)], "?allowDuplicate=true").await.status(), 202);

    let pasted = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &token,
            None,
            Some(json!({"text": "# Runbook\n\nRestart with care.", "title": "runbook.md"})),
        )
        .await;
    assert_eq!(pasted.status(), 202);
    let pasted = json(pasted).await;
    assert_eq!(
        (pasted["document"]["kind"].as_str(), pasted["document"]["sourceKind"].as_str()),
        (Some("markdown"), Some("text"))
    );
    let job = app.wait_for_job(&token, pasted["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded");
    let chunks = json(
        app.call(
            Method::GET,
            &format!("/v1/knowledge-bases/{kb}/documents/{}/chunks", pasted["document"]["id"].as_str().unwrap()),
            &token,
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(chunks["data"][0]["headings"], json!(["Runbook"]));
}

#[tokio::test]
async fn deleting_and_reindexing_documents_and_knowledge_bases() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;
    let accepted =
        json(app.upload(&token, &kb, vec![("crazy.pdf", shared("pdfs/pypdf__crazyones.pdf"))], "").await).await;
    let doc = accepted["document"]["id"].as_str().unwrap().to_owned();
    app.wait_for_job(&token, accepted["job"]["id"].as_str().unwrap()).await;
    let chunks_before = json(
        app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc}/chunks"), &token, None, None).await,
    )
    .await["pagination"]["total"]
        .clone();

    let reindex =
        app.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/documents/{doc}/reindex"), &token, None, None).await;
    assert_eq!(reindex.status(), 202);
    let job = app.wait_for_job(&token, json(reindex).await["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded");
    let chunks_after = json(
        app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc}/chunks"), &token, None, None).await,
    )
    .await["pagination"]["total"]
        .clone();
    assert_eq!(chunks_before, chunks_after, "a repeat replaces, never duplicates");

    let whole = app.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/reindex"), &token, None, None).await;
    assert_eq!(whole.status(), 202);
    let whole = json(whole).await;
    assert_eq!((whole["kind"].as_str(), whole["total"].as_i64()), (Some("reindex_kb"), Some(1)), "{whole}");
    eventually("the knowledge base's documents to be re-ingested", Duration::from_secs(30), || async {
        let queued = json(app.call(Method::GET, "/v1/jobs?status=queued", &token, None, None).await).await;
        let running = json(app.call(Method::GET, "/v1/jobs?status=running", &token, None, None).await).await;
        (queued["pagination"]["total"] == 0 && running["pagination"]["total"] == 0).then_some(())
    })
    .await;
    let summary = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await).await;
    assert_eq!((summary["status"]["ready"].as_u64(), summary["chunks"].clone()), (Some(1), chunks_before.clone()));

    let patched = app
        .call(
            Method::PATCH,
            &format!("/v1/knowledge-bases/{kb}/documents/{doc}"),
            &token,
            None,
            Some(json!({"title": "Crazy ones", "metadata": {"lang": "en"}})),
        )
        .await;
    assert_eq!(json(patched).await["metadata"], json!({"lang": "en"}));

    assert_eq!(
        app.call(Method::DELETE, &format!("/v1/knowledge-bases/{kb}/documents/{doc}"), &token, None, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc}"), &token, None, None).await.status(),
        404
    );
    assert_eq!(app.call(Method::DELETE, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await.status(), 204);
    assert_eq!(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await.status(), 404);
    let jobs = json(app.call(Method::GET, "/v1/jobs?status=succeeded", &token, None, None).await).await;
    let all = json(app.call(Method::GET, "/v1/jobs", &token, None, None).await).await;
    assert_eq!(jobs["pagination"]["total"], 4, "upload, reindex, the KB reindex and its document: {all}");
}

#[tokio::test]
async fn job_progress_streams_as_server_sent_events_until_done() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;
    let accepted =
        json(app.upload(&token, &kb, vec![("four.pdf", shared("pdfs/sf__pdflatex-4-pages.pdf"))], "").await).await;
    let job = accepted["job"]["id"].as_str().unwrap();
    let response = app.call(Method::GET, &format!("/v1/jobs/{job}/events"), &token, None, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = tokio::time::timeout(Duration::from_secs(60), response.text()).await.expect("the stream ends").unwrap();
    let events: Vec<(&str, Value)> = body
        .split("\n\n")
        .filter(|frame| !frame.trim().is_empty())
        .map(|frame| {
            let mut lines = frame.lines();
            let event = lines.next().unwrap().trim_start_matches("event: ");
            let data: Value = serde_json::from_str(lines.next().unwrap().trim_start_matches("data: ")).unwrap();
            (event, data)
        })
        .collect();
    let (last_event, last) = events.last().unwrap();
    assert_eq!(
        (*last_event, last["status"].as_str(), last["progress"].as_u64()),
        ("done", Some("succeeded"), Some(100))
    );
    assert!(events[..events.len() - 1].iter().all(|(e, _)| *e == "progress"));
    let stages: Vec<&str> = events.iter().map(|(_, d)| d["stage"].as_str().unwrap()).collect();
    assert!(stages.contains(&"done"), "{stages:?}");
    assert_eq!(
        app.call(Method::GET, &format!("/v1/jobs/{}/events", uuid::Uuid::now_v7()), &token, None, None).await.status(),
        404
    );
    let misspelt = app.call(Method::GET, "/v1/jobs?status=done", &token, None, None).await;
    assert_eq!(misspelt.status(), 400, "an unknown status is a mistake, not an empty list");
    assert_eq!(json(misspelt).await["details"]["field"], "status");
}

/// A web server on loopback serving one article and a redirect to it.
async fn local_site() -> String {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(|| {
        App::new()
            .route("/article", web::get().to(|| async {
                HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
                    "<html><head><title>Rotation policy</title><script>track()</script></head><body><nav>Home | About</nav>\
                     <article><h1>Rotation policy</h1><p>Keys are rotated every ninety days by the platform team.</p></article></body></html>",
                )
            }))
            .route("/moved", web::get().to(|| async { HttpResponse::Found().insert_header(("Location", "/article")).finish() }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    base
}

#[tokio::test]
async fn web_pages_are_fetched_safely_and_ingested_as_html() {
    let site = local_site().await;
    let guarded = spawn_app().await;
    let (token, _) = guarded.bootstrap().await;
    let kb_id = kb(&guarded, &token).await;
    let path = format!("/v1/knowledge-bases/{kb_id}/documents");
    for (url, reason) in [
        (format!("{site}/article"), "points to a private or local address; fetching it is not allowed"),
        ("file:///etc/passwd".to_owned(), "must be an http:// or https:// URL"),
        ("not a url".to_owned(), "is not a URL"),
    ] {
        let response = guarded.call(Method::POST, &path, &token, None, Some(json!({"url": url}))).await;
        assert_eq!(response.status(), 400, "{url}");
        let body = json(response).await;
        assert_eq!(body["details"]["field"], "url");
        assert!(body["details"]["reason"].as_str().unwrap().contains(reason), "{body}");
    }

    let open = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true")]).await;
    let (token, _) = open.bootstrap().await;
    let kb_id = kb(&open, &token).await;
    let accepted = open
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb_id}/documents"),
            &token,
            None,
            Some(json!({"url": format!("{site}/moved")})),
        )
        .await;
    assert_eq!(accepted.status(), 202);
    let accepted = json(accepted).await;
    assert_eq!(
        (accepted["document"]["kind"].as_str(), accepted["document"]["sourceKind"].as_str()),
        (Some("html"), Some("url"))
    );
    assert_eq!(accepted["document"]["sourceName"], format!("{site}/article"), "the redirect was followed");
    assert_eq!(open.wait_for_job(&token, accepted["job"]["id"].as_str().unwrap()).await["status"], "succeeded");
    let chunks = json(
        open.call(
            Method::GET,
            &format!("/v1/knowledge-bases/{kb_id}/documents/{}/chunks", accepted["document"]["id"].as_str().unwrap()),
            &token,
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(chunks["data"][0]["text"], "Keys are rotated every ninety days by the platform team.");
    assert_eq!(chunks["data"][0]["headings"], json!(["Rotation policy"]));
}

#[tokio::test]
async fn the_import_command_uploads_a_folder_and_reports_each_file() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb_id = kb(&app, &token).await;
    let key = json(
        app.call(
            Method::POST,
            "/v1/api-keys",
            &token,
            None,
            Some(json!({"name": "importer", "scopes": ["kb.read", "kb.write"]})),
        )
        .await,
    )
    .await;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("guide.md"), "# Guide\n\nPress the green button to start.\n").unwrap();
    std::fs::write(folder.path().join("tables.docx"), shared("docs/docx/mammoth__tables.docx")).unwrap();
    std::fs::write(folder.path().join("locked.pdf"), shared("pdfs/pypdf__r4-aes-user-password.pdf")).unwrap();
    std::fs::write(folder.path().join("picture.pdf"), b"GIF89a\x01\0\x01\0").unwrap();
    std::fs::create_dir(folder.path().join(".git")).unwrap();
    std::fs::write(folder.path().join(".git/config"), "ignored").unwrap();

    let base = app.address.clone();
    let (kb_arg, key_arg) = (kb_id.clone(), key["secret"].as_str().unwrap().to_owned());
    let folder_path = folder.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lectern"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LECTERN_API_KEY", key_arg)
            .args(["import", "--kb", &kb_arg, "--url", &base])
            .arg(&folder_path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed file makes the exit code 1: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    let line = |name: &str| {
        stdout.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name} in {stdout}")).to_owned()
    };
    assert!(line("guide.md").contains(" ready ") && line("tables.docx").contains(" ready "), "{stdout}");
    assert!(
        line("locked.pdf").contains("failed") && line("locked.pdf").contains("encrypted with a password"),
        "{stdout}"
    );
    assert!(line("picture.pdf").contains("rejected") && line("picture.pdf").contains("a GIF image"), "{stdout}");
    assert!(!stdout.contains(".git"), "hidden folders are skipped");
    assert!(stdout.trim_end().ends_with("2 of 4 files imported"), "{stdout}");
    let summary = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb_id}"), &token, None, None).await).await;
    assert_eq!((summary["status"]["ready"].as_u64(), summary["status"]["failed"].as_u64()), (Some(2), Some(1)));
}

/// A DOCX whose XML unpacks to 8 MiB from a few KiB.
fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(b"<w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:t>").unwrap();
    zip.write_all(&vec![b' '; 8 * 1024 * 1024]).unwrap();
    zip.write_all(b"</w:t></w:r></w:p></w:body></w:document>").unwrap();
    zip.finish().unwrap();
    buffer.into_inner()
}

#[tokio::test]
async fn a_title_changed_during_ingestion_is_searchable_once_the_document_is_ready() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = kb(&app, &token).await;
    // Long enough that embedding takes a while: the rename lands while the document is processing.
    let text: String = (0..400)
        .map(|i| format!("Section {i}. The river valley holds meadows, orchards and old stone bridges number {i}.\n\n"))
        .collect();
    let added = json(
        app.call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &token,
            None,
            Some(json!({"title": "draft.md", "text": text})),
        )
        .await,
    )
    .await;
    let (doc, job) = (added["document"]["id"].as_str().unwrap(), added["job"]["id"].as_str().unwrap());
    let mut stage = String::new();
    for _ in 0..3000 {
        let view = json(app.call(Method::GET, &format!("/v1/jobs/{job}"), &token, None, None).await).await;
        stage = view["stage"].as_str().unwrap_or_default().to_owned();
        if stage == "embedding" || view["status"] != "running" && view["status"] != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stage, "embedding", "the rename must land mid-ingestion for this test to mean anything");
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/v1/knowledge-bases/{kb}/documents/{doc}"),
            &token,
            None,
            Some(json!({"title": "Quokka field guide"})),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(json(renamed).await["status"], "processing");
    assert_eq!(app.wait_for_job(&token, job).await["status"], "succeeded");

    let found = json(
        app.call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/search"),
            &token,
            None,
            Some(json!({"query": "quokka", "mode": "lexical"})),
        )
        .await,
    )
    .await;
    let hits = found["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.iter().all(|h| h["documentTitle"] == "Quokka field guide"), "{found}");
}
