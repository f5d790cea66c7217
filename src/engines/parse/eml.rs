//! E-mail (RFC 5322 `.eml`, MIME) with mail-parser: the headers people search by (from, to,
//! date, subject) as the first section, the body (plain text, or the HTML part read as HTML),
//! then every attachment parsed by its own type under the heading "Attachment: name".

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::{detect, html, parse as parse_document, DocumentKind, Limits, ParseError, ParsedDocument, Section};

/// Headers that open a message, of which a mail has several before its first blank line.
const HEADERS: [&str; 9] =
    ["from", "to", "subject", "date", "message-id", "mime-version", "received", "return-path", "delivered-to"];

/// Whether `text` starts with a header block of at least three well-known mail headers.
pub fn looks_like_mail(text: &str) -> bool {
    let mut known = 0;
    for line in text.lines().take(200) {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue; // a folded header
        }
        let Some((name, _)) = line.split_once(':') else { return false };
        if name.is_empty() || name.contains(' ') {
            return false;
        }
        known += usize::from(HEADERS.contains(&name.to_ascii_lowercase().as_str()));
    }
    known >= 3
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ParseError::Malformed("not an e-mail message".to_owned()))?;
    let subject = message.subject().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let headings: Vec<String> = subject.iter().cloned().collect();
    let mut head = Vec::new();
    for (label, address) in [("From", message.from()), ("To", message.to()), ("Cc", message.cc())] {
        if let Some(list) = address.map(addresses).filter(|l| !l.is_empty()) {
            head.push(format!("{label}: {list}"));
        }
    }
    if let Some(date) = message.date() {
        head.push(format!("Date: {}", date.to_rfc3339()));
    }
    if let Some(subject) = &subject {
        head.push(format!("Subject: {subject}"));
    }
    let mut sections = vec![Section::prose(None, headings.clone(), head.join("\n"))];
    match (message.text_body_count() > 0).then(|| message.body_text(0)).flatten() {
        Some(text) if !message.html_body.is_empty() && message.text_body == message.html_body => {
            // Only an HTML body: read it as a page, not as flattened text.
            let html_text = message.body_html(0).unwrap_or(text);
            for mut section in html::parse(&html_text).sections {
                section.headings.splice(0..0, headings.iter().cloned());
                sections.push(section);
            }
        }
        Some(text) => sections.push(Section::prose(None, headings.clone(), super::text::normalise(&text))),
        None => {}
    }
    for attachment in message.attachments() {
        let name = attachment.attachment_name().unwrap_or("unnamed").to_owned();
        let content = attachment.contents();
        // Attachments are read without OCR and one level deep (a mail attached to a mail is
        // read, its own attachments are not).
        let Ok(kind) = detect(content, Some(&name), None) else { continue };
        if kind == DocumentKind::Eml || kind.is_image() {
            continue;
        }
        if let Ok(inner) = parse_document(content, kind, limits) {
            for mut section in inner.sections {
                section.headings.insert(0, format!("Attachment: {name}"));
                section.page = None;
                sections.push(section);
            }
        }
    }
    Ok(ParsedDocument::new(DocumentKind::Eml, subject, None, sections))
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(mail)) => format!("{name} <{mail}>"),
            (Some(name), None) => name.to_owned(),
            (None, Some(mail)) => mail.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_body_and_attachments_are_read() {
        let mail = crate::engines::parse::fixture("berth.eml");
        assert_eq!(detect(&mail, None, None), Ok(DocumentKind::Eml));
        let doc = parse(&mail, &Limits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Berth change for the Aurora"));
        let head = &doc.sections[0].text;
        assert!(
            head.contains("From: Harbour Ops <ops@harbour.example>") && head.contains("Date: 2026-12-07T09:30:00"),
            "{head}"
        );
        assert_eq!(doc.sections[1].text, "The Aurora moves to berth 4 on Tuesday. Café stays open.");
        let attachment = &doc.sections[2];
        assert_eq!(attachment.headings, ["Attachment: berths.csv"]);
        assert_eq!(attachment.table.as_ref().unwrap().rows, [["4", "Aurora"], ["7", "Boreas"]]);
        assert!(!looks_like_mail("Title: a note\nSome text"));
    }
}
