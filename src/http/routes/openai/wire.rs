//! OpenAI's wire format for completions and embeddings as typed structs: what the official SDKs
//! parse. Fields OpenAI sends as `null` are `Option`s that serialize as `null`.

use actix_web::web::Bytes;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct ModelList<'a> {
    pub object: &'static str,
    pub data: Vec<Model<'a>>,
}

/// A model, with Lectern's `provider` and `capabilities` beside OpenAI's fields.
#[derive(Debug, Serialize)]
pub struct Model<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: i64,
    pub owned_by: &'a str,
    pub provider: &'a str,
    pub capabilities: Vec<&'static str>,
}

impl<'a> Model<'a> {
    pub fn new(id: &'a str, provider: &'a str, capabilities: Vec<&'static str>) -> Self {
        Self { id, object: "model", created: 0, owned_by: provider, provider, capabilities }
    }
}

#[derive(Debug, Serialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub total_tokens: u32,
}

impl Usage {
    pub fn new((prompt, completion): (u32, u32)) -> Self {
        Self { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
    }
}

/// `chat.completion` or `text_completion`.
#[derive(Debug, Serialize)]
pub struct Completion<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: i64,
    pub model: &'a str,
    pub choices: [Choice<'a>; 1],
    pub usage: Usage,
    /// Lectern's extension: the sources the answer cites.
    pub citations: &'a [Value],
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Choice<'a> {
    Chat { index: u32, message: Message<'a>, finish_reason: &'a str, logprobs: Option<Value> },
    Text { index: u32, text: &'a str, finish_reason: &'a str, logprobs: Option<Value> },
}

#[derive(Debug, Serialize)]
pub struct Message<'a> {
    pub role: &'static str,
    pub content: &'a str,
    pub metadata: Metadata<'a>,
}

#[derive(Debug, Serialize)]
pub struct Metadata<'a> {
    pub citations: &'a [Value],
    /// Each cited sentence checked against the passage it cites (RAG calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::services::chat::verify::Verification>,
}

/// One `chat.completion.chunk` (or streamed `text_completion`).
#[derive(Debug, Serialize)]
pub struct Chunk<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: i64,
    pub model: &'a str,
    pub choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citations: Option<&'a [Value]>,
    /// On the last chunk of a RAG chat: each cited sentence checked against its passage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a crate::services::chat::verify::Verification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ChunkChoice<'a> {
    Chat { index: u32, delta: Delta<'a>, finish_reason: Option<&'a str>, logprobs: Option<Value> },
    Text { index: u32, text: &'a str, finish_reason: Option<&'a str>, logprobs: Option<Value> },
}

#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
}

/// Builds the stream's chunks for one response.
pub struct Chunks {
    pub id: String,
    pub object: &'static str,
    pub model: String,
    pub chat: bool,
    pub created: i64,
}

impl Chunks {
    /// A piece of the answer.
    pub fn delta(&self, delta: Delta<'_>) -> Bytes {
        self.chunk(delta, None, None, None)
    }

    /// The last chunk of the answer: why it ended, what it cited and how the citations held.
    pub fn closing(
        &self,
        finish: &str,
        citations: &[Value],
        verification: Option<&crate::services::chat::verify::Verification>,
    ) -> Bytes {
        self.chunk(Delta::default(), Some(finish), Some(citations), verification)
    }

    fn chunk(
        &self,
        delta: Delta<'_>,
        finish: Option<&str>,
        citations: Option<&[Value]>,
        verification: Option<&crate::services::chat::verify::Verification>,
    ) -> Bytes {
        let choice = if self.chat {
            ChunkChoice::Chat { index: 0, delta, finish_reason: finish, logprobs: None }
        } else {
            ChunkChoice::Text { index: 0, text: delta.content.unwrap_or(""), finish_reason: finish, logprobs: None }
        };
        event(&Chunk {
            id: &self.id,
            object: self.object,
            created: self.created,
            model: &self.model,
            choices: vec![choice],
            citations,
            verification,
            usage: None,
        })
    }

    /// The last chunk when `stream_options.include_usage` asks for it: no choices, the usage.
    pub fn usage(&self, usage: Usage) -> Bytes {
        event(&Chunk {
            id: &self.id,
            object: self.object,
            created: self.created,
            model: &self.model,
            choices: Vec::new(),
            citations: None,
            verification: None,
            usage: Some(usage),
        })
    }
}

/// One server-sent `data:` event.
pub fn event(body: &impl Serialize) -> Bytes {
    Bytes::from(format!("data: {}\n\n", serde_json::to_string(body).unwrap_or_default()))
}

#[derive(Debug, Serialize)]
pub struct EmbeddingList<'a> {
    pub object: &'static str,
    pub data: Vec<Embedding<'a>>,
    pub model: &'a str,
    pub usage: EmbeddingUsage,
}

#[derive(Debug, Serialize)]
pub struct Embedding<'a> {
    pub object: &'static str,
    pub index: usize,
    pub embedding: Vector<'a>,
}

/// `encoding_format`: floats, or base64 of little-endian f32s.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Vector<'a> {
    Float(&'a [f32]),
    Base64(String),
}

#[derive(Debug, Serialize)]
pub struct EmbeddingUsage {
    pub prompt_tokens: u32,
    pub total_tokens: u32,
}
