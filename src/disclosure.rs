//! TEMPORARY stand-in until the disclosure module lands (replaced by the real one).
pub const MIN_ALLOWED_K: i64 = 5;
pub const DEFAULT_K: i64 = 11;
pub const SUPPRESSION_REASON: &str = "small_count";
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    k: i64,
}
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("--min-cell must be at least 5")]
    BelowMinimum { k: i64 },
}
impl Policy {
    pub fn new(k: i64) -> Result<Policy, PolicyError> {
        if k < MIN_ALLOWED_K {
            Err(PolicyError::BelowMinimum { k })
        } else {
            Ok(Policy { k })
        }
    }
    pub fn k(&self) -> i64 {
        self.k
    }
}
pub struct Family<'a> {
    pub total: Option<i64>,
    pub breakdowns: &'a [Vec<i64>],
}
pub struct Protection {
    pub total_suppressed: bool,
    pub suppressed: Vec<Vec<bool>>,
}
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error("x")]
    NotAdditive { breakdown: usize },
    #[error("y")]
    AuditFailed { breakdown: Option<usize> },
    #[error("z")]
    NegativeValue { breakdown: usize },
}
pub fn protect(_p: Policy, f: &Family, _c: &[Vec<String>]) -> Result<Protection, DisclosureError> {
    Ok(Protection {
        total_suppressed: false,
        suppressed: f.breakdowns.iter().map(|b| vec![false; b.len()]).collect(),
    })
}
