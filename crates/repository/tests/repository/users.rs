//! Users through the public API: customers and agents, their drivers and vehicles.

use quotedb_repository::schema::quotes::UserRole;
use quotedb_repository::users::{Driver, NewDriver, NewUser, NewVehicle, Phone, UserError, Vehicle};
use quotedb_repository::{Actor, Db, Email, UserId, Vin};
use time::OffsetDateTime;
use time::macros::date;

use crate::common::{self, Change, setup};

fn new_user(email: &Email) -> NewUser {
    NewUser {
        email: email.clone(),
        full_name: "  Ada Lovelace ".into(),
        phone: Some(Phone::parse("+15551234567").expect("phone")),
    }
}

fn driver() -> NewDriver {
    NewDriver {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        date_of_birth: date!(1990 - 12 - 10),
        licensed_since: Some(date!(2008 - 06 - 01)),
    }
}

fn vehicle(vin: &str, model_year: i16) -> NewVehicle {
    NewVehicle {
        vin: Vin::parse(vin).expect("vin"),
        make: "Honda".into(),
        model: "Accord".into(),
        model_year,
    }
}

fn this_year() -> i16 {
    i16::try_from(OffsetDateTime::now_utc().year()).expect("year")
}

/// `user`'s drivers, read as the user.
async fn drivers_of(repo: &Db, user: UserId) -> Vec<Driver> {
    repo.users()
        .drivers(&Actor::Customer(user), user)
        .await
        .expect("drivers")
}

/// `user`'s vehicles, read as the user.
async fn vehicles_of(repo: &Db, user: UserId) -> Vec<Vehicle> {
    repo.users()
        .vehicles(&Actor::Customer(user), user)
        .await
        .expect("vehicles")
}

/// `result` is refused as invalid input in `field`.
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, UserError>, field: &str) {
    let err = result.expect_err(field);
    assert!(
        matches!(err, UserError::Invalid(ref e) if e.field == field),
        "{field}: {err:?}"
    );
}

#[tokio::test]
async fn a_customer_is_created_and_found_by_id_and_by_email_in_any_case() {
    let (_db, repo) = setup().await;
    let email = common::email("Ada.Customer");
    let created = repo.users().create_customer(&new_user(&email)).await.expect("create");
    assert_eq!(created.role, UserRole::Customer);
    assert_eq!(created.full_name, "Ada Lovelace", "trimmed");
    assert_eq!(created.email, email);
    assert_eq!(created.phone.as_ref().map(Phone::as_str), Some("+15551234567"));

    assert_eq!(
        repo.users()
            .get(&Actor::Customer(created.id), created.id)
            .await
            .expect("by id"),
        created
    );
    let shouted = Email::parse(&email.as_str().to_uppercase()).expect("email");
    assert_eq!(
        repo.users()
            .get_by_email(&Actor::System, &shouted)
            .await
            .expect("by email"),
        created
    );
}

#[tokio::test]
async fn an_agent_is_created_with_the_agent_role_and_without_a_phone() {
    let (_db, repo) = setup().await;
    let mut new = new_user(&common::email("agent"));
    new.phone = None;
    let agent = repo.users().create_agent(&Actor::System, &new).await.expect("create");
    assert_eq!(agent.role, UserRole::Agent);
    assert_eq!(agent.phone, None);
}

#[tokio::test]
async fn an_email_address_is_taken_once_whatever_its_case() {
    let (_db, repo) = setup().await;
    let email = common::email("taken");
    repo.users().create_customer(&new_user(&email)).await.expect("first");
    let upper = Email::parse(&email.as_str().to_uppercase()).expect("email");
    let err = repo
        .users()
        .create_agent(&Actor::System, &new_user(&upper))
        .await
        .expect_err("taken");
    assert!(matches!(err, UserError::EmailTaken(ref e) if e == &upper), "{err:?}");
}

#[tokio::test]
async fn a_user_needs_a_name_and_a_valid_phone_number() {
    let (_db, repo) = setup().await;
    let mut new = new_user(&common::email("blank"));
    new.full_name = "   ".into();
    let err = repo.users().create_customer(&new).await.expect_err("blank name");
    assert!(
        matches!(err, UserError::Invalid(ref e) if e.field == "full_name"),
        "{err:?}"
    );
    // A phone number only exists validated: a caller's JSON with a bad one does not deserialise.
    let json = serde_json::json!({"email": "x@example.com", "full_name": "X", "phone": "555-1234"});
    assert!(serde_json::from_value::<NewUser>(json).is_err());
    assert!(matches!(
        repo.users().get_by_email(&Actor::System, &new.email).await,
        Err(UserError::NotFound)
    ));
}

#[tokio::test]
async fn unknown_users_are_not_found() {
    let (_db, repo) = setup().await;
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(
        repo.users().get(&Actor::Customer(ghost), ghost).await,
        Err(UserError::NotFound)
    ));
    assert!(matches!(
        repo.users().get_by_email(&Actor::System, &common::email("ghost")).await,
        Err(UserError::NotFound)
    ));
    assert!(matches!(
        repo.users().add_driver(&Actor::Customer(ghost), ghost, &driver()).await,
        Err(UserError::NotFound)
    ));
    assert!(matches!(
        repo.users()
            .add_vehicle(&Actor::Customer(ghost), ghost, &vehicle("1HGCM82633A004352", 2020))
            .await,
        Err(UserError::NotFound)
    ));
    assert!(drivers_of(&repo, ghost).await.is_empty());
}

#[tokio::test]
async fn drivers_are_added_and_listed_per_user() {
    let (_db, repo) = setup().await;
    let ada = common::customer(&repo, "ada").await;
    let bob = common::customer(&repo, "bob").await;
    let first = repo
        .users()
        .add_driver(&Actor::Customer(ada), ada, &driver())
        .await
        .expect("first");
    let mut teen = driver();
    teen.first_name = "Byron".into();
    teen.date_of_birth = date!(2009 - 03 - 01);
    teen.licensed_since = None;
    let second = repo
        .users()
        .add_driver(&Actor::Customer(ada), ada, &teen)
        .await
        .expect("second");
    repo.users()
        .add_driver(&Actor::Customer(bob), bob, &driver())
        .await
        .expect("bob's");
    assert_eq!(first.user_id, ada);
    assert_eq!(first.licensed_since, Some(date!(2008 - 06 - 01)));
    assert_eq!(drivers_of(&repo, ada).await, vec![first, second]);
}

#[tokio::test]
async fn a_driver_needs_names_a_plausible_birth_date_and_a_licence_after_birth() {
    let (_db, repo) = setup().await;
    let ada = common::customer(&repo, "ada").await;
    let today = OffsetDateTime::now_utc().date();
    let cases: Vec<(&str, Change<NewDriver>)> = vec![
        ("first_name", Box::new(|d| d.first_name = " ".into())),
        ("last_name", Box::new(|d| d.last_name = String::new())),
        ("date_of_birth", Box::new(|d| d.date_of_birth = date!(1899 - 12 - 31))),
        (
            "date_of_birth",
            Box::new(move |d| d.date_of_birth = today + time::Duration::days(1)),
        ),
        ("licensed_since", Box::new(|d| d.licensed_since = Some(d.date_of_birth))),
        (
            "licensed_since",
            Box::new(move |d| d.licensed_since = Some(today + time::Duration::days(1))),
        ),
    ];
    for (field, change) in cases {
        let mut d = driver();
        change(&mut d);
        assert_invalid(repo.users().add_driver(&Actor::Customer(ada), ada, &d).await, field);
    }
    assert!(drivers_of(&repo, ada).await.is_empty());
}

#[tokio::test]
async fn vehicles_are_added_and_listed_and_a_vin_is_registered_once_per_user() {
    let (_db, repo) = setup().await;
    let ada = common::customer(&repo, "ada").await;
    let bob = common::customer(&repo, "bob").await;
    let car = repo
        .users()
        .add_vehicle(&Actor::Customer(ada), ada, &vehicle("1hgcm82633a004352", 2020))
        .await
        .expect("car");
    assert_eq!(car.vin.as_str(), "1HGCM82633A004352");
    assert_eq!(
        (car.make.as_str(), car.model.as_str(), car.model_year),
        ("Honda", "Accord", 2020)
    );
    let next_year = repo
        .users()
        .add_vehicle(
            &Actor::Customer(ada),
            ada,
            &vehicle("5YJSA1E26HF000001", this_year() + 1),
        )
        .await
        .expect("next model year");

    let err = repo
        .users()
        .add_vehicle(&Actor::Customer(ada), ada, &vehicle("1HGCM82633A004352", 2021))
        .await
        .expect_err("same VIN twice");
    assert!(
        matches!(err, UserError::VinTaken(ref v) if v.as_str() == "1HGCM82633A004352"),
        "{err:?}"
    );
    // Another user may register the same VIN (a car changes hands).
    repo.users()
        .add_vehicle(&Actor::Customer(bob), bob, &vehicle("1HGCM82633A004352", 2020))
        .await
        .expect("bob's");

    assert_eq!(vehicles_of(&repo, ada).await, vec![car, next_year]);
}

#[tokio::test]
async fn a_vehicle_needs_a_make_a_model_and_a_model_year_from_1981_to_next_year() {
    let (_db, repo) = setup().await;
    let ada = common::customer(&repo, "ada").await;
    for (field, v) in [
        ("model_year", vehicle("1HGCM82633A004352", this_year() + 2)),
        ("model_year", vehicle("1HGCM82633A004352", 1980)),
        (
            "make",
            NewVehicle {
                make: " ".into(),
                ..vehicle("1HGCM82633A004352", 2020)
            },
        ),
        (
            "model",
            NewVehicle {
                model: String::new(),
                ..vehicle("1HGCM82633A004352", 2020)
            },
        ),
    ] {
        assert_invalid(repo.users().add_vehicle(&Actor::Customer(ada), ada, &v).await, field);
    }
    assert!(Vin::parse("1HGCM82633A00435I").is_err(), "VINs never contain I, O or Q");
    assert!(vehicles_of(&repo, ada).await.is_empty());
}

#[tokio::test]
async fn a_customer_reads_and_extends_only_their_own_account() {
    let (_db, repo) = setup().await;
    let ada = common::customer(&repo, "ada-own").await;
    let bob = common::customer(&repo, "bob-own").await;
    let as_ada = Actor::Customer(ada);
    assert!(matches!(repo.users().get(&as_ada, bob).await, Err(UserError::NotFound)));
    assert!(matches!(
        repo.users().add_driver(&as_ada, bob, &driver()).await,
        Err(UserError::Forbidden)
    ));
    assert!(matches!(
        repo.users()
            .add_vehicle(&as_ada, bob, &vehicle("1HGCM82633A004352", 2020))
            .await,
        Err(UserError::Forbidden)
    ));
    repo.users()
        .add_driver(&Actor::Customer(bob), bob, &driver())
        .await
        .expect("bob's own");
    assert!(
        repo.users().drivers(&as_ada, bob).await.expect("drivers").is_empty(),
        "bob's drivers are hidden from ada"
    );
    let mut new = new_user(&common::email("agent-by-customer"));
    new.phone = None;
    assert!(matches!(
        repo.users().create_agent(&as_ada, &new).await,
        Err(UserError::Forbidden)
    ));
}

/// The bounds of `users_values_bounded` / `drivers_values_bounded` are the API's too: a name is
/// at most 200 characters and holds no NUL; refused as `InvalidInput` before anything is written.
#[tokio::test]
async fn names_over_the_cap_or_with_a_nul_are_invalid_input_and_write_nothing() {
    let (db, repo) = setup().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM drivers)")
            .fetch_one(db.pool())
            .await
            .expect("count")
    };
    let before = count().await;
    let ada = common::customer(&repo, "ada-bounds").await;
    let as_ada = Actor::Customer(ada);
    for bad in ["x".repeat(201), "x".repeat(200_000), "Ada\0Lovelace".to_string()] {
        let mut new = new_user(&common::email("bounds"));
        new.full_name = bad.clone();
        let err = repo.users().create_customer(&new).await.expect_err("refused");
        assert!(
            matches!(err, UserError::Invalid(ref e) if e.field == "full_name"),
            "{err:?}"
        );
        let mut d = driver();
        d.first_name = bad;
        let err = repo.users().add_driver(&as_ada, ada, &d).await.expect_err("refused");
        assert!(
            matches!(err, UserError::Invalid(ref e) if e.field == "first_name"),
            "{err:?}"
        );
    }
    assert_eq!(count().await, before + 1, "only ada was written");
    // The cap itself is accepted, in characters (not bytes).
    let mut new = new_user(&common::email("bounds-ok"));
    new.full_name = "ä".repeat(200);
    repo.users().create_customer(&new).await.expect("200 characters");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    /// Any name with a NUL, or longer than 200 characters, is refused as InvalidInput.
    #[test]
    fn any_overlong_or_nul_name_is_invalid_input(
        prefix in "[a-zA-Z ]{0,20}",
        long in 201usize..400,
        nul in proptest::bool::ANY,
    ) {
        let name = if nul { format!("{prefix}\0x") } else { format!("{prefix}{}", "y".repeat(long)) };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let outcome = runtime.block_on(async {
            let (_db, repo) = setup().await;
            let mut new = new_user(&common::email("prop"));
            new.full_name = name;
            repo.users().create_customer(&new).await
        });
        proptest::prop_assert!(matches!(outcome, Err(UserError::Invalid(ref e)) if e.field == "full_name"), "{outcome:?}");
    }
}
