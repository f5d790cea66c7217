//! One behaviour, every backend: the same cases run against tantivy always and against a
//! Qdrant server's sparse vectors when `LECTERN_TEST_QDRANT_URL` is set (`.ci/test` starts one).

use std::sync::Arc;

use uuid::Uuid;

use super::*;
use crate::platform::scope::SearchScope;

fn chunk(tenant: Uuid, kb: Uuid, document: Uuid, text: &str, context: &str) -> ChunkText {
    ChunkText {
        chunk_id: Uuid::now_v7(),
        tenant_id: tenant,
        kb_id: kb,
        document_id: document,
        text: text.to_owned(),
        context: context.to_owned(),
    }
}

async fn ids(index: &dyn LexicalIndex, scope: &SearchScope, query: &str) -> Vec<Uuid> {
    index.search(scope, query, 10).await.unwrap().into_iter().map(|h| h.chunk_id).collect()
}

async fn conformance(index: &dyn LexicalIndex) {
    let backend = index.backend();
    let (t1, t2, kb1, kb2, d1, d2) =
        (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let same = "The secret launch code is stored in the vault.";
    let mine = chunk(t1, kb1, d1, same, "Operations");
    let vaults = chunk(t1, kb1, d2, "Vaults and vaults of vault vault.", "Storage");
    let stemmed = chunk(t1, kb1, d2, "She runs the indexing pipelines daily.", "Operations");
    let titled = chunk(t1, kb1, d2, "Mortality fell in the cohort of users.", "Statins and breast cancer > Results");
    let untitled = chunk(t1, kb1, d2, "Mortality rose in another cohort.", "Other study");
    let other_tenant = chunk(t2, kb1, Uuid::now_v7(), same, "Operations");
    let other_kb = chunk(t1, kb2, Uuid::now_v7(), same, "Operations");
    let all = [&mine, &vaults, &stemmed, &titled, &untitled, &other_tenant, &other_kb];
    index.add(all.iter().map(|c| (*c).clone()).collect()).await.unwrap();

    let scope = SearchScope::kbs(t1, &[kb1]);
    assert_eq!(ids(index, &scope, "launch code").await, [mine.chunk_id], "{backend}: other tenant and KB invisible");
    assert_eq!(ids(index, &SearchScope::kbs(t1, &[kb1, kb2]), "launch").await.len(), 2, "{backend}");
    assert_eq!(ids(index, &SearchScope::kbs(t2, &[kb1]), "launch").await, [other_tenant.chunk_id], "{backend}");
    let only_d1 = SearchScope { document_ids: Some(vec![d1]), ..SearchScope::kbs(t1, &[kb1, kb2]) };
    assert_eq!(ids(index, &only_d1, "launch").await, [mine.chunk_id], "{backend}: document filter");
    let nothing = SearchScope { document_ids: Some(Vec::new()), ..scope.clone() };
    assert!(ids(index, &nothing, "launch").await.is_empty());
    assert!(ids(index, &SearchScope::kbs(t1, &[]), "launch").await.is_empty());

    let vault = index.search(&scope, "vault", 10).await.unwrap();
    assert_eq!(vault[0].chunk_id, vaults.chunk_id, "{backend}: term frequency ranks first");
    assert!(vault[0].score > vault[1].score);
    assert_eq!(ids(index, &scope, "running pipeline").await, [stemmed.chunk_id], "{backend}: stemming");
    assert_eq!(ids(index, &scope, "statin mortality").await[0], titled.chunk_id, "{backend}: title words count");
    for hostile in ["AND OR (", "\"unclosed", "title:[a TO", "*", "revenue^2 growth~", "مرحبا 🚀"] {
        index.search(&scope, hostile, 5).await.unwrap();
    }
    assert!(ids(index, &scope, "?!: ()").await.is_empty(), "{backend}: no words, no hits");

    languages(index).await;

    assert_eq!(index.count(Some(t1)).await.unwrap(), 6, "{backend}");
    assert_eq!(index.count_document(t1, d2).await.unwrap(), 4, "{backend}");
    index.delete_document(t1, d1).await.unwrap();
    index.delete_document(t1, d1).await.unwrap();
    assert!(ids(index, &scope, "launch").await.is_empty(), "{backend}: deleted");
    assert_eq!(index.count(Some(t1)).await.unwrap(), 5);
    index.delete_kb(t1, kb1).await.unwrap();
    assert_eq!(index.count(Some(t1)).await.unwrap(), 1, "{backend}: only the other KB's chunk is left");
    assert_eq!(index.count(Some(t2)).await.unwrap(), 1, "{backend}: the other tenant keeps its chunk");
}

/// Chunks are stemmed in their own language; a query finds an inflected form when the scope
/// names the language (a knowledge base lists the languages of its chunks).
async fn languages(index: &dyn LexicalIndex) {
    let backend = index.backend();
    let (t, kb) = (Uuid::now_v7(), Uuid::now_v7());
    let german = chunk(
        t,
        kb,
        Uuid::now_v7(),
        "Die Zeitung der Stadt berichtet täglich über die neue Bibliothek und ihre Leser.",
        "",
    );
    let french = chunk(
        t,
        kb,
        Uuid::now_v7(),
        "Le cheval de l'université court chaque matin dans le grand parc de la ville.",
        "",
    );
    index.add(vec![german.clone(), french.clone()]).await.unwrap();
    let english_only = SearchScope::kbs(t, &[kb]);
    assert!(
        ids(index, &english_only, "Zeitungen Bibliotheken").await.is_empty(),
        "{backend}: plural ≠ singular in English"
    );
    let with = SearchScope { languages: vec!["de".into(), "fr".into()], ..english_only.clone() };
    assert_eq!(ids(index, &with, "Zeitungen Bibliotheken").await, [german.chunk_id], "{backend}: German stems");
    assert_eq!(ids(index, &with, "chevaux universités").await, [french.chunk_id], "{backend}: French stems");
    assert_eq!(ids(index, &english_only, "Zeitung").await, [german.chunk_id], "{backend}: the exact word always");
}

#[tokio::test]
async fn tantivy_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(FulltextIndex::open(dir.path()).unwrap());
    conformance(&index).await;
}

#[tokio::test]
async fn qdrant_sparse_vectors_conform() {
    let Some(url) = crate::engines::test_servers::url("LECTERN_TEST_QDRANT_URL") else { return };
    let collection = format!("lectern_test_lexical_{}", Uuid::now_v7().simple());
    let index = QdrantLexical::connect(&url, None, &collection).await.unwrap();
    conformance(&index).await;
}
