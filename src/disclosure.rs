//! Disclosure control: the threshold policy, and the engine that protects linked tables.
//!
//! The importer builds one system of cells and additive equations per (program, metric)
//! (`src/seed/system.rs`) and calls [`linked::protect`], which hides small counts and
//! whatever would let an attacker pin or narrow them, then audits the result; only the
//! published values are stored, so no query path can bypass it. The rules, the attacker
//! model and the guarantee are in the [`linked`] module documentation and in
//! `docs/disclosure-control.md`. This file holds what the rest of the service shares: the
//! threshold ([`Policy`], [`DEFAULT_K`], [`MIN_ALLOWED_K`]) and the one suppression reason.
//! The module is pure: no I/O, no logging, and no error names a raw value.

mod audit;
mod closure;
pub mod linked;
mod lp;

use thiserror::Error;

/// The smallest threshold the service accepts: `k` below 5 is refused at start-up.
pub const MIN_ALLOWED_K: i64 = 5;

/// The default threshold, `k` = 11 (the CMS rule: suppress counts of 1 to 10).
pub const DEFAULT_K: i64 = 11;

/// The one reason recorded for every suppressed cell, primary and complementary alike
/// (telling them apart would tell an attacker which cells are small).
pub const SUPPRESSION_REASON: &str = "small_count";

/// The disclosure-control threshold: counts `v` with `1 <= v < k` are never published.
///
/// Construct it with [`Policy::new`], which refuses thresholds below [`MIN_ALLOWED_K`];
/// [`Policy::default`] gives [`DEFAULT_K`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    k: i64,
}

impl Policy {
    /// A policy with threshold `k`.
    ///
    /// Returns [`PolicyError::BelowMinimum`] when `k < MIN_ALLOWED_K`; its message names the
    /// setting (`--min-cell`, env `SANCTUARY_MIN_CELL`) and the minimum.
    pub fn new(k: i64) -> Result<Policy, PolicyError> {
        if k < MIN_ALLOWED_K {
            Err(PolicyError::BelowMinimum { k })
        } else {
            Ok(Policy { k })
        }
    }

    /// The threshold `k`: counts from 1 to `k - 1` are suppressed.
    pub fn k(&self) -> i64 {
        self.k
    }
}

impl Default for Policy {
    /// The policy with [`DEFAULT_K`].
    fn default() -> Self {
        Policy { k: DEFAULT_K }
    }
}

/// A threshold the service refuses to run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The configured threshold is below [`MIN_ALLOWED_K`].
    #[error(
        "--min-cell (env SANCTUARY_MIN_CELL) is {k}, but it must be at least {min}: smaller counts can identify people",
        min = MIN_ALLOWED_K
    )]
    BelowMinimum {
        /// The refused threshold (a setting, not data).
        k: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_below_minimum_names_the_setting_and_the_minimum() {
        let error = Policy::new(4).unwrap_err();
        assert_eq!(error, PolicyError::BelowMinimum { k: 4 });
        let message = error.to_string();
        assert!(message.contains("--min-cell"), "{message}");
        assert!(message.contains("SANCTUARY_MIN_CELL"), "{message}");
        assert!(message.contains("at least 5"), "{message}");
        assert_eq!(Policy::new(5).unwrap().k(), 5);
        assert_eq!(Policy::new(DEFAULT_K).unwrap().k(), 11);
        assert_eq!(Policy::default().k(), DEFAULT_K);
        assert!(Policy::new(i64::MIN).is_err());
    }
}
