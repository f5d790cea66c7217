//! Reciprocal rank fusion: each source votes `weight / (k + rank)` for every result it ranked;
//! results are ordered by the sum. Rank-based, so BM25 scores and cosines need no common scale.

use std::collections::HashMap;
use std::hash::Hash;

/// The constant from Cormack et al. (2009); larger values flatten the top ranks' advantage.
pub const RRF_K: f32 = 60.0;

/// One source's ranked results, best first.
pub struct Ranked<T> {
    pub weight: f32,
    pub items: Vec<(T, f32)>,
}

/// A fused result: the sum of votes, normalised to 0..1 (1 = ranked first by every source with
/// weight), and each source's rank (1-based) and own score where it ranked the item.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused<T> {
    pub item: T,
    pub score: f32,
    pub sources: Vec<Option<(usize, f32)>>,
}

pub fn rrf<T: Clone + Eq + Hash>(sources: &[Ranked<T>], k: f32) -> Vec<Fused<T>> {
    let best: f32 = sources.iter().map(|s| s.weight / (k + 1.0)).sum();
    let mut order: Vec<T> = Vec::new();
    let mut fused: HashMap<T, Fused<T>> = HashMap::new();
    for (s, source) in sources.iter().enumerate() {
        for (index, (item, score)) in source.items.iter().enumerate() {
            let rank = index + 1;
            let entry = fused.entry(item.clone()).or_insert_with(|| {
                order.push(item.clone());
                Fused { item: item.clone(), score: 0.0, sources: vec![None; sources.len()] }
            });
            // A source listing an item twice counts only its best rank.
            if entry.sources[s].is_none() {
                entry.score += source.weight / (k + rank as f32);
                entry.sources[s] = Some((rank, *score));
            }
        }
    }
    let mut results: Vec<Fused<T>> = order.into_iter().filter_map(|item| fused.remove(&item)).collect();
    if best > 0.0 {
        for r in &mut results {
            r.score /= best;
        }
    }
    // Stable: ties keep first-seen order (the first source's ranking breaks them).
    results.sort_by(|a, b| b.score.total_cmp(&a.score));
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(weight: f32, items: &[&'static str]) -> Ranked<&'static str> {
        Ranked { weight, items: items.iter().enumerate().map(|(i, s)| (*s, 10.0 - i as f32)).collect() }
    }

    #[test]
    fn an_item_both_sources_rank_well_beats_one_only_one_source_ranks_first() {
        let fused = rrf(&[ranked(1.0, &["a", "b", "c"]), ranked(1.0, &["d", "b", "a"])], RRF_K);
        let order: Vec<_> = fused.iter().map(|f| f.item).collect();
        // a: 1/61 + 1/63 = 0.032266 just beats b: 2/62 = 0.032258; d, first for one source only, is third.
        assert_eq!(order, ["a", "b", "d", "c"]);
        let b = 2.0 / 62.0 / (2.0 / 61.0);
        assert!((fused[1].score - b).abs() < 1e-6);
        assert_eq!(fused[1].sources, vec![Some((2, 9.0)), Some((2, 9.0))]);
        assert_eq!(fused[2].sources, vec![None, Some((1, 10.0))]);
    }

    #[test]
    fn first_everywhere_scores_one_and_weights_shift_the_order() {
        let fused = rrf(&[ranked(1.0, &["a", "b"]), ranked(1.0, &["a", "c"])], RRF_K);
        assert!((fused[0].score - 1.0).abs() < 1e-6);
        let lexical_heavy = rrf(&[ranked(3.0, &["x", "y"]), ranked(1.0, &["y", "x"])], RRF_K);
        assert_eq!(lexical_heavy[0].item, "x");
        let semantic_heavy = rrf(&[ranked(1.0, &["x", "y"]), ranked(3.0, &["y", "x"])], RRF_K);
        assert_eq!(semantic_heavy[0].item, "y");
        let off = rrf(&[ranked(0.0, &["x"]), ranked(1.0, &["y"])], RRF_K);
        assert_eq!(off[0].item, "y", "a zero weight source only adds candidates");
    }

    #[test]
    fn empty_and_duplicate_inputs_are_handled() {
        assert!(rrf::<&str>(&[], RRF_K).is_empty());
        assert!(rrf(&[ranked(1.0, &[]), ranked(1.0, &[])], RRF_K).is_empty());
        let fused = rrf(&[ranked(1.0, &["a", "a", "b"])], RRF_K);
        assert_eq!(fused.len(), 2);
        assert_eq!(fused[0].sources[0], Some((1, 10.0)));
        // Equal scores keep the first source's order.
        let tie = rrf(&[ranked(1.0, &["p", "q"]), ranked(1.0, &["q", "p"])], RRF_K);
        assert_eq!(tie.iter().map(|f| f.item).collect::<Vec<_>>(), ["p", "q"]);
    }
}
