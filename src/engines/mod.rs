//! Engines: storage, indexes, models and outbound I/O, each behind a small API that knows no
//! domain. Engines never import a service.

pub mod blobs;
pub mod chunk;
pub mod embed;
pub mod fulltext;
pub mod group_commit;
pub mod highlight;
pub mod llm;
pub mod mail;
pub mod net;
pub mod parse;
pub mod store;
pub mod upload;
pub mod vectors;
