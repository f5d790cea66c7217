//! Follow-up rewriting: in a conversation, "and how long does it take?" retrieves nothing useful
//! on its own. The retrieval query becomes a standalone question: written by the turn's language
//! model from the recent history when one serves the turn, else by a rule that carries the
//! previous question's key words into a follow-up that is short or leans on a pronoun. The
//! answer itself still sees the user's own words.

use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::context::AppContext;
use crate::engines::highlight;
use crate::engines::llm::{self, ChatMessage, Generation};

/// How the retrieval query was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rewrite {
    /// The user's message as it is (a first question, or one that stands alone).
    None,
    /// The previous question's key words added by rule.
    Rule,
    /// Rewritten by the language model.
    Model,
}

pub struct RetrievalQuery {
    pub query: String,
    pub rewrite: Rewrite,
    /// Tokens the model's rewrite used (prompt, completion).
    pub usage: (u32, u32),
}

/// Words that lean on an earlier turn when a message starts with them.
const LEADING: &[&str] = &[
    "it",
    "its",
    "they",
    "them",
    "their",
    "this",
    "that",
    "these",
    "those",
    "he",
    "she",
    "his",
    "her",
    "and",
    "also",
    "what about",
    "how about",
    "and what",
    "same",
    "why",
    "then",
];
/// Pronouns that point back to something named before.
const PRONOUNS: &[&str] =
    &["it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she", "him", "his", "her"];
/// Key words carried over at most.
const CARRIED: usize = 6;
/// The model's rewrite must come back within this, else the rule stands in.
const MODEL_TIMEOUT: Duration = Duration::from_secs(10);

/// The previous user question in `messages` (which end with the current one).
fn previous_question(messages: &[ChatMessage]) -> Option<&str> {
    messages.iter().rev().filter(|m| m.role == "user").nth(1).map(|m| m.content.as_str())
}

/// Whether a message needs its conversation to be understood.
pub fn is_follow_up(question: &str) -> bool {
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    let leading =
        LEADING.iter().any(|l| lower.starts_with(l) && lower[l.len()..].starts_with(|c: char| !c.is_alphanumeric()));
    let pronoun = words.iter().any(|w| PRONOUNS.contains(w));
    words.len() <= 3 || leading || (pronoun && words.len() <= 12)
}

/// The rule: a follow-up gets the previous question's key words it does not already have.
pub fn by_rule(previous: &str, question: &str) -> Option<String> {
    if !is_follow_up(question) {
        return None;
    }
    let have = highlight::terms(question);
    let carried: Vec<String> =
        highlight::terms(previous).into_iter().filter(|t| !highlight::matches(t, &have)).take(CARRIED).collect();
    (!carried.is_empty()).then(|| format!("{question} {}", carried.join(" ")))
}

/// The query to retrieve with for the last message of `messages`.
pub async fn retrieval_query(ctx: &AppContext, model: &str, messages: &[ChatMessage], enabled: bool) -> RetrievalQuery {
    let question = messages.iter().rev().find(|m| m.role == "user").map_or("", |m| m.content.as_str());
    let plain = |rewrite| RetrievalQuery { query: question.to_owned(), rewrite, usage: (0, 0) };
    let Some(previous) = previous_question(messages).filter(|_| enabled) else { return plain(Rewrite::None) };
    if model != llm::EXTRACTIVE {
        if let Some(rewritten) = by_model(ctx, model, messages, question).await {
            return rewritten;
        }
    }
    match by_rule(previous, question) {
        Some(query) => RetrievalQuery { query, rewrite: Rewrite::Rule, usage: (0, 0) },
        None => plain(Rewrite::None),
    }
}

async fn by_model(ctx: &AppContext, model: &str, messages: &[ChatMessage], question: &str) -> Option<RetrievalQuery> {
    let mut prompt = vec![ChatMessage::new(
        "system",
        "Rewrite the user's last message as one standalone search query that can be understood without the \
         conversation: resolve pronouns and add the subject from earlier turns. Answer with the query only.",
    )];
    let history: Vec<&ChatMessage> = messages.iter().filter(|m| m.role == "user" || m.role == "assistant").collect();
    let recent = &history[history.len().saturating_sub(5)..history.len().saturating_sub(1)];
    prompt.extend(recent.iter().map(|m| ChatMessage::new(&m.role, m.content.chars().take(1500).collect::<String>())));
    prompt.push(ChatMessage::new("user", format!("Last message: {question}")));
    let generation = Generation {
        model: model.to_owned(),
        messages: prompt,
        max_tokens: Some(64),
        temperature: Some(0.0),
        ..Default::default()
    };
    let call = async { llm::collect(ctx.llm.generate(generation).await.ok()?).await.ok() };
    let collected = tokio::time::timeout(MODEL_TIMEOUT, call).await.ok().flatten()?;
    let query = collected.text.lines().next().unwrap_or_default().trim().trim_matches(['"', '\'']).trim().to_owned();
    if query.is_empty() || query.chars().count() > 500 {
        return None;
    }
    let usage = collected.usage.unwrap_or((0, llm::estimate_tokens(&collected.text)));
    Some(RetrievalQuery { query, rewrite: Rewrite::Model, usage })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_pronoun_led_messages_are_follow_ups_and_full_questions_are_not() {
        assert!(is_follow_up("And in Germany?"));
        assert!(is_follow_up("How long does it take?"));
        assert!(is_follow_up("what about express?"));
        assert!(is_follow_up("Why?"));
        assert!(!is_follow_up("How are passwords stored on the server?"));
        assert!(!is_follow_up("Which countries does express delivery reach overnight?"));
    }

    #[test]
    fn the_rule_carries_the_previous_questions_key_words() {
        let query = by_rule("Within how many days can customers return a purchase?", "How is it paid back?").unwrap();
        assert!(query.starts_with("How is it paid back?"), "{query}");
        for word in ["customers", "return", "purchase", "days"] {
            assert!(query.contains(word), "{query}");
        }
        assert_eq!(by_rule("What is a refund?", "How are passwords stored on the server?"), None);
        // Words the follow-up already has are not repeated.
        let query = by_rule("Refund policy for purchases", "and refunds?").unwrap();
        assert_eq!(query, "and refunds? policy purchases");
    }
}
