//! Prompts for upstream models: the numbered sources in the system message, and as much of
//! the conversation as fits the context budget (the newest turns first).

use super::{estimate_tokens, ChatMessage, Generation};

pub const RAG_INSTRUCTIONS: &str = "Answer the question using only the numbered sources below. \
Cite every statement with the number of its source in square brackets, like [1] or [2][3]. \
If the sources do not contain the answer, say so plainly instead of guessing.";

/// The sources as the model sees them: `[n] Title, p. 3` and the passage.
pub fn sources_block(generation: &Generation) -> String {
    generation
        .sources
        .iter()
        .map(|s| {
            let mut head = format!("[{}] {}", s.n, s.document_title);
            if let Some(page) = s.pages.first() {
                head.push_str(&format!(", p. {page}"));
            }
            format!("{head}\n{}", s.text)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The messages to send: one system message (the caller's, plus the sources for RAG), then the
/// latest turns that fit in `budget` tokens; the last user turn is always kept.
pub fn messages(generation: &Generation, budget: usize) -> Vec<ChatMessage> {
    let mut system: Vec<String> =
        generation.messages.iter().filter(|m| m.role == "system").map(|m| m.content.clone()).collect();
    if !generation.sources.is_empty() {
        system.push(format!("{RAG_INSTRUCTIONS}\n\nSources:\n\n{}", sources_block(generation)));
    }
    let system = system.join("\n\n");
    let mut used = estimate_tokens(&system) as usize;
    let turns: Vec<&ChatMessage> = generation.messages.iter().filter(|m| m.role != "system").collect();
    let mut kept: Vec<ChatMessage> = Vec::new();
    for (i, turn) in turns.iter().enumerate().rev() {
        let cost = estimate_tokens(&turn.content) as usize + 4;
        let last = i + 1 == turns.len();
        if !last && used + cost > budget {
            break;
        }
        used += cost;
        kept.push((*turn).clone());
    }
    kept.reverse();
    let mut out = Vec::with_capacity(kept.len() + 1);
    if !system.is_empty() {
        out.push(ChatMessage::new("system", system));
    }
    out.extend(kept);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::llm::ContextSource;

    fn source(n: usize, text: &str) -> ContextSource {
        ContextSource {
            n,
            chunk_id: uuid::Uuid::now_v7(),
            document_id: uuid::Uuid::now_v7(),
            document_title: "Handbook".to_owned(),
            knowledge_base_id: uuid::Uuid::now_v7(),
            pages: vec![4],
            snippet: String::new(),
            score: 1.0,
            text: text.to_owned(),
        }
    }

    #[test]
    fn sources_go_into_the_system_message_and_old_turns_give_way_to_the_budget() {
        let mut messages = vec![ChatMessage::new("system", "Be brief.")];
        for i in 0..20 {
            messages.push(ChatMessage::new("user", format!("question {i} {}", "pad ".repeat(50))));
            messages.push(ChatMessage::new("assistant", format!("answer {i} {}", "pad ".repeat(50))));
        }
        messages.push(ChatMessage::new("user", "What is the leave policy?"));
        let generation =
            Generation { messages, sources: vec![source(1, "Staff get 25 days of leave.")], ..Default::default() };
        let out = super::messages(&generation, 400);
        assert_eq!(out[0].role, "system");
        assert!(out[0].content.starts_with("Be brief.\n\nAnswer the question using only"));
        assert!(out[0].content.contains("[1] Handbook, p. 4\nStaff get 25 days of leave."));
        assert_eq!(out.last().unwrap().content, "What is the leave policy?");
        assert!(out.len() > 2 && out.len() < 10, "only the newest turns fit: {}", out.len());
        assert!(out[1..].iter().all(|m| m.role != "system"));
        let tiny = super::messages(&generation, 1);
        assert_eq!(tiny.len(), 2, "the question is always sent");
    }
}
