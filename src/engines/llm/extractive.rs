//! The built-in `extractive` model: with no language model configured, it answers by quoting
//! the sentences of the retrieved passages that best match the question, each with its
//! citation number, and says plainly that the answer is extractive.

use std::collections::HashMap;

use futures_util::StreamExt;
use unicode_segmentation::UnicodeSegmentation;

use super::{estimate_tokens, Delta, DeltaStream, Generation};
use crate::engines::highlight;

pub const PREAMBLE: &str = "Extractive answer (quoted verbatim from your documents, so every citation is verified; \
no language model is configured):";
pub const NOTHING_FOUND: &str =
    "I could not find an answer to this in the attached knowledge bases (extractive model: it only quotes documents).";
pub const NO_SOURCES: &str = "The built-in extractive model only answers from documents: attach a knowledge base \
(or configure a language model upstream with LLM_BASE_URL).";

/// Quoted sentences at most.
const MAX_QUOTES: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub n: usize,
    pub sentence: String,
    pub score: f64,
}

fn words(text: &str) -> Vec<String> {
    text.unicode_words().map(str::to_lowercase).collect()
}

/// Whether a sentence says something on its own: a table cell or a heading fragment such as
/// "Creative revenue in fiscal" is not quoted; a short sentence with a figure is.
fn is_clause(sentence: &str, words: &[String]) -> bool {
    let has_number = sentence.chars().any(|c| c.is_ascii_digit());
    sentence.chars().count() >= 15 && (words.len() >= 5 || (has_number && words.len() >= 3))
}

/// What kind of answer a question asks for, from its first words.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expected {
    /// A date, a year, a count, an amount or a duration.
    Number,
    /// A person or an organisation.
    Name,
    Other,
}

impl Expected {
    fn of(question: &str) -> Self {
        let q = question.trim().to_lowercase();
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| q.starts_with(p));
        if starts(&[
            "when",
            "how many",
            "how much",
            "how long",
            "how old",
            "how far",
            "what year",
            "in what year",
            "what percentage",
            "which year",
            "what century",
            "in which year",
        ]) {
            Expected::Number
        } else if starts(&["who", "whom", "whose"]) {
            Expected::Name
        } else {
            Expected::Other
        }
    }

    /// A mild preference for sentences that hold the kind of answer asked for.
    fn fit(self, sentence: &str, sentence_words: &[String], question_words: &[String]) -> f64 {
        match self {
            Expected::Number if sentence.chars().any(|c| c.is_ascii_digit()) => 1.25,
            Expected::Name => {
                // A capitalised word the question does not have, past the sentence's first word.
                let named = sentence.unicode_words().skip(1).any(|w| {
                    w.chars().next().is_some_and(char::is_uppercase) && !question_words.contains(&w.to_lowercase())
                });
                if named && !sentence_words.is_empty() {
                    1.15
                } else {
                    1.0
                }
            }
            _ => 1.0,
        }
    }
}

/// The best sentences for a question, best first.
pub fn select(generation: &Generation) -> Vec<Quote> {
    let terms = highlight::terms(generation.question());
    if terms.is_empty() {
        return Vec::new();
    }
    let mut candidates: Vec<(usize, usize, String, Vec<String>)> = Vec::new();
    for (rank, source) in generation.sources.iter().enumerate() {
        for sentence in source.text.unicode_sentences() {
            let sentence = sentence.trim().trim_start_matches('#').trim();
            let sentence_words = words(sentence);
            if !is_clause(sentence, &sentence_words) {
                continue;
            }
            candidates.push((source.n, rank, sentence.to_owned(), sentence_words));
        }
    }
    // Inverse sentence frequency: a question word found in few sentences says more.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for term in &terms {
        df.insert(
            term,
            candidates.iter().filter(|c| c.3.iter().any(|w| highlight::matches(w, std::slice::from_ref(term)))).count(),
        );
    }
    let total = candidates.len().max(1) as f64;
    let expected = Expected::of(generation.question());
    let question_words = words(generation.question());
    let mut quotes: Vec<Quote> = candidates
        .into_iter()
        .map(|(n, rank, sentence, sentence_words)| {
            let overlap: f64 = terms
                .iter()
                .filter(|t| sentence_words.iter().any(|w| highlight::matches(w, std::slice::from_ref(*t))))
                .map(|t| (1.0 + total / df.get(t.as_str()).copied().unwrap_or(1).max(1) as f64).ln())
                .sum();
            // Long sentences match more words by chance; earlier sources were ranked better.
            let length = (sentence_words.len().max(8) as f64 / 8.0).powf(0.3);
            let prior = 1.0 / (1.0 + 0.05 * rank as f64);
            let kind = expected.fit(&sentence, &sentence_words, &question_words);
            Quote { n, sentence, score: overlap / length * prior * kind }
        })
        .filter(|q| q.score > 0.0)
        .collect();
    quotes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = quotes.first().map_or(0.0, |q| q.score);
    let mut chosen: Vec<Quote> = Vec::new();
    for q in quotes {
        if chosen.len() == MAX_QUOTES || q.score < best * 0.6 {
            break;
        }
        if !chosen.iter().any(|c| c.sentence == q.sentence) {
            chosen.push(q);
        }
    }
    chosen
}

/// The full answer text.
pub fn compose(generation: &Generation) -> String {
    if generation.sources.is_empty() {
        return NO_SOURCES.to_owned();
    }
    let quotes = select(generation);
    if quotes.is_empty() {
        return NOTHING_FOUND.to_owned();
    }
    let mut out = PREAMBLE.to_owned();
    for q in quotes {
        out.push_str(&format!("\n\n> {} [{}]", q.sentence, q.n));
    }
    out
}

pub fn answer(generation: &Generation) -> DeltaStream {
    let text = compose(generation);
    let prompt_tokens = estimate_tokens(generation.question())
        + generation.sources.iter().map(|s| estimate_tokens(&s.text)).sum::<u32>();
    let completion_tokens = estimate_tokens(&text);
    // Streamed paragraph by paragraph, like a model's tokens.
    let mut deltas: Vec<Delta> = Vec::new();
    for (i, part) in text.split("\n\n").enumerate() {
        deltas.push(Delta::Text(if i == 0 { part.to_owned() } else { format!("\n\n{part}") }));
    }
    deltas.push(Delta::Usage { prompt_tokens, completion_tokens });
    deltas.push(Delta::Finish("stop".to_owned()));
    futures_util::stream::iter(deltas.into_iter().map(Ok)).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::llm::ChatMessage;
    use crate::engines::llm::ContextSource;

    fn generation(question: &str, passages: &[&str]) -> Generation {
        Generation {
            model: "extractive".into(),
            messages: vec![ChatMessage::new("user", question)],
            sources: passages
                .iter()
                .enumerate()
                .map(|(i, text)| ContextSource {
                    n: i + 1,
                    chunk_id: uuid::Uuid::now_v7(),
                    document_id: uuid::Uuid::now_v7(),
                    document_title: "Doc".into(),
                    knowledge_base_id: uuid::Uuid::now_v7(),
                    pages: vec![],
                    snippet: String::new(),
                    score: 1.0,
                    text: (*text).to_owned(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn quotes_the_sentence_that_answers_with_its_citation() {
        let g = generation(
            "When were the Normans in Normandy?",
            &[
                "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, \
                 a region in France. They were descended from Norse raiders.",
                "Shipping is free above fifty euros.",
            ],
        );
        let answer = compose(&g);
        assert!(answer.starts_with(PREAMBLE), "{answer}");
        assert!(answer.contains("> The Normans were the people who in the 10th and 11th centuries"), "{answer}");
        assert!(answer.contains("[1]") && !answer.contains("Shipping"), "{answer}");
    }

    #[test]
    fn says_so_when_nothing_matches_or_there_are_no_documents() {
        assert_eq!(
            compose(&generation("What is the capital of Peru?", &["Cats sleep a lot during the day."])),
            NOTHING_FOUND
        );
        assert_eq!(compose(&generation("Anything?", &[])), NO_SOURCES);
    }
}

/// The shared SQuAD v2 examples: for answerable questions, given the gold paragraph among
/// others of the same article, a quoted sentence contains an accepted answer.
#[cfg(test)]
mod squad {
    use super::*;
    use crate::engines::llm::ChatMessage;
    use crate::engines::llm::ContextSource;

    #[test]
    fn quoted_sentences_contain_the_answer_for_most_answerable_questions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/qa/squad_v2_dev_subset/small.json");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e}; the shared data sets sit beside the checkout"));
        let data: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (mut asked, mut found, mut first) = (0, 0, 0);
        for article in data["data"].as_array().unwrap() {
            let paragraphs: Vec<&str> =
                article["paragraphs"].as_array().unwrap().iter().map(|p| p["context"].as_str().unwrap()).collect();
            for (i, paragraph) in article["paragraphs"].as_array().unwrap().iter().enumerate() {
                for qa in paragraph["qas"].as_array().unwrap() {
                    if qa["is_impossible"].as_bool().unwrap_or(false) {
                        continue;
                    }
                    // The gold paragraph ranked second, between two others: retrieval is imperfect.
                    let order = [(i + 1) % paragraphs.len(), i, (i + 2) % paragraphs.len()];
                    let sources = order
                        .iter()
                        .enumerate()
                        .map(|(rank, &p)| ContextSource {
                            n: rank + 1,
                            chunk_id: uuid::Uuid::now_v7(),
                            document_id: uuid::Uuid::now_v7(),
                            document_title: "Article".into(),
                            knowledge_base_id: uuid::Uuid::now_v7(),
                            pages: vec![],
                            snippet: String::new(),
                            score: 1.0,
                            text: paragraphs[p].to_owned(),
                        })
                        .collect();
                    let g = Generation {
                        messages: vec![ChatMessage::new("user", qa["question"].as_str().unwrap())],
                        sources,
                        ..Default::default()
                    };
                    let answer = compose(&g);
                    let best = select(&g).first().map(|q| q.sentence.clone()).unwrap_or_default();
                    let has = |text: &str| {
                        qa["answers"].as_array().unwrap().iter().any(|a| text.contains(a["text"].as_str().unwrap()))
                    };
                    asked += 1;
                    found += u32::from(has(&answer));
                    first += u32::from(has(&best));
                }
            }
        }
        let rate = f64::from(found) / f64::from(asked.max(1));
        let top = f64::from(first) / f64::from(asked.max(1));
        eprintln!("extractive: answer span in the quotes {found}/{asked} ({:.1}%), in the first {first}", rate * 100.0);
        assert!(asked > 200 && rate > 0.75 && top > 0.6, "{found}/{asked}, first {first}");
    }
}
