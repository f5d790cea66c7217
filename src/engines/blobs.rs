//! Content-addressed blob storage: the bytes of uploads, stored once per sha256 under the key
//! `ab/abcdef…`, behind object_store's `ObjectStore` trait with two backends: a directory under
//! the data dir (the default; writes go to a staging file renamed into place, so a crash never
//! leaves a half-written blob under a real name) or an S3-compatible bucket
//! (`LECTERN_BLOB_STORE=s3://bucket/prefix`), which every node of a deployment shares.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

/// Blobs larger than this are uploaded in parts of this size (S3 multipart), so no single
/// request carries a whole large file.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where blobs live: a local directory or an S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    Local(std::path::PathBuf),
    S3(S3Location),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix inside the bucket ("" for none), without slashes at either end.
    pub prefix: String,
    /// An S3-compatible server (MinIO, Ceph, R2, …); None for AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<crate::platform::settings::Secret<String>>,
    /// Path-style requests (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub path_style: bool,
}

impl BlobLocation {
    /// What health and logs say about the store (never a credential).
    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Local(dir) => format!("local blob store at {}", dir.display()),
            BlobLocation::S3(s3) => {
                let at = s3.endpoint.as_deref().unwrap_or("AWS");
                format!("S3 bucket {} (prefix `{}`) at {at}", s3.bucket, s3.prefix)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    location: BlobLocation,
}

fn io(e: object_store::Error) -> std::io::Error {
    std::io::Error::from(e)
}

impl BlobStore {
    /// The local store in `root` (created when missing).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Self::open(&BlobLocation::Local(root.to_path_buf()))
    }

    pub fn open(location: &BlobLocation) -> std::io::Result<Self> {
        let store: Arc<dyn ObjectStore> = match location {
            BlobLocation::Local(root) => {
                std::fs::create_dir_all(root)?;
                Arc::new(LocalFileSystem::new_with_prefix(root).map_err(io)?)
            }
            BlobLocation::S3(s3) => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_virtual_hosted_style_request(!s3.path_style);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder.with_access_key_id(id).with_secret_access_key(secret.expose());
                }
                let store = builder.build().map_err(io)?;
                if s3.prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(store, s3.prefix.as_str()))
                }
            }
        };
        Ok(Self { store, location: location.clone() })
    }

    pub fn location(&self) -> &BlobLocation {
        &self.location
    }

    pub fn sha256(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn key(sha256: &str) -> std::io::Result<Key> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "bad digest"));
        }
        Ok(Key::from(format!("{}/{sha256}", &sha256[..2])))
    }

    /// Stores `bytes` (if not already there) and returns their sha256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha256 = Self::sha256(bytes);
        let key = Self::key(&sha256)?;
        if self.store.head(&key).await.is_ok() {
            return Ok(sha256);
        }
        if bytes.len() <= PART_BYTES {
            self.store.put(&key, PutPayload::from(Bytes::copy_from_slice(bytes))).await.map_err(io)?;
        } else {
            let upload = self.store.put_multipart(&key).await.map_err(io)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            for part in bytes.chunks(PART_BYTES) {
                writer.wait_for_capacity(4).await.map_err(io)?;
                writer.write(part);
            }
            writer.finish().await.map_err(io)?;
        }
        Ok(sha256)
    }

    /// Deletes the blob (the caller has checked nothing refers to it any more).
    pub async fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match self.store.delete(&Self::key(sha256)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    pub async fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let found = self.store.get(&Self::key(sha256)?).await.map_err(io)?;
        Ok(found.bytes().await.map_err(io)?.to_vec())
    }

    /// Whether the store answers: a listing of one key prefix.
    pub async fn check(&self) -> std::io::Result<()> {
        self.store.list_with_delimiter(Some(&Key::from("00"))).await.map(|_| ()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) async fn round_trip(store: &BlobStore) {
        let a = store.put(b"hello").await.unwrap();
        let b = store.put(b"hello").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.get(&a).await.unwrap(), b"hello");
        assert!(store.get("../../etc/passwd").await.is_err());
        let missing = store.get(&BlobStore::sha256(b"never stored")).await.unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        // Larger than one part: uploaded in parts, read back whole.
        let big: Vec<u8> = (0..PART_BYTES * 2 + 12_345).map(|i| (i % 251) as u8).collect();
        let digest = store.put(&big).await.unwrap();
        assert_eq!(store.get(&digest).await.unwrap(), big);
        store.remove(&digest).await.unwrap();
        store.remove(&digest).await.unwrap();
        assert!(store.get(&digest).await.is_err());
        store.check().await.unwrap();
    }

    #[tokio::test]
    async fn the_same_bytes_are_stored_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path()).unwrap();
        round_trip(&store).await;
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "one blob, no staging files left: {files:?}");
        assert!(files[0].ends_with("2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    }

    #[tokio::test]
    async fn an_s3_bucket_behaves_like_the_local_store() {
        let Some(endpoint) = crate::engines::test_servers::url("LECTERN_TEST_S3_ENDPOINT") else { return };
        let location = |secret: &str| {
            BlobLocation::S3(S3Location {
                bucket: "lectern-test".to_owned(),
                prefix: format!("run-{}", uuid::Uuid::now_v7().simple()),
                endpoint: Some(endpoint.clone()),
                region: Some("us-east-1".to_owned()),
                access_key_id: Some("lectern".to_owned()),
                secret_access_key: Some(crate::platform::settings::Secret::new(secret.to_owned())),
                path_style: true,
            })
        };
        round_trip(&BlobStore::open(&location("lectern-secret")).unwrap()).await;
        let refused = BlobStore::open(&location("wrong")).unwrap();
        assert!(refused.put(b"x").await.is_err(), "a wrong secret is an error, not a panic");
        assert!(refused.check().await.is_err());
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
