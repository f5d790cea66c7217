//! The typed events of a chat turn, the same over SSE and WebSocket.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::conversations::Citation;
use super::rewrite::Rewrite;
use super::verify::Verification;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChatEvent {
    /// The turn began: the ids to cancel it or rate it later.
    #[serde(rename_all = "camelCase")]
    Start {
        /// None for public (visitor) turns, which are not stored as conversations.
        conversation_id: Option<Uuid>,
        user_message_id: Option<Uuid>,
        message_id: Uuid,
        model: String,
    },
    /// Some documents of the knowledge bases are still being indexed: the answer may miss them.
    #[serde(rename_all = "camelCase")]
    Indexing {
        documents: u64,
        message: String,
    },
    Token {
        content: String,
    },
    #[serde(rename_all = "camelCase")]
    Citation {
        n: usize,
        document_id: Uuid,
        document_title: String,
        /// Where the document lives (`/v1/knowledge-bases/{id}/documents/{documentId}`).
        knowledge_base_id: Uuid,
        chunk_id: Uuid,
        page: Option<u32>,
        snippet: String,
    },
    /// What the passages were retrieved with: the message, or its standalone rewrite.
    #[serde(rename_all = "camelCase")]
    Retrieval {
        retrieval_query: String,
        rewrite: Rewrite,
    },
    #[serde(rename_all = "camelCase")]
    Done {
        message_id: Uuid,
        /// `complete` or `cancelled`.
        status: String,
        usage: Usage,
        /// Credits charged (metering arrives with billing; 0 until then).
        cost: f64,
        latency_ms: u64,
        model: String,
        /// Set when documents were still indexing.
        #[serde(skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
        /// Each cited sentence checked against the passage it cites (answers from knowledge
        /// bases; absent when no passage was retrieved).
        #[serde(skip_serializing_if = "Option::is_none")]
        verification: Option<Verification>,
    },
    Error {
        code: String,
        message: String,
    },
}

impl ChatEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start { .. } => "start",
            Self::Indexing { .. } => "indexing",
            Self::Token { .. } => "token",
            Self::Citation { .. } => "citation",
            Self::Retrieval { .. } => "retrieval",
            Self::Done { .. } => "done",
            Self::Error { .. } => "error",
        }
    }

    pub fn is_last(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::Error { .. })
    }

    /// One server-sent event: `event: <type>` and the JSON.
    pub fn to_sse(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        format!("event: {}\ndata: {json}\n\n", self.name())
    }

    pub fn citation(c: &Citation) -> Self {
        Self::Citation {
            n: c.n,
            document_id: c.document_id,
            document_title: c.document_title.clone(),
            knowledge_base_id: c.knowledge_base_id,
            chunk_id: c.chunk_id,
            page: c.page,
            snippet: c.snippet.clone(),
        }
    }
}

/// Finds `[n]` markers in text, in order of first appearance.
pub fn cited_numbers(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with(']') {
            if let Ok(n) = digits.parse::<usize>() {
                if !found.contains(&n) {
                    found.push(n);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citation_markers_are_found_once_in_order() {
        assert_eq!(cited_numbers("Yes [2]. Also [1][2] and [x] or [3"), [2, 1]);
        assert!(cited_numbers("no markers").is_empty());
    }

    #[test]
    fn events_are_tagged_server_sent_events() {
        let sse = ChatEvent::Token { content: "Hi".into() }.to_sse();
        assert_eq!(sse, "event: token\ndata: {\"type\":\"token\",\"content\":\"Hi\"}\n\n");
    }
}
