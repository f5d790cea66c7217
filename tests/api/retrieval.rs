//! Retrieval stages beyond fusion: document-level lexical ranking and the reranker (a `/rerank`
//! upstream in the Cohere and TEI wire formats, and a local ONNX cross-encoder through the real
//! fastembed + ONNX Runtime path).

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::fake_rerank::{FakeRerank, KEY};

async fn add_documents(app: &TestApp, token: &str, kb: &str, docs: &[(&str, String)]) -> Vec<String> {
    let mut ids = Vec::new();
    for (title, text) in docs {
        let path = format!("/v1/knowledge-bases/{kb}/documents");
        let added =
            json(app.call(Method::POST, &path, token, None, Some(json!({"title": title, "text": text}))).await).await;
        let job = app.wait_for_job(token, added["job"]["id"].as_str().unwrap_or_else(|| panic!("{added}"))).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        ids.push(added["document"]["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn search(app: &TestApp, token: &str, kb: &str, body: Value) -> (u16, Value) {
    let response = app.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), token, None, Some(body)).await;
    (response.status().as_u16(), json(response).await)
}

fn documents(found: &Value) -> Vec<String> {
    found["hits"].as_array().unwrap().iter().map(|h| h["documentTitle"].as_str().unwrap().to_owned()).collect()
}

/// A paragraph of about forty words about something else, with `word` `times` times.
fn paragraph(n: usize, word: &str, times: usize) -> String {
    let filler = format!(
        "Section {n} describes the quarterly maintenance schedule for the northern depot, the inspection of \
         the conveyor belts, the replacement of worn rollers and the training plan for new staff members who \
         join the logistics team during the busy season"
    );
    format!("{filler} {}.", vec![word; times].join(" and "))
}

/// Lexical search ranks chunks by default; `lexicalScoring: document` ranks documents: one that
/// matches in three chunks beats one whose single chunk matches a little better.
#[tokio::test]
async fn lexical_search_ranks_documents_by_all_their_matching_chunks() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Depot", "chunkMaxTokens": 64})).await;
    let spread = (1..=3).map(|n| paragraph(n, "zephyr", 1)).collect::<Vec<_>>().join("\n\n");
    let once = [paragraph(4, "zephyr", 2), paragraph(5, "depot", 1)].join("\n\n");
    add_documents(&app, &token, &kb, &[("Spread", spread), ("Once", once)]).await;

    let (status, by_chunk) = search(&app, &token, &kb, json!({"query": "zephyr", "mode": "lexical"})).await;
    assert_eq!(status, 200, "{by_chunk}");
    assert_eq!(documents(&by_chunk)[0], "Once", "its chunk has the word twice: {by_chunk}");
    assert_eq!(by_chunk["hits"].as_array().unwrap().len(), 4);

    let (_, by_document) =
        search(&app, &token, &kb, json!({"query": "zephyr", "mode": "lexical", "lexicalScoring": "document"})).await;
    // The best chunk of each document first, then the rest: nothing is lost.
    assert_eq!(documents(&by_document), ["Spread", "Once", "Spread", "Spread"], "{by_document}");
    let hits = by_document["hits"].as_array().unwrap();
    let document_score = |i: usize| hits[i]["scores"]["document"].as_f64().unwrap();
    assert!(document_score(0) > document_score(1), "{by_document}");
    assert!(hits[1]["scores"]["lexical"].as_f64() > hits[0]["scores"]["lexical"].as_f64(), "{by_document}");
    // Unknown values are a clear 400.
    let (status, error) = search(&app, &token, &kb, json!({"query": "zephyr", "lexicalScoring": "best"})).await;
    assert_eq!(status, 400, "{error}");
}

/// Each chunk is stemmed in its detected language and the knowledge base lists the languages,
/// so a query in an inflected form finds German and French text; English is unchanged.
#[tokio::test]
async fn knowledge_bases_learn_their_languages_and_queries_are_stemmed_in_each() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Mixed"})).await;
    let languages = |kb_view: &Value| kb_view["languages"].clone();
    let english = "The newspapers of the city report daily on the new libraries and their readers.";
    add_documents(&app, &token, &kb, &[("City", english.to_owned())]).await;
    let view = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await).await;
    assert_eq!(languages(&view), json!(["en"]), "{view}");
    let (_, found) = search(&app, &token, &kb, json!({"query": "Zeitungen Bibliotheken", "mode": "lexical"})).await;
    assert!(documents(&found).is_empty(), "{found}");

    let german = "Die Zeitung der Stadt berichtet täglich über die neue Bibliothek und ihre Leser.";
    let french = "Le cheval de l'université court chaque matin dans le grand parc de la ville.";
    add_documents(&app, &token, &kb, &[("Stadt", german.to_owned()), ("Ville", french.to_owned())]).await;
    let view = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await).await;
    assert_eq!(languages(&view), json!(["en", "de", "fr"]), "{view}");
    let (_, found) = search(&app, &token, &kb, json!({"query": "Zeitungen Bibliotheken", "mode": "lexical"})).await;
    assert_eq!(documents(&found), ["Stadt"], "{found}");
    let (_, found) = search(&app, &token, &kb, json!({"query": "chevaux universités", "mode": "lexical"})).await;
    assert_eq!(documents(&found), ["Ville"], "{found}");
    let (_, found) = search(&app, &token, &kb, json!({"query": "library readers", "mode": "lexical"})).await;
    assert_eq!(documents(&found), ["City"], "{found}");
}

/// An index made before languages were detected (an older schema, a knowledge base without its
/// languages) is rebuilt at startup: the German document and the German site entry are then
/// found by their inflected forms without anyone reindexing.
#[tokio::test]
async fn an_upgrade_rebuilds_the_indexes_with_each_texts_language() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let site = {
        let (token, tenant) = app.bootstrap().await;
        let id = app.create("/v1/sites", &token, &tenant.id, json!({"name": "Blog", "locales": ["de"]})).await;
        crate::content::Site { id, token, tenant: tenant.id }
    };
    let kb = app.create("/v1/knowledge-bases", &site.token, &site.tenant, json!({"name": "Stadt"})).await;
    let german = "Die Zeitung der Stadt berichtet täglich über die neue Bibliothek und ihre Leser.";
    add_documents(&app, &site.token, &kb, &[("Stadt", german.to_owned())]).await;
    let body = "Das alte Haus am Fluss wurde im letzten Jahrhundert von den Bauern des Dorfes gebaut.";
    let entry =
        site.entry(&app, json!({"type": "post", "locale": "de", "title": "Am Fluss", "data": {"body": body}})).await;
    site.publish(&app, entry["id"].as_str().unwrap()).await;
    app.handle.stop(true).await;
    let TestApp { data_dir: first_dir, database_url, run, .. } = app;
    run.await.unwrap().unwrap();

    // What an older version left: the originals, indexes of another schema, no languages
    // recorded (the vector store starts empty, so the document is also re-ingested).
    let second_dir = tempfile::tempdir().unwrap();
    copy_dir(&first_dir.path().join("blobs"), &second_dir.path().join("blobs"));
    for dir in ["search", "site-search"] {
        let path = second_dir.path().join(dir);
        std::fs::create_dir_all(&path).unwrap();
        let mut schema = tantivy::schema::Schema::builder();
        schema.add_text_field("chunk_id", tantivy::schema::STRING);
        let old = tantivy::Index::create_in_dir(&path, schema.build()).unwrap();
        let mut writer: tantivy::IndexWriter = old.writer(15_000_000).unwrap();
        writer.commit().unwrap();
    }
    let db = sea_orm::Database::connect(database_url.as_str()).await.unwrap();
    db.execute_unprepared("UPDATE knowledge_bases SET languages = ''").await.unwrap();
    drop(db);

    let settings = crate::support::app::test_settings(&second_dir, &[("DATABASE_URL", database_url.as_str())]).await;
    let app = crate::support::app::spawn_app_with(second_dir, settings).await;
    let token = app.login(crate::support::identity::ADMIN_EMAIL, crate::support::identity::PASSWORD).await;
    let view = json(app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}"), &token, None, None).await).await;
    assert_eq!(view["languages"], json!(["en", "de"]), "{view}");
    // The fresh vector store also makes startup re-ingest the document: wait for it to settle.
    crate::support::eventually("the German document found", std::time::Duration::from_secs(60), || async {
        let (_, found) = search(&app, &token, &kb, json!({"query": "Zeitungen Bibliotheken", "mode": "lexical"})).await;
        (documents(&found) == ["Stadt"]).then_some(())
    })
    .await;
    let path = format!("/public/v1/sites/{}/search?q=H%C3%A4user%20&locale=de", site.id);
    let results = json(app.client.get(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(results["total"], 1, "{results}");
}

/// By default a chunk's vector is the embedding of its title and heading path followed by its
/// text (a query of exactly that text scores a cosine of 1); with `LECTERN_EMBED_CONTEXT=false`
/// it is the embedding of the text alone.
#[tokio::test]
async fn chunks_are_embedded_with_their_title_and_headings_by_default() {
    for (setting, contextual) in [(None, true), (Some("false"), false)] {
        let env: Vec<(&str, &str)> = setting.map(|s| ("LECTERN_EMBED_CONTEXT", s)).into_iter().collect();
        let app = spawn_app_env(&env).await;
        let setting = setting.unwrap_or("default");
        let (token, _) = app.bootstrap().await;
        let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Depot"})).await;
        let text = "# Rollers\n\nWorn rollers on the conveyor belts are replaced every spring.";
        let id = add_documents(&app, &token, &kb, &[("Depot handbook", text.to_owned())]).await.remove(0);
        let path = format!("/v1/knowledge-bases/{kb}/documents/{id}/chunks");
        let chunks = json(app.call(Method::GET, &path, &token, None, None).await).await;
        let chunk = &chunks["data"][0];
        let headings: Vec<&str> = chunk["headings"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
        let own = chunk["text"].as_str().unwrap().to_owned();
        let place: Vec<&str> = std::iter::once("Depot handbook").chain(headings).collect();
        let with_context = format!("{}\n\n{own}", place.join(" > "));
        let cosine = |query: String| {
            let (app, token, kb) = (&app, &token, &kb);
            async move {
                let (_, found) = search(app, token, kb, json!({"query": query, "mode": "semantic"})).await;
                found["hits"][0]["scores"]["semantic"].as_f64().unwrap()
            }
        };
        let (plain, contextual_score) = (cosine(own).await, cosine(with_context).await);
        let (embedded, other) = if contextual { (contextual_score, plain) } else { (plain, contextual_score) };
        assert!(embedded > 0.999, "LECTERN_EMBED_CONTEXT={setting}: {embedded} vs {other}");
        assert!(other < 0.99, "LECTERN_EMBED_CONTEXT={setting}: {embedded} vs {other}");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A context block grows each passage with the chunks around it in the same section while the
/// budget lasts; `expandContext: false` keeps the bare chunks.
#[tokio::test]
async fn context_blocks_give_the_section_around_a_hit() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Depot", "chunkMaxTokens": 64})).await;
    let text = format!(
        "# Setup\n\n{}\n\n{}\n\n{}\n\n# Other\n\n{}",
        paragraph(1, "depot", 1),
        paragraph(2, "zephyr", 1),
        paragraph(3, "depot", 1),
        paragraph(4, "depot", 1)
    );
    add_documents(&app, &token, &kb, &[("Manual", text)]).await;
    let query = |expand: bool, max_tokens: usize| json!({"query": "zephyr", "mode": "lexical", "limit": 1, "maxTokens": max_tokens, "expandContext": expand});
    let path = format!("/v1/knowledge-bases/{kb}/query");
    let block = json(app.call(Method::POST, &path, &token, None, Some(query(true, 1000))).await).await;
    let context = block["context"].as_str().unwrap();
    for part in ["Section 1 describes", "Section 2 describes", "zephyr", "Section 3 describes"] {
        assert!(context.contains(part), "{part}: {context}");
    }
    assert!(!context.contains("Section 4"), "another section stays out: {context}");
    assert!(context.find("Section 1").unwrap() < context.find("Section 2").unwrap(), "in document order");
    assert!(block["tokens"].as_u64().unwrap() <= 1000);

    let bare = json(app.call(Method::POST, &path, &token, None, Some(query(false, 1000))).await).await;
    let context = bare["context"].as_str().unwrap();
    assert!(
        context.contains("zephyr") && !context.contains("Section 1") && !context.contains("Section 3"),
        "{context}"
    );
    // A tight budget takes what fits and no more.
    let tight = json(app.call(Method::POST, &path, &token, None, Some(query(true, 120))).await).await;
    assert!(tight["tokens"].as_u64().unwrap() <= 120, "{tight}");
    // Search itself has no context to expand.
    let (status, error) = search(&app, &token, &kb, json!({"query": "zephyr", "expandContext": true})).await;
    assert_eq!((status, error["details"]["field"].as_str()), (400, Some("expandContext")), "{error}");
}

const HELP: [(&str, &str); 3] = [
    ("Returns", "Customers may return any purchase within 30 days. Returns need the receipt."),
    ("Shipping", "Parcels leave the Rotterdam warehouse every weekday; express parcels travel overnight."),
    ("Warehouse", "The Rotterdam warehouse stores returns until they are inspected, then parcels go back to stock."),
];

async fn help_kb(app: &TestApp, token: &str) -> String {
    let kb = app.create("/v1/knowledge-bases", token, "", json!({"name": "Help"})).await;
    let docs: Vec<(&str, String)> = HELP.iter().map(|(t, text)| (*t, (*text).to_owned())).collect();
    add_documents(app, token, &kb, &docs).await;
    kb
}

/// With a Cohere-format upstream configured, searches rerank by default: the upstream gets the
/// candidates (title and text) and its order wins; `rerank: false` keeps the fused order.
#[tokio::test]
async fn a_rerank_upstream_reorders_the_candidates_in_cohere_and_tei_formats() {
    let fake = FakeRerank::start().await;
    let url = format!("{}/v1/rerank", fake.base);
    let app = spawn_app_env(&[
        ("LECTERN_RERANK_URL", &url),
        ("LECTERN_RERANK_API_KEY", KEY),
        ("LECTERN_RERANK_UPSTREAM_MODEL", "rerank-v3.5"),
        ("LECTERN_RERANK_CANDIDATES", "20"),
    ])
    .await;
    let (token, _) = app.bootstrap().await;
    let info = json(app.call(Method::GET, "/v1/info", &token, None, None).await).await;
    assert_eq!(info["reranker"], "upstream");
    let kb = help_kb(&app, &token).await;

    // "warehouse" is the query's longest word: the fake scores by how often a passage has it.
    let query = json!({"query": "returns in the warehouse", "mode": "lexical"});
    let (status, reranked) = search(&app, &token, &kb, query.clone()).await;
    assert_eq!(status, 200, "{reranked}");
    assert_eq!(documents(&reranked)[0], "Warehouse", "title and text both say it: {reranked}");
    let scores: Vec<f64> =
        reranked["hits"].as_array().unwrap().iter().map(|h| h["scores"]["rerank"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let sent = fake.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (sent["model"].as_str(), sent["query"].as_str()),
        (Some("rerank-v3.5"), Some("returns in the warehouse"))
    );
    let passages = sent["documents"].as_array().unwrap();
    assert!(passages.iter().any(|p| p.as_str().unwrap().starts_with("Warehouse\n")), "{sent}");
    assert_eq!(sent["top_n"].as_u64(), Some(passages.len() as u64));

    let mut plain = query.clone();
    plain["rerank"] = json!(false);
    let (_, fused) = search(&app, &token, &kb, plain).await;
    assert!(fused["hits"][0]["scores"]["rerank"].is_null(), "{fused}");
    let (status, error) = search(&app, &token, &kb, json!({"query": "x", "rerankCandidates": 500})).await;
    assert_eq!((status, error["details"]["field"].as_str()), (400, Some("rerankCandidates")), "{error}");

    // Text Embeddings Inference's format, and an upstream that fails: the fused order stands.
    for (path, format, reranked) in [("/rerank", "tei", true), ("/broken/rerank", "tei", false)] {
        let url = format!("{}{path}", fake.base);
        let app = spawn_app_env(&[("LECTERN_RERANK_URL", &url), ("LECTERN_RERANK_FORMAT", format)]).await;
        let (token, _) = app.bootstrap().await;
        let kb = help_kb(&app, &token).await;
        let (status, found) = search(&app, &token, &kb, query.clone()).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["hits"][0]["scores"]["rerank"].is_number(), reranked, "{path}: {found}");
        if reranked {
            assert_eq!(documents(&found)[0], "Warehouse", "{found}");
            let sent = fake.requests.lock().unwrap().last().cloned().unwrap();
            assert!(sent["texts"].is_array() && sent.get("documents").is_none(), "{sent}");
        }
    }
}

/// Without a reranker, `rerank: true` says what is missing; the default is simply no reranking.
#[tokio::test]
async fn asking_for_reranking_without_a_reranker_is_a_clear_400() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let info = json(app.call(Method::GET, "/v1/info", &token, None, None).await).await;
    assert_eq!(info["reranker"], "none");
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Empty"})).await;
    let (status, error) = search(&app, &token, &kb, json!({"query": "anything", "rerank": true})).await;
    assert_eq!((status, error["details"]["field"].as_str()), (400, Some("rerank")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("LECTERN_RERANK_MODEL"), "{error}");
    let (status, _) = search(&app, &token, &kb, json!({"query": "anything"})).await;
    assert_eq!(status, 200);
}

/// A local cross-encoder runs through fastembed's `TextRerank` on ONNX Runtime. No registry
/// ships a trained one, so the test builds a tiny ONNX model with a real cross-encoder's inputs
/// and output whose "relevance" is word overlap (tests/python/tiny_cross_encoder.py), with the
/// embedding model's BERT tokenizer: the passage sharing the most words with the query wins.
#[tokio::test]
async fn a_local_cross_encoder_reranks_through_onnx_runtime() {
    let models = std::env::var("LECTERN_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/lectern/models"));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-cross-encoder");
    std::fs::create_dir_all(&model).unwrap();
    for file in ["tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"] {
        std::fs::copy(models.join("all-minilm-l6-v2").join(file), model.join(file)).unwrap();
    }
    let python = std::env::var("LECTERN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/tiny_cross_encoder.py");
    let made = std::process::Command::new(python).arg(script).arg(model.join("model.onnx")).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

    let app = spawn_app_env(&[("LECTERN_RERANK_MODEL", model.to_str().unwrap())]).await;
    let (token, _) = app.bootstrap().await;
    let info = json(app.call(Method::GET, "/v1/info", &token, None, None).await).await;
    assert_eq!(info["reranker"], "local");
    let kb = help_kb(&app, &token).await;
    let (status, found) =
        search(&app, &token, &kb, json!({"query": "express parcels overnight every weekday", "mode": "semantic"}))
            .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(documents(&found)[0], "Shipping", "{found}");
    let scores: Vec<f64> =
        found["hits"].as_array().unwrap().iter().map(|h| h["scores"]["rerank"].as_f64().unwrap()).collect();
    assert_eq!(scores.len(), 3);
    assert!(scores[0] > scores[1] && scores[1] >= scores[2], "{scores:?}");
}
