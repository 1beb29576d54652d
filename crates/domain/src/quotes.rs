//! Quote values shared by the repository (what a caller asks for) and the volume generator (what
//! it records in a version's `rating_inputs`).

use quotedb_schema::quotes::CoverageType;
use rust_decimal::Decimal;

/// One requested coverage line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CoverageRequest {
    /// The coverage.
    pub coverage_type: CoverageType,
    /// Limit in dollars (≥ 0, cents at most); `None` = no stated limit.
    #[serde(default)]
    pub limit_amount: Option<Decimal>,
    /// Deductible in dollars (≥ 0, cents at most; 0 for coverages without one).
    pub deductible: Decimal,
}
