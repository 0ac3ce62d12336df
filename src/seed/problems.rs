//! Problems: one thing wrong with the input, located to the cell, and the bounded list
//! of them an import reports.

use super::*;

/// How many problems are listed before the rest are only counted.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// One thing wrong with the input, located to the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value: String = self.value.chars().take(80).collect();
        if self.value.chars().count() > 80 {
            value.push('…');
        }
        write!(
            f,
            "{}:{}:{} ({}): {:?} — expected {}",
            self.file, self.line, self.column, self.field, value, self.expected
        )
    }
}

/// Every problem found in a bundle (the first [`MAX_LISTED_PROBLEMS`] are kept).
#[derive(Debug, Default)]
pub struct Problems {
    pub listed: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    pub(super) fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(problem);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.total == 0
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.listed {
            writeln!(f, "{problem}")?;
        }
        if self.total > self.listed.len() {
            writeln!(f, "… and {} more", self.total - self.listed.len())?;
        }
        write!(f, "{} problem(s); nothing was imported", self.total)
    }
}

impl std::error::Error for Problems {}
