//! Document analysis end to end: schemas with versions, runs over real PDF and DOCX files, the
//! rule-based extractor's values with their source pages, the model extractor against the fake
//! upstream (retry on bad JSON, a made-up quote dropped), the review queue, completion, exports.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::fake_llm::{FakeLlm, KEY};
use crate::support::identity::Tenant;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/analysis/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn invoice_schema() -> Value {
    json!({"name": "Invoices", "fields": [
        {"name": "invoiceNumber", "type": "string", "required": true, "pattern": "^[A-Z]{2}-\\d{4}-\\d{4}$"},
        {"name": "invoiceDate", "type": "date", "required": true},
        {"name": "total", "type": "money", "required": true, "description": "the total due"},
        {"name": "currency", "type": "enum", "values": ["EUR", "USD", "GBP"], "required": true},
        {"name": "purchaseOrder", "type": "string"},
    ]})
}

/// Uploads `files` into a new knowledge base and waits until they are ready; their ids.
async fn documents(app: &TestApp, t: &Tenant, files: &[&str]) -> Vec<String> {
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Paperwork"})).await;
    let mut ids = Vec::new();
    for file in files {
        let accepted = json(app.upload(&t.owner, &kb, vec![(file, fixture(file))], "").await).await;
        let job = app.wait_for_job(&t.owner, accepted["job"]["id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "succeeded", "{file}: {job}");
        ids.push(accepted["document"]["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn finished_run(app: &TestApp, t: &Tenant, body: Value) -> Value {
    let started = app.call(Method::POST, "/v1/analysis/runs", &t.owner, Some(&t.id), Some(body)).await;
    assert_eq!(started.status(), 202);
    let run = json(started).await;
    let job = app.wait_for_job(&t.owner, run["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let path = format!("/v1/analysis/runs/{}", run["id"].as_str().unwrap());
    json(app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await).await
}

fn result<'a>(doc: &'a Value, field: &str) -> &'a Value {
    doc["results"].as_array().unwrap().iter().find(|r| r["field"] == field).unwrap()
}

#[tokio::test]
async fn rules_extract_an_invoice_from_pdf_and_docx_and_review_completes_the_run() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let schema = app.create("/v1/analysis/schemas", &t.owner, &t.id, invoice_schema()).await;
    let docs = documents(&app, &t, &["invoice.pdf", "invoice.docx"]).await;
    let run = finished_run(&app, &t, json!({"schemaId": schema, "documentIds": docs})).await;
    assert_eq!(run["status"], "review");
    assert_eq!(run["extractor"], "rules");
    assert_eq!(run["schemaVersion"], 1);

    for (i, doc) in run["documents"].as_array().unwrap().iter().enumerate() {
        let number = result(doc, "invoiceNumber");
        assert_eq!(number["value"], "NW-2024-0317", "{doc}");
        assert_eq!(number["extractor"], "rules");
        assert!(number["confidence"].as_f64().unwrap() <= 0.8, "rules are honest about confidence");
        assert!(number["source"]["quote"].as_str().unwrap().contains("NW-2024-0317"));
        assert_eq!(result(doc, "invoiceDate")["value"], "2024-03-12");
        assert_eq!(result(doc, "total")["value"], json!({"amount": "3228.47", "currency": "EUR"}));
        assert_eq!(result(doc, "currency")["value"], "EUR");
        assert!(result(doc, "purchaseOrder")["value"].is_null());
        if i == 0 {
            // The PDF has pages: the total is on the second one, the number on the first.
            assert_eq!(number["source"]["page"], 1);
            assert_eq!(result(doc, "total")["source"]["page"], 2);
        }
    }

    // The queue lists pending values, failures first; the reviewer approves, corrects, rejects.
    let queue = json(
        app.call(
            Method::GET,
            &format!("/v1/analysis/review?runId={}", run["id"].as_str().unwrap()),
            &t.owner,
            Some(&t.id),
            None,
        )
        .await,
    )
    .await;
    let pending = queue["data"].as_array().unwrap();
    assert_eq!(pending.len(), 10);
    let confidences: Vec<f64> =
        pending.iter().filter(|r| r["errors"] == json!([])).map(|r| r["confidence"].as_f64().unwrap()).collect();
    assert!(confidences.windows(2).all(|w| w[0] <= w[1]), "least confident first: {confidences:?}");
    assert!(!pending[0]["errors"].as_array().unwrap().is_empty(), "values with errors come first: {}", pending[0]);

    let bad = app
        .call(
            Method::POST,
            &format!("/v1/analysis/results/{}/review", pending[0]["id"].as_str().unwrap()),
            &t.owner,
            Some(&t.id),
            Some(json!({"action": "maybe"})),
        )
        .await;
    assert_eq!(bad.status(), 400);
    for r in pending {
        let (action, value) = match r["field"].as_str().unwrap() {
            "purchaseOrder" => ("reject", None),
            "invoiceDate" => ("correct", Some(json!("13/03/2024"))),
            _ => ("approve", None),
        };
        let mut body = json!({"action": action, "comment": "checked against the scan"});
        if let Some(v) = value {
            body["value"] = v;
        }
        let path = format!("/v1/analysis/results/{}/review", r["id"].as_str().unwrap());
        let reviewed = app.call(Method::POST, &path, &t.owner, Some(&t.id), Some(body)).await;
        assert_eq!(reviewed.status(), 200, "{}", json(reviewed).await);
    }
    let path = format!("/v1/analysis/runs/{}", run["id"].as_str().unwrap());
    let done = json(app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await).await;
    assert_eq!(done["status"], "completed");
    let corrected = result(&done["documents"][0], "invoiceDate");
    assert_eq!((corrected["status"].as_str(), &corrected["reviewedValue"]), (Some("corrected"), &json!("2024-03-13")));
    assert!(corrected["reviewer"].is_string() && corrected["reviewedAt"].is_string());

    let export = json(app.call(Method::GET, &format!("{path}/export.json"), &t.owner, Some(&t.id), None).await).await;
    assert_eq!(export[0]["fields"]["invoiceDate"], "2024-03-13");
    assert_eq!(export[0]["fields"]["total"]["amount"], "3228.47");
    assert!(export[0]["fields"].get("purchaseOrder").is_none(), "rejected values are not exported");
    let csv =
        app.call(Method::GET, &format!("{path}/export.csv"), &t.owner, Some(&t.id), None).await.text().await.unwrap();
    let mut lines = csv.lines();
    let header = r#""documentId","document","invoiceNumber","invoiceDate","total","currency","purchaseOrder""#;
    assert_eq!(lines.next().unwrap(), header);
    let row = lines.next().unwrap();
    assert!(row.ends_with(r#","NW-2024-0317","2024-03-13","3228.47 EUR","EUR","""#), "{row}");
    let audit =
        json(app.call(Method::GET, "/v1/audit-events?action=analysis.review", &t.owner, Some(&t.id), None).await).await;
    assert_eq!(audit["pagination"]["total"], 10);
}

#[tokio::test]
async fn schemas_are_validated_and_versioned() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let bad = app
        .call(Method::POST, "/v1/analysis/schemas", &t.owner, Some(&t.id), Some(json!({"name": "x", "fields": [
            {"name": "a b", "type": "string"}, {"name": "kind", "type": "enum"}, {"name": "p", "type": "string", "pattern": "("}
        ]})))
        .await;
    assert_eq!(bad.status(), 400);
    let fields: Vec<String> = json(bad).await["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["fields[0].name", "fields[1].values", "fields[2].pattern"]);
    let id = app.create("/v1/analysis/schemas", &t.owner, &t.id, invoice_schema()).await;
    let dup = app.call(Method::POST, "/v1/analysis/schemas", &t.owner, Some(&t.id), Some(invoice_schema())).await;
    assert_eq!(dup.status(), 409);
    let path = format!("/v1/analysis/schemas/{id}");
    let v2 = app
        .call(
            Method::PATCH,
            &path,
            &t.owner,
            Some(&t.id),
            Some(json!({"fields": [{"name": "invoiceNumber", "type": "string"}]})),
        )
        .await;
    assert_eq!(json(v2).await["version"], 2);
    let v1 = json(app.call(Method::GET, &format!("{path}?version=1"), &t.owner, Some(&t.id), None).await).await;
    assert_eq!((v1["version"].as_i64(), v1["fields"].as_array().map(Vec::len)), (Some(1), Some(5)));
    let renamed = app.call(Method::PATCH, &path, &t.owner, Some(&t.id), Some(json!({"name": "Bills"}))).await;
    assert_eq!(json(renamed).await["version"], 2, "a new name is not a new version");
}

#[tokio::test]
async fn the_model_extractor_retries_bad_json_and_drops_a_value_it_cannot_quote() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[("LLM_BASE_URL", &llm.base), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")]).await;
    let (_, t) = app.bootstrap().await;
    let schema = app.create("/v1/analysis/schemas", &t.owner, &t.id, invoice_schema()).await;
    let docs = documents(&app, &t, &["invoice.pdf"]).await;
    let good = json!({
        "invoiceNumber": {"value": "NW-2024-0317", "quote": "Invoice No.: NW-2024-0317", "page": 1},
        "invoiceDate": {"value": "2024-03-12", "quote": "Invoice date: 12 March 2024", "page": 1},
        "total": {"value": {"amount": "3228.47", "currency": "EUR"}, "quote": "Total due: EUR 3,228.47", "page": 2},
        "currency": {"value": "EUR", "quote": "Currency: EUR", "page": 2},
        "purchaseOrder": {"value": "PO-555", "quote": "PO number: PO-555", "page": 1},
    });
    llm.script(&["Sure! Here is the data: {\"invoiceNumber\": ", &format!("```json\n{good}\n```")]);
    let run = finished_run(&app, &t, json!({"schemaId": schema, "documentIds": docs})).await;
    assert_eq!(run["extractor"], "llm:fake-model");
    let requests = llm.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one retry after the broken answer");
    let retry = requests[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(retry.contains("not a JSON object"), "{retry}");

    let doc = &run["documents"][0];
    let number = result(doc, "invoiceNumber");
    assert_eq!(number["value"], "NW-2024-0317");
    assert_eq!(number["source"]["page"], 1);
    assert!(number["confidence"].as_f64().unwrap() >= 0.9);
    assert_eq!(result(doc, "total")["source"]["page"], 2);
    let made_up = result(doc, "purchaseOrder");
    assert!(made_up["value"].is_null(), "a quote not in the document drops the value: {made_up}");
    assert!(made_up["errors"][0].as_str().unwrap().contains("not in the document"));
    // Tokens were metered: the balance went down by more than the per-run price.
    let usage =
        json(app.call(Method::GET, "/v1/billing/usage?groupBy=operation", &t.owner, Some(&t.id), None).await).await;
    assert!(usage.to_string().contains("analysis"), "{usage}");
}

#[tokio::test]
async fn auto_approval_completes_a_run_and_sends_analysis_completed() {
    let app = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true"), ("LECTERN_WEBHOOK_RETRY_BASE_MS", "100")]).await;
    let (_, t) = app.bootstrap().await;
    let receiver = crate::support::webhook_receiver::Receiver::start(&[], 200).await;
    app.create("/v1/webhooks", &t.owner, &t.id, json!({"url": receiver.url, "events": ["analysis.completed"]})).await;
    let schema = app
        .create(
            "/v1/analysis/schemas",
            &t.owner,
            &t.id,
            json!({"name": "Forms", "fields": [
                {"name": "fullName", "type": "string", "required": true},
                {"name": "email", "type": "string", "required": true},
                {"name": "dateOfBirth", "type": "date", "description": "Date of birth"},
                {"name": "membershipType", "type": "enum", "values": ["Single", "Family"], "required": true},
                {"name": "newsletter", "type": "boolean"},
            ]}),
        )
        .await;
    let docs = documents(&app, &t, &["form.docx"]).await;
    let run = finished_run(&app, &t, json!({"schemaId": schema, "documentIds": docs, "autoApproveAbove": 0.6})).await;
    let doc = &run["documents"][0];
    assert_eq!(result(doc, "fullName")["value"], "Maria Jensen");
    assert_eq!(result(doc, "email")["value"], "maria.jensen@example.org");
    assert_eq!(result(doc, "dateOfBirth")["value"], "1988-09-04");
    assert_eq!(result(doc, "membershipType")["value"], "Family");
    assert_eq!(result(doc, "newsletter")["value"], true);
    assert_eq!(run["status"], "completed", "{run}");
    let got = receiver.wait_for(1).await;
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["type"], "analysis.completed");
    assert_eq!(event["data"]["runId"], run["id"]);
}

#[tokio::test]
async fn bad_runs_are_refused_with_reasons() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let schema = app.create("/v1/analysis/schemas", &t.owner, &t.id, invoice_schema()).await;
    let docs = documents(&app, &t, &["contract.pdf"]).await;
    let post = |body: Value| app.call(Method::POST, "/v1/analysis/runs", &t.owner, Some(&t.id), Some(body));
    let r = post(json!({"schemaId": schema, "documentIds": []})).await;
    assert_eq!((r.status().as_u16(), json(r).await["details"]["field"].clone()), (400, json!("documentIds")));
    let r = post(json!({"schemaId": schema, "documentIds": [uuid::Uuid::now_v7()]})).await;
    assert_eq!(r.status(), 404);
    let r = post(json!({"schemaId": schema, "documentIds": docs, "extractor": "llm"})).await;
    assert_eq!((r.status().as_u16(), json(r).await["details"]["field"].clone()), (400, json!("extractor")));
    let r = post(json!({"schemaId": schema, "documentIds": docs, "autoApproveAbove": 3})).await;
    assert_eq!(r.status(), 400);
    // A schema in use cannot be deleted.
    let run = finished_run(&app, &t, json!({"schemaId": schema, "documentIds": docs})).await;
    assert_eq!(result(&run["documents"][0], "invoiceNumber")["value"], Value::Null);
    let del = app.call(Method::DELETE, &format!("/v1/analysis/schemas/{schema}"), &t.owner, Some(&t.id), None).await;
    assert_eq!(del.status(), 409);
}

#[tokio::test]
async fn a_fresh_upload_is_ingested_then_analysed() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let schema = app.create("/v1/analysis/schemas", &t.owner, &t.id, invoice_schema()).await;
    let path = format!("/v1/analysis/runs/upload?schemaId={schema}");
    let not_files = app.call(Method::POST, &path, &t.owner, Some(&t.id), Some(json!({"file": "x"}))).await;
    assert_eq!(not_files.status(), 415);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(fixture("invoice.pdf")).file_name("scan.pdf"));
    let started = app
        .client
        .post(app.url(&path))
        .bearer_auth(&t.owner)
        .header("X-Tenant-ID", &t.id)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let run = json(started).await;
    let job = app.wait_for_job(&t.owner, run["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let path = format!("/v1/analysis/runs/{}", run["id"].as_str().unwrap());
    let run = json(app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await).await;
    assert_eq!(result(&run["documents"][0], "invoiceNumber")["value"], "NW-2024-0317");
    let kbs = json(app.call(Method::GET, "/v1/knowledge-bases", &t.owner, Some(&t.id), None).await).await;
    assert_eq!(kbs["data"][0]["name"], "Analysis uploads");
}
