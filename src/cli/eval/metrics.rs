//! Retrieval metrics as BEIR reports them (trec_eval definitions): nDCG@k with linear gains,
//! Recall@k and MRR@k, averaged over the queries that have relevance judgements.

use std::collections::HashMap;

/// Graded judgements of one query: document id → relevance (> 0 is relevant).
pub type Judgements = HashMap<String, u32>;

pub fn ndcg_at(ranked: &[String], judged: &Judgements, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, doc)| f64::from(judged.get(doc).copied().unwrap_or(0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = judged.values().copied().filter(|r| *r > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, r)| f64::from(*r) / (i as f64 + 2.0).log2()).sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

pub fn recall_at(ranked: &[String], judged: &Judgements, k: usize) -> f64 {
    let relevant = judged.values().filter(|r| **r > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked.iter().take(k).filter(|doc| judged.get(*doc).is_some_and(|r| *r > 0)).count();
    found as f64 / relevant as f64
}

pub fn mrr_at(ranked: &[String], judged: &Judgements, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|doc| judged.get(doc).is_some_and(|r| *r > 0))
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

/// The p-th percentile (0–100) by nearest rank; 0 for no samples.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, u32)]) -> Judgements {
        pairs.iter().map(|(d, r)| ((*d).to_owned(), *r)).collect()
    }

    fn ranked(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ndcg_matches_hand_computed_values() {
        let j = judged(&[("a", 2), ("b", 1), ("z", 0)]);
        assert!((ndcg_at(&ranked(&["a", "b"]), &j, 10) - 1.0).abs() < 1e-12, "ideal order");
        // b first, then x, then a: (1/1 + 0 + 2/2) / (2/1 + 1/log2(3)).
        let expected = (1.0 + 2.0 / 2.0) / (2.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&ranked(&["b", "x", "a"]), &j, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg_at(&ranked(&["x", "z"]), &j, 10), 0.0);
        assert_eq!(ndcg_at(&ranked(&["b", "a"]), &j, 1), 0.5, "cut at k: 1 / 2");
    }

    #[test]
    fn recall_and_mrr_count_only_relevant_documents_within_k() {
        let j = judged(&[("a", 1), ("b", 2), ("c", 1), ("z", 0)]);
        let r = ranked(&["z", "b", "x", "a"]);
        assert!((recall_at(&r, &j, 100) - 2.0 / 3.0).abs() < 1e-12);
        assert!((recall_at(&r, &j, 2) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(mrr_at(&r, &j, 10), 0.5);
        assert_eq!(mrr_at(&r, &j, 1), 0.0);
        assert_eq!(recall_at(&r, &judged(&[]), 10), 0.0);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
