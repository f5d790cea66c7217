//! Knowledge bases and the document pipeline: upload → blob → document row + job → parse →
//! chunk → embed → chunk rows + tantivy + vectors → ready. The database rows are the truth;
//! both indexes are derived from the chunk rows.

pub mod bases;
pub mod documents;
pub mod languages;
pub mod pipeline;
pub mod repair;
