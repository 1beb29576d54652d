//! Keyset paging, one vocabulary for every list of the repository: the opaque [`Cursor`], the
//! [`PageRequest`] a caller sends, the [`Page`] it gets back, and one size policy
//! ([`MAX_PAGE_SIZE`], [`check_size`]).
//!
//! Every list orders its rows by a timestamp and the row's id (`(created_at, id)` for quotes,
//! `(occurred_at, id)` for admin activity and the audit log, `(submitted_at, id)` for the
//! pending rate change queue) and continues strictly after the last row seen, so page 1,000
//! costs what page 1 costs (no `OFFSET`) and rows inserted meanwhile neither repeat nor vanish.
//!
//! | list | rows | cursor |
//! |---|---|---|
//! | [`Quotes::list_for_customer`], [`Quotes::list_for_agent`] | [`Quote`] | `Cursor<QuoteId>` |
//! | [`Activity::high_risk_page`], [`Activity::admin_page`] | [`ActivityEntry`] | `Cursor<AdminActivityId>` |
//! | [`RateChanges::list_pending`] | [`RateChangeRequest`] | `Cursor<RateChangeRequestId>` |
//! | [`AuditLog::history`] (through [`AuditQuery::page`]) | [`AuditEntry`] | `Cursor<AuditLogId>` |
//!
//! # Why `Page<T>` and `PageRequest<K>`
//!
//! A cursor is typed by the id of the rows it points into, `Cursor<K>`, so a cursor of the audit
//! log cannot be passed to the activity log: the compiler refuses it. The page is generic over its
//! rows only, `Page<Quote>`, and its cursor type follows from them through [`PageItem`] (each row
//! type knows its list's key). Callers thus name what they hold — a page *of quotes* — and never
//! spell a second parameter that could only ever have one value; the request names the key it
//! continues after, `PageRequest<QuoteId>`, which is exactly what `Page<Quote>::next` holds. Walk
//! a list by passing [`Page::next`] back as [`PageRequest::after`].
//!
//! # The cursor is opaque
//!
//! Its fields are private. Hand it back as it came, or carry it over HTTP as the URL-safe string
//! of [`Cursor::encode`] / [`Cursor::decode`] (serde uses that string too). The string is the
//! base64 of `"{unix nanoseconds}:{id}"`, the codec quote cursors always had, so quote cursors
//! issued before this module still decode. Anything else is refused as
//! [`InvalidInput`] on field `"cursor"`, never a panic. A cursor of a `bigint` id and one of a
//! UUID id cannot be confused (the id does not parse); two UUID kinds are not told apart by the
//! string, which is harmless: the wrong cursor only positions the list somewhere, and row level
//! security still decides what is visible.
//!
//! # One size policy
//!
//! Every list takes 1 to [`MAX_PAGE_SIZE`] = 500 rows per page, checked by [`check_size`]
//! (refused as [`InvalidInput`] on field `"size"`). 500 is what the admin review screens were
//! built around (the largest of the interactive lists), covers the customer and agent quote
//! screens (which ask for 10 to 50) and keeps one page — rows with JSON details, one statement,
//! one transaction — bounded in memory and latency. Bulk readers such as an audit export walk
//! more pages instead of asking for a larger one: a keyset page costs the same wherever it starts.
//! The batch sizes of workers (`realtime` events and notification claims) are not pages and are
//! not bound by it.
//!
//! [`Quotes::list_for_customer`]: crate::quotes::Quotes::list_for_customer
//! [`Quotes::list_for_agent`]: crate::quotes::Quotes::list_for_agent
//! [`Quote`]: crate::quotes::Quote
//! [`Activity::high_risk_page`]: crate::admin::Activity::high_risk_page
//! [`Activity::admin_page`]: crate::admin::Activity::admin_page
//! [`ActivityEntry`]: crate::admin::ActivityEntry
//! [`RateChanges::list_pending`]: crate::admin::RateChanges::list_pending
//! [`RateChangeRequest`]: crate::admin::RateChangeRequest
//! [`AuditLog::history`]: crate::security::audit::AuditLog::history
//! [`AuditQuery::page`]: crate::security::audit::AuditQuery::page
//! [`AuditEntry`]: crate::security::audit::AuditEntry

use std::fmt;
use std::hash::Hash;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use crate::error::InvalidInput;
use crate::ids::{AdminActivityId, AuditLogId, QuoteId, RateChangeRequestId};

/// The largest page any list returns; the smallest is 1. See the [module doc](self) for why 500.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Check a page size: 1 to [`MAX_PAGE_SIZE`], else [`InvalidInput`] on field `"size"`. The lists
/// call it themselves; a caller may call it first to refuse a request early.
pub fn check_size(size: u32) -> Result<u32, InvalidInput> {
    if (1..=MAX_PAGE_SIZE).contains(&size) {
        Ok(size)
    } else {
        Err(InvalidInput::new(
            "size",
            format!("page size {size} is not between 1 and {MAX_PAGE_SIZE}"),
        ))
    }
}

pub(crate) mod sealed {
    /// Only this crate implements [`CursorId`](super::CursorId) and [`PageItem`](super::PageItem).
    pub trait Sealed {}
}

/// An id newtype a list pages by: its text form goes into the [`Cursor`] string. Implemented
/// for the ids of the paged lists only (sealed).
pub trait CursorId: sealed::Sealed + Copy + Eq + Hash + fmt::Debug + fmt::Display {
    /// Read the id back from its [`Display`](fmt::Display) form; `None` if `text` is not one.
    fn parse_id(text: &str) -> Option<Self>;
}

macro_rules! cursor_ids {
    ($($id:ident => $raw:ty),* $(,)?) => {$(
        impl sealed::Sealed for $id {}
        impl CursorId for $id {
            fn parse_id(text: &str) -> Option<Self> {
                text.parse::<$raw>().ok().map($id)
            }
        }
    )*};
}

cursor_ids! {
    QuoteId => uuid::Uuid,
    RateChangeRequestId => uuid::Uuid,
    AdminActivityId => i64,
    AuditLogId => i64,
}

/// A row of a paged list: it knows where it sits in its list's order.
pub trait PageItem: sealed::Sealed {
    /// The id the list orders by after the timestamp.
    type Id: CursorId;
    /// The cursor of the next page if this row is the last one of a page; `None` for a row that
    /// has no place in its list (a rate change request never submitted).
    fn cursor(&self) -> Option<Cursor<Self::Id>>;
}

/// Where a keyset page starts: strictly after the row (timestamp, id) in its list's order.
/// Opaque: see the [module doc](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor<K: CursorId> {
    at: OffsetDateTime,
    id: K,
}

impl<K: CursorId> Cursor<K> {
    /// The cursor after the row at (`at`, `id`).
    pub(crate) fn new(at: OffsetDateTime, id: K) -> Self {
        Self { at, id }
    }

    /// The timestamp of the last row seen.
    pub(crate) fn at(&self) -> OffsetDateTime {
        self.at
    }

    /// The id of the last row seen.
    pub(crate) fn id(&self) -> K {
        self.id
    }

    /// The cursor as an opaque URL-safe string (base64, no padding).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.at.unix_timestamp_nanos(), self.id))
    }

    /// Read a string made by [`Cursor::encode`]; anything else is [`InvalidInput`] on field
    /// `"cursor"`.
    pub fn decode(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("cursor", "not a cursor returned by a previous page");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (nanos, id) = text.split_once(':').ok_or_else(bad)?;
        let nanos: i128 = nanos.parse().map_err(|_| bad())?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
        let id = K::parse_id(id).ok_or_else(bad)?;
        Ok(Self { at, id })
    }
}

impl<K: CursorId> serde::Serialize for Cursor<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de, K: CursorId> serde::Deserialize<'de> for Cursor<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::decode(&raw).map_err(serde::de::Error::custom)
    }
}

/// Which page to read: `size` rows after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct PageRequest<K: CursorId> {
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub size: u32,
    /// `None` for the first page, else the [`Page::next`] of the previous page.
    #[serde(default)]
    pub after: Option<Cursor<K>>,
}

impl<K: CursorId> PageRequest<K> {
    /// The first page of `size` rows.
    pub fn first(size: u32) -> Self {
        Self { size, after: None }
    }

    /// The page of `size` rows after `cursor`.
    pub fn after(size: u32, cursor: Cursor<K>) -> Self {
        Self {
            size,
            after: Some(cursor),
        }
    }

    /// [`check_size`], then the number of rows to fetch: one more than the page holds, to know
    /// whether a next page exists (see [`into_page`]).
    pub(crate) fn fetch_limit(&self) -> Result<i64, InvalidInput> {
        Ok(i64::from(check_size(self.size)?) + 1)
    }
}

/// One keyset page of a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(bound(serialize = "T: serde::Serialize", deserialize = "T: serde::Deserialize<'de>"))]
pub struct Page<T: PageItem> {
    /// The rows, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor<T::Id>>,
}

impl<T: PageItem> Page<T> {
    /// The request for the page after this one with `size` rows; `None` on the last page.
    pub fn next_request(&self, size: u32) -> Option<PageRequest<T::Id>> {
        self.next.map(|cursor| PageRequest::after(size, cursor))
    }
}

/// Turn the rows fetched with [`PageRequest::fetch_limit`] (at most `size + 1`) into a page:
/// an extra row means a next page exists; it is cut off and `next` points after the last row kept.
pub(crate) fn into_page<T: PageItem>(mut rows: Vec<T>, size: u32) -> Page<T> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let next = if rows.len() > size {
        rows.truncate(size);
        rows.last().and_then(PageItem::cursor)
    } else {
        None
    };
    Page { items: rows, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn quote_cursor() -> Cursor<QuoteId> {
        Cursor::new(
            datetime!(2026-03-01 12:34:56.123456 UTC),
            QuoteId(uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
        )
    }

    fn activity_cursor() -> Cursor<AdminActivityId> {
        Cursor::new(datetime!(2026-03-01 00:00 UTC), AdminActivityId(42))
    }

    #[test]
    fn a_cursor_round_trips_through_its_string() {
        let quote = quote_cursor();
        assert_eq!(Cursor::decode(&quote.encode()), Ok(quote));
        let activity = activity_cursor();
        assert_eq!(Cursor::decode(&activity.encode()), Ok(activity));
        let audit = Cursor::new(datetime!(1970-01-01 00:00 UTC), AuditLogId(-7));
        assert_eq!(Cursor::decode(&audit.encode()), Ok(audit));
        let encoded = quote.encode();
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{encoded} is not URL-safe"
        );
    }

    #[test]
    fn a_cursor_serialises_as_its_string() {
        let quote = quote_cursor();
        let json = serde_json::to_string(&quote).expect("serialise");
        assert_eq!(json, format!("\"{}\"", quote.encode()));
        assert_eq!(
            serde_json::from_str::<Cursor<QuoteId>>(&json).expect("deserialise"),
            quote
        );

        let request = PageRequest::after(20, activity_cursor());
        let json = serde_json::to_value(request).expect("serialise");
        assert_eq!(json["after"], serde_json::Value::from(activity_cursor().encode()));
        assert_eq!(
            serde_json::from_value::<PageRequest<AdminActivityId>>(json).expect("deserialise"),
            request
        );
        let first: PageRequest<AuditLogId> = serde_json::from_str(r#"{"size": 5}"#).expect("no after");
        assert_eq!(first, PageRequest::first(5));
    }

    #[test]
    fn a_quote_cursor_of_the_old_codec_still_decodes() {
        // base64 of "{nanos}:{uuid}", as quotes::Cursor wrote it.
        let old = URL_SAFE_NO_PAD.encode("1772368496123456000:01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(Cursor::decode(&old), Ok(quote_cursor()));
    }

    #[test]
    fn garbage_is_refused_as_invalid_cursor_input() {
        let field = |raw: &str| Cursor::<QuoteId>::decode(raw).map_err(|e| e.field);
        for raw in [
            "",
            "   ",
            "not a cursor",
            "bm9wZQ",                                    // "nope"
            &URL_SAFE_NO_PAD.encode("12:"),              // no id
            &URL_SAFE_NO_PAD.encode(":0123"),            // no time
            &URL_SAFE_NO_PAD.encode("x:0123"),           // time not a number
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe, b':']), // not UTF-8
            &URL_SAFE_NO_PAD.encode(format!("{}:01234567-89ab-cdef-0123-456789abcdef", i128::MAX)),
        ] {
            assert_eq!(field(raw), Err("cursor"), "{raw:?}");
        }
        assert!(serde_json::from_str::<Cursor<QuoteId>>("\"bm9wZQ\"").is_err());
        assert!(serde_json::from_str::<Cursor<QuoteId>>("17").is_err());
    }

    #[test]
    fn a_cursor_of_another_id_kind_is_refused() {
        let bigint = activity_cursor().encode();
        assert_eq!(Cursor::<QuoteId>::decode(&bigint).map_err(|e| e.field), Err("cursor"));
        let uuid = quote_cursor().encode();
        assert_eq!(Cursor::<AuditLogId>::decode(&uuid).map_err(|e| e.field), Err("cursor"));
        assert!(
            serde_json::from_str::<PageRequest<AdminActivityId>>(&format!(r#"{{"size":1,"after":"{uuid}"}}"#)).is_err()
        );
    }

    #[test]
    fn one_size_policy() {
        assert_eq!(check_size(1), Ok(1));
        assert_eq!(check_size(MAX_PAGE_SIZE), Ok(MAX_PAGE_SIZE));
        for size in [0, MAX_PAGE_SIZE + 1, u32::MAX] {
            assert_eq!(check_size(size).map_err(|e| e.field), Err("size"), "{size}");
            assert_eq!(
                PageRequest::<QuoteId>::first(size).fetch_limit().map_err(|e| e.field),
                Err("size")
            );
        }
        assert_eq!(PageRequest::<QuoteId>::first(10).fetch_limit(), Ok(11));
    }

    /// A stand-in row for the cut.
    #[derive(Debug, Clone, PartialEq)]
    struct Row(i64);
    impl sealed::Sealed for Row {}
    impl PageItem for Row {
        type Id = AuditLogId;
        fn cursor(&self) -> Option<Cursor<AuditLogId>> {
            Some(Cursor::new(datetime!(2026-01-01 00:00 UTC), AuditLogId(self.0)))
        }
    }

    #[test]
    fn the_extra_row_is_cut_and_next_points_after_the_last_row_kept() {
        let rows = |n: i64| (1..=n).map(Row).collect::<Vec<_>>();
        let full = into_page(rows(4), 3);
        assert_eq!(full.items, rows(3));
        assert_eq!(full.next.map(|c| c.id()), Some(AuditLogId(3)));
        assert_eq!(full.next_request(3).and_then(|r| r.after), full.next);
        let last = into_page(rows(3), 3);
        assert_eq!(last.items, rows(3));
        assert_eq!(last.next, None);
        assert_eq!(last.next_request(3), None);
        assert_eq!(into_page(Vec::<Row>::new(), 3).items, Vec::new());
    }
}
