//! Snippets for hits that the lexical index did not produce (dense-only results): the window
//! of the text with the most query words, HTML-escaped, matches wrapped in `<b>…</b>`.

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "with", "that", "this", "what", "which", "who", "whom", "how", "why",
    "when", "where", "does", "did", "from", "into", "about", "has", "have", "had", "not", "but", "its", "can", "you",
    "your", "our", "their", "there", "than", "then", "them", "they", "been", "being", "any", "all", "out", "within",
    "without", "over", "under", "also", "just", "some", "such", "only", "more", "most", "very", "will", "would",
    "should", "could",
];

/// A common English word that says nothing about what a text is about.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// The words of a query worth highlighting, lower-cased.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| (w.chars().count() >= 3 || w.chars().all(|c| c.is_ascii_digit())) && !w.is_empty())
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// Whether a word of the text matches a query term: equal, or a crude stem match: a common
/// prefix of at least four characters that leaves at most two of the shorter word
/// ("indexes" ~ "indexing", "rebuild" ~ "rebuilt").
pub fn matches(word: &str, terms: &[String]) -> bool {
    let word = word.to_lowercase();
    terms.iter().any(|t| {
        let common = word.chars().zip(t.chars()).take_while(|(a, b)| a == b).count();
        let shorter = word.chars().count().min(t.chars().count());
        word == *t || (common >= 4 && common + 2 >= shorter)
    })
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Words of `text` with their byte ranges.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// The best window of at most about `max_chars` characters.
pub fn snippet(text: &str, query: &str, max_chars: usize) -> String {
    let terms = terms(query);
    snippet_with(text, |word| matches(word, &terms), max_chars)
}

/// The best window of `text` by a caller's notion of a matching word (typo-tolerant search
/// brings its own).
pub fn snippet_with(text: &str, is_match: impl Fn(&str) -> bool, max_chars: usize) -> String {
    let spans = words(text);
    let hits: Vec<bool> = spans.iter().map(|&(s, e)| is_match(&text[s..e])).collect();
    // Slide a window over word starts; keep the one with the most matches (earliest on ties).
    let (mut best_start, mut best_count, mut end_word, mut count) = (0usize, 0usize, 0usize, 0usize);
    for first in 0..spans.len() {
        while end_word < spans.len() && spans[end_word].1 - spans[first].0 <= max_chars {
            count += usize::from(hits[end_word]);
            end_word += 1;
        }
        if count > best_count {
            (best_start, best_count) = (first, count);
        }
        if end_word > first {
            count -= usize::from(hits[first]);
        } else {
            end_word = first + 1;
        }
    }
    let Some(&(from, _)) = spans.get(best_start) else { return String::new() };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut cursor = from;
    let mut whole_tail = true;
    for (i, &(s, e)) in spans.iter().enumerate().skip(best_start) {
        if e - from > max_chars {
            whole_tail = false;
            break;
        }
        escape(&text[cursor..s], &mut out);
        if hits[i] {
            out.push_str("<b>");
            escape(&text[s..e], &mut out);
            out.push_str("</b>");
        } else {
            escape(&text[s..e], &mut out);
        }
        cursor = e;
    }
    if whole_tail {
        escape(text[cursor..].trim_end(), &mut out);
    } else {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_query_words_and_their_forms_and_escapes_html() {
        let s = snippet("Indexing <fast> & the indexes are rebuilt nightly.", "how are indexes rebuilt", 200);
        assert_eq!(s, "<b>Indexing</b> &lt;fast&gt; &amp; the <b>indexes</b> are <b>rebuilt</b> nightly.");
    }

    #[test]
    fn picks_the_window_with_the_most_matches() {
        let text =
            format!("{} the refund policy allows refunds within 30 days. {}", "filler ".repeat(80), "tail ".repeat(80));
        let s = snippet(&text, "refund policy 30 days", 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<b>refund</b> <b>policy</b>") && s.contains("<b>30</b> <b>days</b>"), "{s}");
        assert!(s.chars().count() < 120);
    }

    #[test]
    fn no_match_gives_the_start_and_empty_text_gives_nothing() {
        assert!(snippet("alpha beta gamma", "zeta", 200).starts_with("alpha"));
        assert_eq!(snippet("", "zeta", 200), "");
        assert_eq!(terms("What is the API of it, v2?"), ["api"]);
    }
}
