//! The SECURITY DEFINER helpers that row-level-security policies call on almost every statement
//! (`admin_has_permission`, `app_admin_user_id`, `public_setting`) carry no `SET search_path`
//! clause: it cost about 0.1 ms a call on PostgreSQL 15. They are safe without it only if nothing
//! in their bodies is looked up through the caller's search_path. These tests put a hostile schema
//! first in search_path, with an `=`, a `<=`, a `now()` and a `text` type that raise when used,
//! and check that the helpers still answer correctly and never touch them.

use crate::common::{acting_as, two_settings, user};
use quotedb_testkit::TestDb;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

const HOSTILE: &str = r#"
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.boom_uuid(uuid, uuid) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: uuid ='; END $$;
CREATE FUNCTION hostile.boom_text(text, text) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: text ='; END $$;
CREATE FUNCTION hostile.boom_ts(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: timestamptz <='; END $$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: now()'; END $$;
CREATE OPERATOR hostile.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = hostile.boom_uuid);
CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.boom_text);
CREATE OPERATOR hostile.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.boom_ts);
CREATE FUNCTION hostile.boom_check(text) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: text type'; END $$;
CREATE DOMAIN hostile.text AS pg_catalog.text CHECK (hostile.boom_check(VALUE));
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
"#;

struct Fixture {
    admin_user: Uuid,
    admin_id: Uuid,
    customer: Uuid,
}

async fn fixture(pool: &PgPool) -> Fixture {
    let (admin_user, admin_id): (Uuid, Uuid) = sqlx::query_as(
        "WITH r AS (INSERT INTO admin_roles (name, description) VALUES ('reader', 'reads quotes') RETURNING id),
              p AS (INSERT INTO admin_permissions (code, description, risk_level)
                    VALUES ('quotes:read', 'read every quote', 'low') RETURNING id),
              g AS (INSERT INTO admin_role_permissions (role_id, permission_id) SELECT r.id, p.id FROM r, p),
              u AS (INSERT INTO users (email, full_name, role) VALUES ('ada@example.com', 'Ada', 'agent') RETURNING id),
              a AS (INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT u.id, r.id, true FROM u, r
                    RETURNING user_id, id)
         SELECT user_id, id FROM a",
    )
    .fetch_one(pool)
    .await
    .expect("admin fixture");
    let customer = user(pool, "cy@example.com", "customer").await;
    two_settings(pool).await;
    sqlx::raw_sql(HOSTILE).execute(pool).await.expect("hostile schema");
    Fixture {
        admin_user,
        admin_id,
        customer,
    }
}

/// A transaction of quotedb_app acting as `user`, with the hostile schema first in search_path.
async fn hostile_session(pool: &PgPool, user: Uuid) -> Transaction<'static, Postgres> {
    let mut tx = acting_as(pool, Some(user)).await;
    sqlx::query("SET LOCAL search_path = hostile, pg_catalog, public")
        .execute(&mut *tx)
        .await
        .expect("hostile search_path");
    tx
}

#[tokio::test]
async fn the_hostile_schema_does_hijack_unqualified_sql() {
    // The attack is live: without qualification, `=` and now() resolve to the hostile schema.
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let f = fixture(db.pool()).await;
    for sql in [
        "SELECT gen_random_uuid() = gen_random_uuid()",
        "SELECT 'a'::text = 'b'::text",
        "SELECT now() IS NULL",
        "SELECT 'x'::text IS NULL",
    ] {
        let mut tx = hostile_session(db.pool(), f.customer).await;
        let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
        assert!(err.to_string().contains("hijacked"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn definer_helpers_ignore_a_hostile_search_path() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let f = fixture(db.pool()).await;

    let mut tx = hostile_session(db.pool(), f.admin_user).await;
    let (holds, lacks, customer_holds): (bool, bool, bool) = sqlx::query_as(
        "SELECT public.admin_has_permission($1, 'quotes:read'),
                public.admin_has_permission($1, 'settings:write'),
                public.admin_has_permission($2, 'quotes:read')",
    )
    .bind(f.admin_user)
    .bind(f.customer)
    .fetch_one(&mut *tx)
    .await
    .expect("admin_has_permission under a hostile search_path");
    assert!(holds, "the admin's role holds quotes:read");
    assert!(!lacks, "the admin's role does not hold settings:write");
    assert!(!customer_holds, "a customer holds no admin permission");

    let acting_admin: Option<Uuid> = sqlx::query_scalar("SELECT public.app_admin_user_id()")
        .fetch_one(&mut *tx)
        .await
        .expect("app_admin_user_id under a hostile search_path");
    assert_eq!(acting_admin, Some(f.admin_id));

    let (cap, secret): (Option<serde_json::Value>, Option<serde_json::Value>) = sqlx::query_as(
        "SELECT public.public_setting('rating.discount_cap'), public.public_setting('integrations.partner_api_key')",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("public_setting under a hostile search_path");
    assert_eq!(cap, Some(serde_json::json!(0.25)));
    assert_eq!(secret, None, "a sensitive setting is never returned");
    drop(tx);

    // A customer acting: not an admin.
    let mut tx = hostile_session(db.pool(), f.customer).await;
    let acting_admin: Option<Uuid> = sqlx::query_scalar("SELECT public.app_admin_user_id()")
        .fetch_one(&mut *tx)
        .await
        .expect("app_admin_user_id as a customer");
    assert_eq!(acting_admin, None);
}
