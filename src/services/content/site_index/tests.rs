use super::*;

fn entry(site: Uuid, locales: &[&str], kind: &str, title: &str, body: &str, tags: &[&str]) -> IndexedEntry {
    IndexedEntry {
        entry_id: Uuid::now_v7(),
        tenant_id: Uuid::nil(),
        site_id: site,
        group: Uuid::now_v7(),
        locales: locales.iter().map(|l| (*l).to_owned()).collect(),
        locale: locales[0].to_owned(),
        kind: kind.to_owned(),
        slug: title.to_lowercase().replace(' ', "-"),
        title: title.to_owned(),
        body: body.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        published_at: String::new(),
    }
}

fn query<'a>(site: Uuid, text: &'a str) -> SiteQuery<'a> {
    SiteQuery { site_id: site, locale: "en", text, kinds: &[], tags: &[], offset: 0, limit: 10 }
}

fn titles(results: &SiteResults) -> Vec<String> {
    results.hits.iter().map(|h| h.title.clone()).collect()
}

#[test]
fn typos_prefixes_stems_facets_and_sites() {
    let dir = tempfile::tempdir().unwrap();
    let index = SiteIndex::open(dir.path()).unwrap();
    let (site, other) = (Uuid::now_v7(), Uuid::now_v7());
    let entries = vec![
        entry(site, &["en"], "post", "How to receive payments", "Invoices and transfers arrive daily.", &["billing"]),
        entry(site, &["en"], "page", "Shipping policy", "Parcels are delivered within three days.", &["shop"]),
        entry(site, &["de"], "post", "Zahlungen empfangen", "Rechnungen und Überweisungen.", &["billing"]),
        entry(other, &["en"], "post", "Receive secret payments", "Another tenant's words.", &[]),
    ];
    let groups: Vec<Uuid> = entries.iter().map(|e| e.group).collect();
    index.replace_groups(&groups, &entries).unwrap();

    // One transposition in a 7-letter word is one typo.
    assert_eq!(titles(&index.search(&query(site, "recieve")).unwrap()), ["How to receive payments"]);
    // The word being typed is a prefix; a finished word is not.
    assert_eq!(titles(&index.search(&query(site, "shipp")).unwrap()), ["Shipping policy"]);
    assert!(index.search(&query(site, "shipp ")).unwrap().hits.is_empty());
    // Stems: "delivering" finds "delivered".
    assert_eq!(titles(&index.search(&query(site, "delivering ")).unwrap()), ["Shipping policy"]);
    // Short words get no typo budget.
    assert!(index.search(&query(site, "dags ")).unwrap().hits.is_empty());
    // Locale and site filters.
    let de = SiteQuery { locale: "de", ..query(site, "zahlungen") };
    assert_eq!(titles(&index.search(&de).unwrap()), ["Zahlungen empfangen"]);
    assert!(!titles(&index.search(&query(site, "secret")).unwrap()).iter().any(|t| t.contains("secret")));
    // Facets count the matching documents; filters narrow them.
    let all = index.search(&query(site, "")).unwrap();
    assert_eq!(all.total, 2);
    assert!(
        all.kinds.contains(&("post".to_owned(), 1)) && all.kinds.contains(&("page".to_owned(), 1)),
        "{:?}",
        all.kinds
    );
    let pages = SiteQuery { kinds: &["page".to_owned()], ..query(site, "") };
    assert_eq!(titles(&index.search(&pages).unwrap()), ["Shipping policy"]);
    // No document with every word: fall back to any word.
    let relaxed = index.search(&query(site, "payments zebra ")).unwrap();
    assert_eq!(titles(&relaxed), ["How to receive payments"]);
    assert!(!relaxed.all_words);

    index.replace_groups(&groups[..1], &[]).unwrap();
    assert!(index.search(&query(site, "receive")).unwrap().hits.is_empty());
    index.delete_site(site).unwrap();
    assert_eq!(index.count_site(site).unwrap(), 0);
    assert_eq!(index.count_site(other).unwrap(), 1);
}

#[test]
fn edit_distance_counts_a_swap_once() {
    assert_eq!(distance("recieve", "receive"), 1);
    assert_eq!(distance("kitten", "sitting"), 3);
    assert!(word_matches("Receive", &["recieve".to_owned()], false));
    assert!(word_matches("shipping", &["ship".to_owned()], true));
}
