//! The extractor for a configured language model: it gives the model the passages that matter
//! for the fields, asks for JSON in a fixed shape with the exact source text of each value,
//! validates the answer, asks once more with the errors when it is not valid, and keeps only
//! values whose quoted text is really in the document.

use serde_json::{json, Map, Value};

use super::extract::{DocText, Extracted, Extractor, Usage};
use super::schema::{Field, FieldType};
use super::values;
use crate::engines::llm::{self, ChatMessage, Gateway, Generation};

/// Characters of document text sent per request.
const BUDGET: usize = 24_000;

pub struct Llm<'a> {
    pub gateway: &'a Gateway,
    pub model: String,
}

const INSTRUCTIONS: &str = "You extract structured data from a document. Answer with one JSON object and nothing \
else. For every field name give {\"value\": <the value or null>, \"quote\": \"<the exact text of the document the \
value comes from, copied character for character>\", \"page\": <page number or null>}. Dates as YYYY-MM-DD, money as \
{\"amount\": \"1234.50\", \"currency\": \"EUR\"}, tables as arrays of objects with the given columns. Use null when \
the document does not say.";

/// The document text to send: all of it when it fits, else the pages that mention the fields.
fn passages(doc: &DocText, fields: &[Field]) -> String {
    let render = |p: &super::extract::PageText| match p.number {
        Some(n) => format!("[page {n}]\n{}\n", p.text),
        None => format!("{}\n", p.text),
    };
    let all: String = doc.pages.iter().map(render).collect();
    if all.len() <= BUDGET {
        return all;
    }
    let words: Vec<String> = fields
        .iter()
        .flat_map(|f| [f.name.clone(), f.description.clone().unwrap_or_default()])
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.len() >= 4)
        .collect();
    let mut scored: Vec<(usize, &super::extract::PageText)> = doc
        .pages
        .iter()
        .map(|p| {
            let lower = p.text.to_lowercase();
            (words.iter().filter(|w| lower.contains(w.as_str())).count(), p)
        })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = String::new();
    for (_, page) in scored {
        let text = render(page);
        if out.len() + text.len() > BUDGET {
            break;
        }
        out.push_str(&text);
    }
    out
}

fn describe(fields: &[Field]) -> String {
    let list: Vec<Value> = fields
        .iter()
        .map(|f| {
            json!({"name": f.name, "type": f.r#type, "description": f.description, "required": f.required,
                   "allowedValues": (!f.values.is_empty()).then_some(&f.values),
                   "columns": (!f.columns.is_empty()).then_some(&f.columns)})
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

/// The JSON object in a model's answer (models like to wrap it in prose or code fences).
fn json_in(text: &str) -> Option<Map<String, Value>> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str::<Value>(text.get(start..=end)?).ok()?.as_object().cloned()
}

/// A value as the model gave it, made typed and normalised for `field`.
fn typed(field: &Field, raw: &Value) -> Result<Value, String> {
    match (field.r#type, raw) {
        (_, Value::Null) => Ok(Value::Null),
        (FieldType::Table, Value::Array(_)) => Ok(raw.clone()),
        (FieldType::StringList, Value::Array(items)) => Ok(json!(items)),
        (FieldType::Money, Value::Object(m)) => {
            let amount = m.get("amount").map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned));
            let text = format!(
                "{} {}",
                m.get("currency").and_then(Value::as_str).unwrap_or_default(),
                amount.unwrap_or_default()
            );
            values::normalise(field, &text)
        }
        (FieldType::Boolean, Value::Bool(b)) => Ok(json!(b)),
        (FieldType::Number, Value::Number(n)) => Ok(json!(n)),
        (_, Value::String(s)) => values::normalise(field, s),
        (_, other) => values::normalise(field, &other.to_string()),
    }
}

/// Problems with an answer, to send back to the model once.
fn problems(answer: &Option<Map<String, Value>>, fields: &[Field]) -> Vec<String> {
    let Some(answer) = answer else { return vec!["the answer was not a JSON object".to_owned()] };
    fields
        .iter()
        .filter_map(|f| {
            let item = answer.get(&f.name)?;
            let raw = item.get("value").unwrap_or(&Value::Null);
            let error = typed(f, raw).err().or_else(|| {
                (!raw.is_null() && item.get("quote").and_then(Value::as_str).is_none_or(str::is_empty))
                    .then(|| "a value needs the exact quote it comes from".to_owned())
            });
            error.map(|e| format!("{}: {e}", f.name))
        })
        .collect()
}

impl Llm<'_> {
    async fn ask(&self, messages: Vec<ChatMessage>, usage: &mut Usage) -> Result<String, String> {
        let generation = Generation {
            model: self.model.clone(),
            messages,
            temperature: Some(0.0),
            max_tokens: Some(2048),
            ..Default::default()
        };
        let stream = self.gateway.generate(generation).await.map_err(|e| e.to_string())?;
        let collected = llm::collect(stream).await.map_err(|e| e.to_string())?;
        let (p, c) = collected.usage.unwrap_or((0, llm::estimate_tokens(&collected.text)));
        usage.prompt_tokens += p;
        usage.completion_tokens += c;
        Ok(collected.text)
    }
}

#[async_trait::async_trait]
impl Extractor for Llm<'_> {
    fn name(&self) -> String {
        format!("llm:{}", self.model)
    }

    async fn extract(&self, doc: &DocText, fields: &[Field]) -> Result<(Vec<Extracted>, Usage), String> {
        let mut usage = Usage::default();
        let prompt = format!("Fields:\n{}\n\nDocument:\n{}", describe(fields), passages(doc, fields));
        let mut messages = vec![ChatMessage::new("system", INSTRUCTIONS), ChatMessage::new("user", prompt)];
        let first = self.ask(messages.clone(), &mut usage).await?;
        let mut answer = json_in(&first);
        let errors = problems(&answer, fields);
        if !errors.is_empty() {
            messages.push(ChatMessage::new("assistant", first));
            messages.push(ChatMessage::new(
                "user",
                format!(
                    "That answer has errors:\n- {}\nAnswer again with the corrected JSON object only.",
                    errors.join("\n- ")
                ),
            ));
            answer = json_in(&self.ask(messages, &mut usage).await?).or(answer);
        }
        let answer = answer.unwrap_or_default();
        let results = fields.iter().map(|f| judge(doc, f, answer.get(&f.name))).collect();
        Ok((results, usage))
    }
}

/// One field of the model's answer, checked against the document and the schema.
fn judge(doc: &DocText, field: &Field, item: Option<&Value>) -> Extracted {
    let Some(item) = item else { return Extracted::missing(field, "the model gave no answer for this field") };
    let raw = item.get("value").unwrap_or(&Value::Null);
    if raw.is_null() {
        return Extracted::missing(field, "the model found no value");
    }
    let quote = item.get("quote").and_then(Value::as_str).unwrap_or_default();
    let Some(source) = doc.locate(quote) else {
        // A value without verifiable evidence is not kept, however plausible.
        return Extracted::missing(
            field,
            "the model's quoted source text is not in the document; the value was dropped",
        );
    };
    match typed(field, raw) {
        Ok(value) => {
            let errors = values::check(field, &value);
            let confidence = if errors.is_empty() { 0.9 } else { 0.5 };
            Extracted { field: field.name.clone(), value: Some(value), confidence, source: Some(source), errors }
        }
        Err(why) => Extracted {
            field: field.name.clone(),
            value: Some(json!(raw.to_string())),
            confidence: 0.3,
            source: Some(source),
            errors: vec![why],
        },
    }
}
