//! The shipped GTZAN head gets the same treatment as a learned one: per-genre
//! thresholds for a target precision, chosen on the card's held-out
//! evaluation (`metrics.files`: truth, predicted, confidence per clip).

use crate::model::ModelCard;

use super::train::thresholds_from;

/// Thresholds for the card's labels; all None (always unsure) when the card
/// records no per-file evaluation.
pub fn card_thresholds(card: &ModelCard, target: f64) -> Vec<Option<f32>> {
    let k = card.labels.len();
    let files = card
        .metrics
        .as_ref()
        .and_then(|m| m.get("files"))
        .and_then(|f| f.as_array());
    let index = |v: Option<&serde_json::Value>| {
        let name = v?.as_str()?;
        card.labels.iter().position(|l| l == name)
    };
    let said: Vec<(usize, f32, bool)> = files
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let predicted = index(f.get("predicted"))?;
            let truth = index(f.get("truth"))?;
            let conf = f.get("confidence")?.as_f64()? as f32;
            Some((predicted, conf, predicted == truth))
        })
        .collect();
    thresholds_from(&said, k, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_cards_give_thresholds() {
        for name in ["accurate", "fast"] {
            let card = crate::model::shipped_card(name).unwrap();
            let t = card_thresholds(&card, 0.9);
            assert_eq!(t.len(), 10);
            // classical is the easiest GTZAN genre: it must be reachable.
            assert!(t[1].is_some(), "{name}: {t:?}");
        }
    }
}
