//! What to generate: the configuration of a load and the row counts its scale means.

use super::VolumeError;
use super::admin;
use super::users::Kind;

/// What to generate.
#[derive(Debug, Clone)]
pub struct VolumeConfig {
    /// Size: 1.0 = 10 000 quotes (see the module docs); fractions allowed (tests use 0.02).
    pub scale: f64,
    /// Random seed: the same seed (and anchor, scale, reference data) gives the same rows.
    pub seed: u64,
    /// The data set's "now": every timestamp is relative to it (most quotes in the 3 months
    /// before it, audit logs over the year before it...).
    pub anchor: ::time::OffsetDateTime,
    /// Draw progress bars on stderr (only when it is a terminal).
    pub progress: bool,
}

impl VolumeConfig {
    /// `scale` and `seed` anchored at the current UTC midnight, with progress bars.
    pub fn new(scale: f64, seed: u64) -> Self {
        Self {
            scale,
            seed,
            anchor: Self::today(),
            progress: true,
        }
    }

    /// The current UTC midnight (the default anchor).
    pub fn today() -> ::time::OffsetDateTime {
        ::time::OffsetDateTime::now_utc().date().midnight().assume_utc()
    }
}

/// How many parents a scale means (children follow from each parent's own draws).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// users with role customer.
    pub customers: u64,
    /// users with role agent (assigned to quotes).
    pub agents: u64,
    /// Staff users behind the admin accounts (role agent, never assigned quotes).
    pub staff: u64,
    /// quotes.
    pub quotes: u64,
    /// admin_activity_logs rows.
    pub activity_logs: u64,
    /// Pending rate_change_requests.
    pub rate_requests: u64,
}

impl Plan {
    /// The plan of a scale (1.0 = 10 000 quotes).
    pub fn for_scale(scale: f64) -> Result<Self, VolumeError> {
        if !scale.is_finite() || scale <= 0.0 || scale > 100_000.0 {
            return Err(VolumeError::InvalidConfig(format!(
                "scale must be a positive number up to 100000, got {scale}"
            )));
        }
        let n = |per_unit: f64, min: u64| ((per_unit * scale).round() as u64).max(min);
        Ok(Self {
            customers: n(2_500.0, 2),
            agents: n(40.0, 1),
            staff: admin::ADMIN_ROLES.len() as u64,
            quotes: n(10_000.0, 1),
            activity_logs: n(5_000.0, 1),
            rate_requests: n(12.0, 2),
        })
    }

    /// All users (customers, then agents, then staff, by index).
    pub fn users(&self) -> u64 {
        self.customers + self.agents + self.staff
    }

    pub(crate) fn kind_of(&self, idx: u64) -> Kind {
        if idx < self.customers {
            Kind::Customer
        } else if idx < self.customers + self.agents {
            Kind::Agent
        } else {
            Kind::Staff
        }
    }

    /// User index of staff member `j`.
    pub(crate) fn staff_user(&self, j: u64) -> u64 {
        self.customers + self.agents + j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_scales_linearly_with_floors() {
        let one = Plan::for_scale(1.0).expect("plan");
        assert_eq!(
            (one.quotes, one.customers, one.agents, one.staff),
            (10_000, 2_500, 40, 8)
        );
        let ten = Plan::for_scale(10.0).expect("plan");
        assert_eq!(ten.quotes, 100_000);
        let tiny = Plan::for_scale(0.0001).expect("plan");
        assert!(tiny.quotes >= 1 && tiny.customers >= 2 && tiny.agents >= 1);
        assert!(Plan::for_scale(0.0).is_err() && Plan::for_scale(f64::INFINITY).is_err());
    }
}
