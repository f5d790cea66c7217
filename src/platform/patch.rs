//! PATCH semantics: a field that is absent is left alone, `null` clears it, a value sets it.

use serde::{Deserialize, Deserializer};

/// Use with `#[serde(default, deserialize_with = "crate::platform::patch::nullable")]` on an
/// `Option<Option<T>>` field: absent → `None`, `null` → `Some(None)`, value → `Some(Some(v))`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "super::nullable")]
        locale: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let parse = |s: &str| serde_json::from_str::<Patch>(s).unwrap().locale;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"locale": null}"#), Some(None));
        assert_eq!(parse(r#"{"locale": "de"}"#), Some(Some("de".to_owned())));
    }
}
