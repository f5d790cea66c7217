//! Engines: storage, indexes, models and outbound I/O, each behind a small API that knows no
//! domain. Engines never import a service.

pub mod analysis;
pub mod blobs;
pub mod chunk;
pub mod embed;
pub mod fulltext;
pub mod group_commit;
pub mod highlight;
pub mod language;
pub mod lexical;
pub mod llm;
pub mod mail;
pub mod net;
pub mod parse;
pub mod qdrant_server;
pub mod rerank;
pub mod store;
#[cfg(test)]
pub(crate) mod test_servers;
pub mod upload;
pub mod vectors;
