//! Keyset paging of quotes: the opaque [`Cursor`] and its string codec, [`PageRequest`],
//! [`Page`], and the page-size check and cut shared by the list calls.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use super::model::{Quote, QuoteRow};
use crate::error::InvalidInput;
use crate::ids::QuoteId;

/// Largest page of [`Quotes::list_for_customer`](super::Quotes::list_for_customer).
pub const MAX_PAGE_SIZE: u32 = 100;

/// Where a keyset page starts: after the quote (created_at, id) in newest-first order.
/// Opaque to callers: pass [`Page::next`] back, or carry it as a string with [`Cursor::encode`]
/// / [`Cursor::decode`] (it is also serde-serialisable, as that string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor {
    pub(super) created_at: OffsetDateTime,
    pub(super) id: QuoteId,
}

impl Cursor {
    fn after(quote: &Quote) -> Self {
        Self {
            created_at: quote.created_at,
            id: quote.id,
        }
    }

    /// The cursor as an opaque URL-safe string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at.unix_timestamp_nanos(), self.id))
    }

    /// Read a string made by [`Cursor::encode`].
    pub fn decode(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("cursor", "not a cursor returned by a previous page");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (nanos, id) = text.split_once(':').ok_or_else(bad)?;
        let nanos: i128 = nanos.parse().map_err(|_| bad())?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Self {
            created_at,
            id: QuoteId(id),
        })
    }
}

impl TryFrom<String> for Cursor {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, InvalidInput> {
        Self::decode(&raw)
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.encode()
    }
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageRequest {
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub size: u32,
    /// `None` for the first page, else the `next` cursor of the previous page.
    #[serde(default)]
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `size` rows.
    pub fn first(size: u32) -> Self {
        Self { size, after: None }
    }
}

/// One keyset page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Validate the page size; the query fetches one row more to know whether a next page exists.
pub(super) fn page_fetch_size(page: &PageRequest) -> Result<i64, InvalidInput> {
    if page.size == 0 || page.size > MAX_PAGE_SIZE {
        return Err(InvalidInput::new(
            "size",
            format!("page size {} is not between 1 and {MAX_PAGE_SIZE}", page.size),
        ));
    }
    Ok(i64::from(page.size) + 1)
}

/// Cut the extra row off and point `next` at the last row kept.
pub(super) fn into_page(rows: Vec<QuoteRow>, size: u32) -> Page<Quote> {
    let mut items: Vec<Quote> = rows.into_iter().map(Quote::from).collect();
    let size = size as usize;
    let next = if items.len() > size {
        items.truncate(size);
        items.last().map(Cursor::after)
    } else {
        None
    };
    Page { items, next }
}
