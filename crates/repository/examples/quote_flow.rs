//! A quote from start to finish against the dev database:
//! create a customer, quote collision + liability in San Francisco, print the premium
//! breakdown, re-rate with the discounts the customer qualifies for, present, bind, print the
//! final state.
//!
//! ```sh
//! cargo xtask db-reset                                   # once: migrated + seeded quotedb_dev
//! cargo run -p quotedb-repository --example quote_flow   # DATABASE_URL, else `cargo xtask db-url`
//! ```
//!
//! Exits non-zero with a message (no panic) when the database is missing or not seeded.

use std::error::Error;
use std::process::ExitCode;

use quotedb_repository::quotes::{CoverageRequest, NewQuote, RatedQuote};
use quotedb_repository::rating::{Eligibility, RatingError};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::schema::rating::DiscountCode;
use quotedb_repository::users::NewUser;
use quotedb_repository::{Actor, Db, Email, StateCode, Zip};
use rust_decimal::Decimal;
use time::OffsetDateTime;

type BoxError = Box<dyn Error + Send + Sync>;

/// The dev database: DATABASE_URL, else the database `cargo xtask db-url` prints.
const DEV_DATABASE: &str = "quotedb_dev";
/// Seeded San Francisco ZIPs (`crates/seeds/data/06_territory_factors.sql`), first choice first;
/// the next is tried when a territory has been retired in this database.
const SF_ZIPS: [&str; 3] = ["94105", "94102", "94103"];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quote_flow: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn database_url() -> Result<String, BoxError> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok(url);
    }
    let server = quotedb_testkit::server()
        .await
        .map_err(|e| format!("DATABASE_URL is not set and no local server was found: {e}"))?;
    if !server.database_exists(DEV_DATABASE).await.unwrap_or(false) {
        return Err(format!(
            "database {DEV_DATABASE} does not exist on {}: create it with `cargo xtask db-reset` (or set DATABASE_URL)",
            server.admin_url()
        )
        .into());
    }
    Ok(server.url_for(DEV_DATABASE))
}

async fn run() -> Result<(), BoxError> {
    let url = database_url().await?;
    let pool = Db::pool_options()
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e} (run `cargo xtask db-reset`, or set DATABASE_URL)"))?;
    let db = Db::new(pool);

    // 1. A customer.
    let email = Email::parse(&format!("quote-flow-{}@example.com", uuid::Uuid::new_v4().simple()))?;
    let customer = db
        .users()
        .create_customer(&NewUser {
            email,
            full_name: "Quinn Flow".into(),
            phone: None,
        })
        .await?;
    let actor = Actor::Customer(customer.id);
    println!("customer   {} <{}>", customer.full_name, customer.email);

    // 2. A quote in San Francisco, effective in a week.
    let state = StateCode::parse("CA")?;
    let mut new = NewQuote {
        customer_id: customer.id,
        agent_id: None,
        state_code: state.clone(),
        zip: Zip::parse(SF_ZIPS[0])?,
        effective_date: OffsetDateTime::now_utc().date() + time::Duration::days(7),
        coverages: vec![
            CoverageRequest {
                coverage_type: CoverageType::BodilyInjury,
                limit_amount: Some(Decimal::new(100_000, 0)),
                deductible: Decimal::ZERO,
            },
            CoverageRequest {
                coverage_type: CoverageType::PropertyDamage,
                limit_amount: Some(Decimal::new(50_000, 0)),
                deductible: Decimal::ZERO,
            },
            CoverageRequest {
                coverage_type: CoverageType::Collision,
                limit_amount: None,
                deductible: Decimal::new(500, 0),
            },
            CoverageRequest {
                coverage_type: CoverageType::Comprehensive,
                limit_amount: None,
                deductible: Decimal::new(250, 0),
            },
        ],
        eligibility: Eligibility::default(),
        metadata: serde_json::Map::from_iter([("channel".to_string(), serde_json::json!("example"))]),
    };
    let mut rated = None;
    for zip in SF_ZIPS {
        new.zip = Zip::parse(zip)?;
        match db.quotes().create(&actor, &new).await {
            Ok(q) => {
                rated = Some(q);
                break;
            }
            Err(quotedb_repository::quotes::QuoteError::Rating(RatingError::NoTerritory { zip })) => {
                eprintln!(
                    "note: no territory factor for San Francisco ZIP {zip} in this database, trying the next one"
                );
            }
            Err(quotedb_repository::quotes::QuoteError::Rating(e)) => {
                return Err(
                    format!("rating CA failed ({e}): is the database seeded? run `cargo xtask db-reset`").into(),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let rated = rated.ok_or("no San Francisco territory is seeded: run `cargo xtask db-reset`")?;
    println!(
        "created    {} ({}), expires {}",
        rated.quote.quote_number, rated.quote.status, rated.quote.expires_at
    );
    print_breakdown("version 1", &rated);

    // 3. Re-rate: the customer turns out to qualify for the good driver and paperless discounts.
    let eligibility = Eligibility {
        discounts: vec![DiscountCode::GoodDriver, DiscountCode::Paperless],
        surcharges: vec![],
    };
    let rerated = db
        .quotes()
        .rerate(&actor, rated.quote.id, rated.quote.current_version, &eligibility)
        .await?;
    print_breakdown("version 2 (re-rated)", &rerated);

    // 4. Present and bind.
    let presented = db.quotes().present(&actor, rerated.quote.id).await?;
    println!("presented  {} at {}", presented.quote_number, presented.updated_at);
    let bound = db.quotes().bind(&actor, presented.id).await?;

    // 5. The final state.
    let versions = db.quotes().versions(&actor, bound.id).await?;
    println!();
    println!("final state of {}", bound.quote_number);
    println!("  status           {}", bound.status);
    println!(
        "  premium          {}",
        bound.premium.map_or("-".into(), |p| format!("${p}"))
    );
    println!("  current version  {}", bound.current_version);
    println!(
        "  versions         {}",
        versions
            .iter()
            .map(|v| format!("v{} ${}", v.version, v.premium))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  bound at         {}",
        bound.bound_at.map_or("-".into(), |t| t.to_string())
    );
    println!("  valid until      {}", bound.expires_at);
    println!("  metadata         {}", bound.metadata);
    Ok(())
}

fn print_breakdown(title: &str, rated: &RatedQuote) {
    let b = &rated.breakdown;
    println!();
    println!(
        "{title}: {} {} ({}, territory factor {}), discount cap {}",
        b.state_code, b.zip, b.territory_city, b.territory_factor, b.discount_cap
    );
    println!(
        "  {:<20} {:>10} {:>8} {:>10} {:>10} {:>12}",
        "coverage", "base", "terr.", "surch.", "discount", "premium"
    );
    for l in &b.lines {
        println!(
            "  {:<20} {:>10} {:>8} {:>10} {:>10} {:>12}",
            l.coverage_type.as_str(),
            l.base_amount,
            l.territory_factor,
            format!("×{}", l.surcharge_factor),
            format!("-{}%", (l.discount_applied * Decimal::ONE_HUNDRED).normalize()),
            l.premium
        );
        if !l.discounts.is_empty() {
            let codes: Vec<&str> = l.discounts.iter().map(|d| d.code.as_str()).collect();
            println!("  {:<20} discounts: {}", "", codes.join(", "));
        }
    }
    println!("  {:<20} {:>54}", "total", b.total);
}
