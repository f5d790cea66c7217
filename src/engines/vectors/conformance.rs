//! One behaviour, every backend: the same tests run against qdrant-edge always and against a
//! Qdrant server when `LECTERN_TEST_QDRANT_URL` is set (`.ci/test` starts one).

use uuid::Uuid;

use super::*;
use crate::platform::scope::SearchScope;

/// A deterministic unit vector pointing mostly along axis `i`.
fn axis(i: usize, dimension: usize) -> Vec<f32> {
    let mut v = vec![0.01f32; dimension];
    v[i % dimension] = 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

fn point(tenant: Uuid, kb: Uuid, document: Uuid, i: usize) -> VectorPoint {
    VectorPoint { chunk_id: Uuid::now_v7(), tenant_id: tenant, kb_id: kb, document_id: document, vector: axis(i, 8) }
}

async fn conformance(store: &dyn VectorStore) {
    let (t1, t2, kb1, kb2, d1, d2) =
        (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let near = point(t1, kb1, d1, 3);
    let far = point(t1, kb1, d2, 5);
    let other_tenant = point(t2, kb1, Uuid::now_v7(), 3);
    let other_kb = point(t1, kb2, Uuid::now_v7(), 3);
    store.upsert(vec![near.clone(), far.clone(), other_tenant.clone(), other_kb.clone()]).await.unwrap();

    let hits = store.search(&SearchScope::kbs(t1, &[kb1]), axis(3, 8), 10).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.chunk_id).collect::<Vec<_>>(),
        [near.chunk_id, far.chunk_id],
        "{}: nearest first, scoped",
        store.backend()
    );
    assert!(hits[0].score > 0.99 && hits[1].score < 0.5);
    assert_eq!(hits[0].document_id, d1);
    assert_eq!(store.search(&SearchScope::kbs(t1, &[kb1, kb2]), axis(3, 8), 10).await.unwrap().len(), 3);
    assert_eq!(
        store
            .search(&SearchScope::kbs(t2, &[kb1]), axis(3, 8), 10)
            .await
            .unwrap()
            .iter()
            .map(|h| h.chunk_id)
            .collect::<Vec<_>>(),
        [other_tenant.chunk_id]
    );
    assert!(store.search(&SearchScope::kbs(t1, &[]), axis(3, 8), 10).await.unwrap().is_empty());

    // Writing a chunk again replaces it.
    store.upsert(vec![VectorPoint { vector: axis(6, 8), ..near.clone() }]).await.unwrap();
    assert_eq!(store.count(Some(t1)).await.unwrap(), 3);
    assert_eq!(store.count_document(t1, d1).await.unwrap(), 1);
    assert_eq!(store.count_document(t2, d1).await.unwrap(), 0, "scoped by tenant");
    let moved = store.search(&SearchScope::kbs(t1, &[kb1]), axis(6, 8), 1).await.unwrap();
    assert_eq!(moved[0].chunk_id, near.chunk_id);

    store.delete_document(t1, d1).await.unwrap();
    store.delete_document(t1, d1).await.unwrap();
    assert_eq!(store.count(Some(t1)).await.unwrap(), 2);
    store.delete_document(t2, d2).await.unwrap(); // another tenant cannot delete t1's document
    assert_eq!(store.count(Some(t1)).await.unwrap(), 2);
    store.delete_kb(t1, kb1).await.unwrap();
    assert_eq!(store.count(Some(t1)).await.unwrap(), 1);
    assert_eq!(store.count(Some(t2)).await.unwrap(), 1);
}

#[tokio::test]
async fn edge_store_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EdgeStore::open(dir.path(), 8).unwrap();
        conformance(&store).await;
    }
    let reopened = EdgeStore::open(dir.path(), 8).unwrap();
    assert_eq!(reopened.count(None).await.unwrap(), 2, "data survives reopening");
}

#[tokio::test]
async fn qdrant_store_conforms_when_a_server_is_configured() {
    let Some(url) = crate::engines::test_servers::url("LECTERN_TEST_QDRANT_URL") else { return };
    let collection = format!("lectern_test_{}", Uuid::now_v7().simple());
    let store = QdrantStore::connect(&url, None, &collection, 8).await.unwrap();
    conformance(&store).await;
}
