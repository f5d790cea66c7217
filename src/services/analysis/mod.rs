//! Document analysis: extraction schemas, runs that extract typed values with their evidence
//! (by a language model when one is configured, else by rules), and a human review queue.

pub mod extract;
pub mod llm;
pub mod review;
pub mod rules;
pub mod runs;
pub mod schema;
pub mod values;
