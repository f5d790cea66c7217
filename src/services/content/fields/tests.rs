use serde_json::json;

use super::*;

fn defs(value: Value) -> Vec<FieldDef> {
    let defs: Vec<FieldDef> = serde_json::from_value(value).unwrap();
    check_defs(&defs).unwrap();
    defs
}

fn product() -> Vec<FieldDef> {
    defs(json!([
        {"name": "sku", "type": "text", "required": true, "unique": true, "pattern": "^[A-Z]{3}-\\d+$"},
        {"name": "summary", "type": "text", "max": 10},
        {"name": "price", "type": "number", "min": 0},
        {"name": "stock", "type": "number", "integer": true},
        {"name": "onSale", "type": "boolean"},
        {"name": "launch", "type": "dateTime"},
        {"name": "size", "type": "enum", "options": ["s", "m", "l"]},
        {"name": "photos", "type": "media", "multiple": true, "max": 2},
        {"name": "related", "type": "reference", "referenceTypes": ["product"]},
        {"name": "blocks", "type": "elements"},
        {"name": "body", "type": "richText"},
        {"name": "extra", "type": "json"}
    ]))
}

#[test]
fn valid_data_is_normalised_and_its_references_collected() {
    let media = Uuid::now_v7();
    let entry = Uuid::now_v7();
    let element = Uuid::now_v7();
    let checked = validate(
        &product(),
        &json!({
            "sku": "ABC-12", "price": 9.5, "stock": 3, "onSale": true, "launch": "2026-05-01T11:30:00+02:00",
            "size": "m", "photos": [media.to_string()], "related": entry.to_string(),
            "blocks": [element.to_string()], "body": "# Hi", "extra": {"any": [1]}
        }),
    )
    .unwrap();
    assert_eq!(checked.data["launch"], "2026-05-01T09:30:00Z");
    let kinds: Vec<_> = checked.references.iter().map(|r| (r.kind, r.id)).collect();
    assert_eq!(kinds, [(RefKind::Media, media), (RefKind::Entry, entry), (RefKind::Element, element)]);
}

#[test]
fn every_failing_field_is_reported() {
    let errors = validate(
        &product(),
        &json!({
            "summary": "far more than ten characters", "price": -1, "stock": 1.5, "onSale": "yes",
            "launch": "May 1st", "size": "xl", "photos": ["x", "y", "z"], "related": 7, "colour": "red"
        }),
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for expected in ["colour", "sku", "summary", "price", "stock", "onSale", "launch", "size", "photos", "related"] {
        assert!(fields.contains(&expected), "{expected} missing from {errors:?}");
    }
    let sku = validate(&product(), &json!({"sku": "abc"})).unwrap_err();
    assert!(sku[0].message.contains("pattern"), "{sku:?}");
}

#[test]
fn definitions_that_cannot_work_are_refused() {
    let bad = [
        json!([{"name": "1st", "type": "text"}]),
        json!([{"name": "a", "type": "text"}, {"name": "a", "type": "number"}]),
        json!([{"name": "a", "type": "enum"}]),
        json!([{"name": "a", "type": "text", "pattern": "("}]),
        json!([{"name": "a", "type": "number", "min": 5, "max": 1}]),
        json!([{"name": "a", "type": "json", "unique": true}]),
        json!([{"name": "a", "type": "text", "multiple": true}]),
    ];
    for fields in bad {
        let defs: Vec<FieldDef> = serde_json::from_value(fields.clone()).unwrap();
        assert!(check_defs(&defs).is_err(), "{fields}");
    }
    assert!(serde_json::from_value::<Vec<FieldDef>>(json!([{"name": "a", "type": "colour"}])).is_err());
}

#[test]
fn plain_text_reads_markdown_and_blocks() {
    let fields = defs(json!([
        {"name": "body", "type": "richText"},
        {"name": "blocks", "type": "richText", "format": "blocks"},
        {"name": "n", "type": "number"}
    ]));
    let text = plain_text(
        &fields,
        &json!({"body": "## Title\n\nSome [linked](http://x) *words*.", "blocks": [{"type": "p", "text": "Block text"}], "n": 4}),
    );
    assert!(text.contains("Title Some linked words."), "{text}");
    assert!(text.contains("Block text"), "{text}");
    assert!(!text.contains('#') && !text.contains("http"), "{text}");
}
