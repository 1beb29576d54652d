//! Risk scoring of admin actions: a pure function of an [`ActivityContext`], explainable factor
//! by factor.
//!
//! The score is the sum of the weights of the factors that apply, capped at 100; 70 and above is
//! high risk (`admin_activity_logs_occurred_at_high_risk_idx`). The factors:
//!
//! | code | weight | applies when |
//! |---|---|---|
//! | `critical_permission` | 40 | the action exercises a permission registered as `critical` |
//! | `high_permission` | 25 | … registered as `high` |
//! | `medium_permission` | 10 | … registered as `medium` (`low`: no factor) |
//! | `permission_not_held` | 30 | the admin does not hold the permission the action names (an attempt) |
//! | `ip_not_allowed` | 30 | the request address is outside the admin's allowed IP ranges |
//! | `new_ip` | 10 | the address differs from the admin's last login address (or there is none) |
//! | `off_hours` | 15 | outside 07:00–19:00 UTC, or on a Saturday or Sunday |
//! | `destructive_action` | 20 | the action's verb is one of [`DESTRUCTIVE_VERBS`] |
//! | `bulk_action` | 15 | it affected [`BULK_THRESHOLD`] rows or more |
//! | `failed_logins` | 5 per failure, at most 25 | the admin has failed logins since their last success |
//! | `sensitive_setting` | 25 | the resource is a sensitive system setting |
//!
//! Example: deleting a sensitive setting with a `critical` permission scores 40 + 20 + 25 = 85.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use quotedb_schema::admin::AdminPermissionRiskLevel;
use time::{OffsetDateTime, Weekday};

/// Scores at or above this are high risk (the literal `risk_score >= 70` of the high-risk page).
pub const HIGH_RISK_THRESHOLD: u8 = 70;
/// The largest score.
pub const MAX_SCORE: u8 = 100;
/// Rows affected from which an action counts as bulk.
pub const BULK_THRESHOLD: u64 = 100;
/// Working hours, UTC: from the first hour (inclusive) to the second (exclusive), Monday to Friday.
pub const WORKING_HOURS_UTC: (u8, u8) = (7, 19);
/// Verbs that make an action destructive (matched against the words of the action name).
pub const DESTRUCTIVE_VERBS: &[&str] = &[
    "delete",
    "remove",
    "revoke",
    "deactivate",
    "purge",
    "destroy",
    "drop",
    "truncate",
    "wipe",
    "disable",
    "reset",
];
/// Weight per consecutive failed login, and the most that factor adds.
pub const FAILED_LOGIN_WEIGHT: (u8, u8) = (5, 25);

/// Why a score was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFactorCode {
    /// The action exercises a critical permission.
    CriticalPermission,
    /// The action exercises a high-risk permission.
    HighPermission,
    /// The action exercises a medium-risk permission.
    MediumPermission,
    /// The admin does not hold the permission the action names.
    PermissionNotHeld,
    /// The address is outside the admin's allowed ranges.
    IpNotAllowed,
    /// The address is not the admin's last login address.
    NewIp,
    /// Outside working hours.
    OffHours,
    /// Deletes, revokes, deactivates, ….
    DestructiveAction,
    /// Touches many rows.
    BulkAction,
    /// Failed logins since the last success.
    FailedLogins,
    /// Touches a sensitive system setting.
    SensitiveSetting,
}

impl RiskFactorCode {
    /// The stored name (an element of `admin_activity_logs.risk_factors`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CriticalPermission => "critical_permission",
            Self::HighPermission => "high_permission",
            Self::MediumPermission => "medium_permission",
            Self::PermissionNotHeld => "permission_not_held",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::NewIp => "new_ip",
            Self::OffHours => "off_hours",
            Self::DestructiveAction => "destructive_action",
            Self::BulkAction => "bulk_action",
            Self::FailedLogins => "failed_logins",
            Self::SensitiveSetting => "sensitive_setting",
        }
    }

    /// The fixed weight of the factor (`failed_logins` varies: see [`FAILED_LOGIN_WEIGHT`]).
    pub fn weight(self) -> u8 {
        match self {
            Self::CriticalPermission => 40,
            Self::HighPermission => 25,
            Self::MediumPermission => 10,
            Self::PermissionNotHeld => 30,
            Self::IpNotAllowed => 30,
            Self::NewIp => 10,
            Self::OffHours => 15,
            Self::DestructiveAction => 20,
            Self::BulkAction => 15,
            Self::FailedLogins => FAILED_LOGIN_WEIGHT.1,
            Self::SensitiveSetting => 25,
        }
    }
}

impl std::fmt::Display for RiskFactorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a score was raised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RiskFactor {
    /// Which factor.
    pub code: RiskFactorCode,
    /// How much it added (before the cap).
    pub weight: u8,
    /// In words, with the values that triggered it.
    pub reason: String,
}

/// A score and its explanation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RiskAssessment {
    /// 0 (routine) to 100: the sum of the factor weights, capped at 100.
    pub score: u8,
    /// Every factor that applied.
    pub factors: Vec<RiskFactor>,
}

impl RiskAssessment {
    /// Whether the score is high risk (≥ [`HIGH_RISK_THRESHOLD`]).
    pub fn is_high_risk(&self) -> bool {
        self.score >= HIGH_RISK_THRESHOLD
    }

    /// The factor names, as stored in `admin_activity_logs.risk_factors`.
    pub fn factor_codes(&self) -> Vec<&'static str> {
        self.factors.iter().map(|f| f.code.as_str()).collect()
    }
}

/// Everything the score depends on; `record` gathers it from the database in one statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActivityContext {
    /// What was done, e.g. `settings.delete` (its words are matched against [`DESTRUCTIVE_VERBS`]).
    pub action: String,
    /// The permission code the action exercises, if any.
    pub permission: Option<String>,
    /// The registered risk level of that permission (`None`: no permission, or not registered).
    pub permission_risk: Option<AdminPermissionRiskLevel>,
    /// Whether the admin holds that permission (ignored without a permission).
    pub holds_permission: bool,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Where the request came from.
    pub ip: Option<IpAddr>,
    /// The admin's last login address.
    pub last_login_ip: Option<IpAddr>,
    /// The admin's allowed networks (`None`: unrestricted).
    pub allowed_ip_ranges: Option<Vec<IpNetwork>>,
    /// Consecutive failed logins since the admin's last success.
    pub failed_login_attempts: u32,
    /// Rows affected, when known.
    pub affected_count: Option<u64>,
    /// Whether the resource is a sensitive system setting.
    pub sensitive_setting: bool,
}

/// The words of an action name (split on anything but letters and digits, lower-cased).
fn words(action: &str) -> impl Iterator<Item = String> + '_ {
    action
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Score an action. Pure: the same context always gives the same assessment.
pub fn score(ctx: &ActivityContext) -> RiskAssessment {
    let mut factors = Vec::new();
    let mut add = |code: RiskFactorCode, weight: u8, reason: String| factors.push(RiskFactor { code, weight, reason });

    if let Some(permission) = &ctx.permission {
        let level = match ctx.permission_risk {
            Some(AdminPermissionRiskLevel::Critical) => Some(RiskFactorCode::CriticalPermission),
            Some(AdminPermissionRiskLevel::High) => Some(RiskFactorCode::HighPermission),
            Some(AdminPermissionRiskLevel::Medium) => Some(RiskFactorCode::MediumPermission),
            Some(AdminPermissionRiskLevel::Low) | None => None,
        };
        if let (Some(code), Some(risk)) = (level, ctx.permission_risk) {
            add(
                code,
                code.weight(),
                format!("exercises {permission}, a {risk}-risk permission"),
            );
        }
        if !ctx.holds_permission {
            let code = RiskFactorCode::PermissionNotHeld;
            add(code, code.weight(), format!("the admin does not hold {permission}"));
        }
    }

    if let Some(ip) = ctx.ip {
        if let Some(ranges) = &ctx.allowed_ip_ranges
            && !ranges.iter().any(|net| net.contains(ip))
        {
            let code = RiskFactorCode::IpNotAllowed;
            let list = ranges.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            add(
                code,
                code.weight(),
                format!("{ip} is outside the allowed ranges {list}"),
            );
        }
        match ctx.last_login_ip {
            Some(last) if last == ip => {}
            Some(last) => {
                let code = RiskFactorCode::NewIp;
                add(
                    code,
                    code.weight(),
                    format!("{ip} differs from the last login address {last}"),
                );
            }
            None => {
                let code = RiskFactorCode::NewIp;
                add(code, code.weight(), format!("{ip} is new: no login recorded yet"));
            }
        }
    }

    let at = ctx.at.to_offset(time::UtcOffset::UTC);
    let weekend = matches!(at.weekday(), Weekday::Saturday | Weekday::Sunday);
    let (open, close) = WORKING_HOURS_UTC;
    if weekend || !(open..close).contains(&at.hour()) {
        let code = RiskFactorCode::OffHours;
        let when = if weekend {
            "on a weekend"
        } else {
            "outside working hours"
        };
        add(
            code,
            code.weight(),
            format!(
                "{:?} {:02}:{:02} UTC is {when} ({open:02}:00–{close:02}:00 UTC, Mon–Fri)",
                at.weekday(),
                at.hour(),
                at.minute()
            ),
        );
    }

    if let Some(verb) = words(&ctx.action).find(|w| DESTRUCTIVE_VERBS.contains(&w.as_str())) {
        let code = RiskFactorCode::DestructiveAction;
        add(code, code.weight(), format!("{:?} is destructive ({verb})", ctx.action));
    }

    if let Some(n) = ctx.affected_count.filter(|&n| n >= BULK_THRESHOLD) {
        let code = RiskFactorCode::BulkAction;
        add(
            code,
            code.weight(),
            format!("affects {n} rows (bulk from {BULK_THRESHOLD})"),
        );
    }

    if ctx.failed_login_attempts > 0 {
        let (per, max) = FAILED_LOGIN_WEIGHT;
        let weight = u8::try_from(ctx.failed_login_attempts.saturating_mul(u32::from(per)))
            .unwrap_or(max)
            .min(max);
        add(
            RiskFactorCode::FailedLogins,
            weight,
            format!("{} failed login(s) since the last success", ctx.failed_login_attempts),
        );
    }

    if ctx.sensitive_setting {
        let code = RiskFactorCode::SensitiveSetting;
        add(code, code.weight(), "touches a sensitive system setting".to_owned());
    }

    let total: u32 = factors.iter().map(|f| u32::from(f.weight)).sum();
    let score = u8::try_from(total.min(u32::from(MAX_SCORE))).unwrap_or(MAX_SCORE);
    RiskAssessment { score, factors }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// A routine context: Wednesday 10:00 UTC, same IP as last login, low-risk permission held.
    fn routine() -> ActivityContext {
        ActivityContext {
            action: "quotes.view".into(),
            permission: Some("quotes:read".into()),
            permission_risk: Some(AdminPermissionRiskLevel::Low),
            holds_permission: true,
            at: datetime!(2026-01-07 10:00 UTC),
            ip: Some([10, 0, 0, 1].into()),
            last_login_ip: Some([10, 0, 0, 1].into()),
            allowed_ip_ranges: None,
            failed_login_attempts: 0,
            affected_count: Some(1),
            sensitive_setting: false,
        }
    }

    fn codes(a: &RiskAssessment) -> Vec<&'static str> {
        a.factor_codes()
    }

    #[test]
    fn a_routine_action_scores_zero_with_no_factors() {
        let a = score(&routine());
        assert_eq!(a.score, 0);
        assert!(a.factors.is_empty());
    }

    #[test]
    fn each_factor_is_explained_and_the_score_is_their_sum() {
        let mut ctx = routine();
        ctx.action = "settings.delete".into();
        ctx.permission = Some("settings:write".into());
        ctx.permission_risk = Some(AdminPermissionRiskLevel::Critical);
        ctx.sensitive_setting = true;
        let a = score(&ctx);
        assert_eq!(
            codes(&a),
            ["critical_permission", "destructive_action", "sensitive_setting"]
        );
        assert_eq!(a.score, 40 + 20 + 25);
        assert!(a.is_high_risk());
        assert!(a.factors.iter().all(|f| !f.reason.is_empty()));
        assert!(a.factors[1].reason.contains("delete"));
    }

    #[test]
    fn the_score_is_capped_at_100() {
        let mut ctx = routine();
        ctx.action = "users.bulk_deactivate".into();
        ctx.permission_risk = Some(AdminPermissionRiskLevel::Critical);
        ctx.holds_permission = false;
        ctx.at = datetime!(2026-01-10 03:00 UTC); // Saturday night
        ctx.ip = Some([203, 0, 113, 9].into());
        ctx.allowed_ip_ranges = Some(vec![IpNetwork::from(IpAddr::from([10, 0, 0, 0]))]);
        ctx.failed_login_attempts = 9;
        ctx.affected_count = Some(5_000);
        ctx.sensitive_setting = true;
        let a = score(&ctx);
        let sum: u32 = a.factors.iter().map(|f| u32::from(f.weight)).sum();
        assert!(sum > 100);
        assert_eq!(a.score, 100);
        assert_eq!(a.factors.len(), 9);
        let failed = a.factors.iter().find(|f| f.code == RiskFactorCode::FailedLogins);
        assert_eq!(failed.map(|f| f.weight), Some(25));
    }

    #[test]
    fn off_hours_is_evening_night_and_weekend_in_utc() {
        let at = |t| score(&ActivityContext { at: t, ..routine() });
        assert_eq!(codes(&at(datetime!(2026-01-07 06:59 UTC))), ["off_hours"]);
        assert!(codes(&at(datetime!(2026-01-07 07:00 UTC))).is_empty());
        assert!(codes(&at(datetime!(2026-01-07 18:59 UTC))).is_empty());
        assert_eq!(codes(&at(datetime!(2026-01-07 19:00 UTC))), ["off_hours"]);
        assert_eq!(codes(&at(datetime!(2026-01-11 12:00 UTC))), ["off_hours"]); // Sunday
        // 10:00 in New York is 15:00 UTC: working hours.
        assert!(codes(&at(datetime!(2026-01-07 10:00 -5))).is_empty());
    }

    #[test]
    fn addresses_outside_the_allow_list_and_new_addresses_are_factors() {
        let mut ctx = routine();
        ctx.allowed_ip_ranges = Some(vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]);
        assert!(codes(&score(&ctx)).is_empty());
        ctx.ip = Some([10, 9, 9, 9].into());
        assert_eq!(codes(&score(&ctx)), ["new_ip"]);
        ctx.ip = Some([192, 168, 0, 1].into());
        assert_eq!(codes(&score(&ctx)), ["ip_not_allowed", "new_ip"]);
        ctx.last_login_ip = None;
        ctx.allowed_ip_ranges = None;
        assert_eq!(codes(&score(&ctx)), ["new_ip"]);
        ctx.ip = None;
        assert!(codes(&score(&ctx)).is_empty());
    }

    #[test]
    fn permission_levels_weigh_differently_and_missing_grants_count() {
        let with = |risk, holds| {
            score(&ActivityContext {
                permission_risk: risk,
                holds_permission: holds,
                ..routine()
            })
            .score
        };
        assert_eq!(with(Some(AdminPermissionRiskLevel::Low), true), 0);
        assert_eq!(with(Some(AdminPermissionRiskLevel::Medium), true), 10);
        assert_eq!(with(Some(AdminPermissionRiskLevel::High), true), 25);
        assert_eq!(with(Some(AdminPermissionRiskLevel::Critical), true), 40);
        assert_eq!(with(Some(AdminPermissionRiskLevel::High), false), 55);
        assert_eq!(with(None, false), 30);
        let none = score(&ActivityContext {
            permission: None,
            holds_permission: false,
            ..routine()
        });
        assert_eq!(none.score, 0);
    }

    #[test]
    fn destructive_verbs_bulk_and_failed_logins() {
        let s = |action: &str, affected, failed| {
            score(&ActivityContext {
                action: action.into(),
                affected_count: affected,
                failed_login_attempts: failed,
                ..routine()
            })
        };
        assert_eq!(s("Admin_Users.Deactivate", None, 0).score, 20);
        assert_eq!(s("undelete", None, 0).score, 0); // whole words only
        assert_eq!(s("quotes.export", Some(99), 0).score, 0);
        assert_eq!(s("quotes.export", Some(100), 0).score, 15);
        assert_eq!(s("quotes.view", None, 2).score, 10);
        assert_eq!(s("quotes.view", None, 1000).score, 25);
    }
}
