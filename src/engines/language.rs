//! Which language a text is in, for the languages whose words tantivy can stem.
//!
//! Detection is whatlang's (trigrams, no model to ship, microseconds per chunk). A text is
//! given a language only when the detector is confident and the language has a stemmer;
//! everything else (short titles, code, mixed text, Polish, Chinese…) is stemmed as English,
//! which is what every index did before languages were detected. Queries are stemmed in
//! English and in every language found in the knowledge bases searched, so a word matches
//! whichever stemmer its chunk was indexed with.

use tantivy::tokenizer::Language;
use whatlang::Lang;

/// The default language of text that is not confidently something else.
pub const ENGLISH: &str = "en";

/// ISO 639-1 code, tantivy's stemmer, whatlang's language.
const STEMMED: [(&str, Language, Lang); 18] = [
    ("en", Language::English, Lang::Eng),
    ("ar", Language::Arabic, Lang::Ara),
    ("da", Language::Danish, Lang::Dan),
    ("de", Language::German, Lang::Deu),
    ("el", Language::Greek, Lang::Ell),
    ("es", Language::Spanish, Lang::Spa),
    ("fi", Language::Finnish, Lang::Fin),
    ("fr", Language::French, Lang::Fra),
    ("hu", Language::Hungarian, Lang::Hun),
    ("it", Language::Italian, Lang::Ita),
    ("nl", Language::Dutch, Lang::Nld),
    ("no", Language::Norwegian, Lang::Nob),
    ("pt", Language::Portuguese, Lang::Por),
    ("ro", Language::Romanian, Lang::Ron),
    ("ru", Language::Russian, Lang::Rus),
    ("sv", Language::Swedish, Lang::Swe),
    ("ta", Language::Tamil, Lang::Tam),
    ("tr", Language::Turkish, Lang::Tur),
];

/// Detection reads at most this much of a text: a chunk's worth says which language it is.
const SAMPLE_BYTES: usize = 2_000;
/// Below this many letters the detector guesses rather than knows.
const MIN_LETTERS: usize = 24;

/// Every language with a stemmer, as (code, stemmer): the order is stable.
pub fn stemmed() -> impl Iterator<Item = (&'static str, Language)> {
    STEMMED.iter().map(|(code, language, _)| (*code, *language))
}

/// The position of a language in [`stemmed`] (English for an unknown code).
pub fn position(code: &str) -> usize {
    STEMMED.iter().position(|(c, _, _)| *c == code).unwrap_or(0)
}

/// The stemmer of a language (English's for an unknown code).
pub fn stemmer(code: &str) -> Language {
    STEMMED[position(code)].1
}

/// The code of a stemmed language, from a code or a locale (`de`, `de-AT`, `pt_BR`, `nb`).
pub fn of_locale(locale: &str) -> Option<&'static str> {
    let primary = locale.split(['-', '_']).next()?.to_ascii_lowercase();
    let primary = match primary.as_str() {
        "nb" | "nn" => "no",
        other => other,
    };
    STEMMED.iter().find(|(code, _, _)| *code == primary).map(|(code, _, _)| *code)
}

/// The language of `text` when the detector is sure of it and it has a stemmer.
pub fn detect(text: &str) -> Option<&'static str> {
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &text[..end];
    if sample.chars().filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(sample).filter(whatlang::Info::is_reliable)?;
    STEMMED.iter().find(|(_, _, lang)| *lang == info.lang()).map(|(code, _, _)| *code)
}

/// The language a text is stemmed in: detected, or English.
pub fn of_text(text: &str) -> &'static str {
    detect(text).unwrap_or(ENGLISH)
}

/// Languages for a query: English, the ones given (a knowledge base's, a locale's) and the
/// query's own when it is detected; each once.
pub fn for_query<'a>(query: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let mut languages = vec![ENGLISH];
    for code in known.into_iter().filter_map(of_locale).chain(detect(query)) {
        if !languages.contains(&code) {
            languages.push(code);
        }
    }
    languages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_detection_only() {
        assert_eq!(detect("Die Häuser am Fluss wurden im letzten Jahrhundert von den Bauern gebaut."), Some("de"));
        assert_eq!(detect("Les maisons anciennes de la ville ont été construites au siècle dernier."), Some("fr"));
        assert_eq!(detect("Las casas antiguas de la ciudad fueron construidas por los campesinos."), Some("es"));
        assert_eq!(detect("Старые дома в городе были построены крестьянами в прошлом веке."), Some("ru"));
        assert_eq!(
            detect("Statin use and breast cancer survival: a nationwide cohort study from Finland."),
            Some("en")
        );
        assert_eq!(detect("Haus"), None, "too short to know");
        assert_eq!(detect("机器学习是人工智能的一个分支，它使计算机能够从数据中学习。"), None, "no stemmer");
        assert_eq!(of_text("fn main() {}"), ENGLISH);
        let long = "Wir haben das Haus gekauft. ".repeat(200);
        assert_eq!(detect(&long), Some("de"), "a long text is sampled at a character boundary");
        detect(&format!("{}ä{}", "x".repeat(SAMPLE_BYTES - 1), long)); // cut inside "ä": no panic
    }

    #[test]
    fn locales_and_query_languages() {
        assert_eq!(of_locale("de-AT"), Some("de"));
        assert_eq!(of_locale("pt_BR"), Some("pt"));
        assert_eq!(of_locale("nb"), Some("no"));
        assert_eq!(of_locale("zh-CN"), None);
        assert_eq!(of_locale(""), None);
        assert_eq!(for_query("haus", ["de", "en", "de", "xx"]), ["en", "de"]);
        assert_eq!(for_query("Où sont les maisons anciennes de la vieille ville ?", []), ["en", "fr"]);
        assert_eq!(position("sv"), 15);
        assert_eq!(position("xx"), 0);
    }
}
