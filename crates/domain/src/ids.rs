//! Newtype ids: a `QuoteId` cannot be passed where a `UserId` is expected.

macro_rules! uuid_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// The raw UUID.
            pub fn into_uuid(self) -> uuid::Uuid {
                self.0
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

macro_rules! bigint_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

uuid_id! {
    /// A platform user (customer or agent; admins are users too).
    UserId;
    /// A driver of a user.
    DriverId;
    /// A vehicle of a user.
    VehicleId;
    /// A quote.
    QuoteId;
    /// A quote version (immutable rating snapshot).
    QuoteVersionId;
    /// A base rate.
    BaseRateId;
    /// A territory factor.
    TerritoryFactorId;
    /// A discount rule.
    DiscountRuleId;
    /// A surcharge rule.
    SurchargeRuleId;
    /// An SSO provider.
    SsoProviderId;
    /// An OAuth2 client (the row id, not the public client_id).
    OAuth2ClientRowId;
    /// A user session.
    SessionId;
    /// A websocket connection.
    ConnectionId;
    /// A queued notification.
    NotificationId;
    /// An admin role.
    AdminRoleId;
    /// An admin permission.
    AdminPermissionId;
    /// An admin user (the admin_users row).
    AdminUserId;
    /// An admin dashboard.
    DashboardId;
    /// A rate change request.
    RateChangeRequestId;
}

bigint_id! {
    /// An audit log entry.
    AuditLogId;
    /// An analytics event.
    AnalyticsEventId;
    /// An admin activity log entry.
    AdminActivityId;
}
