//! PostgreSQL binary COPY encoding, written straight into a byte buffer (no per-row allocation).
//!
//! Format (<https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>): a header
//! (signature, flags, extension length), per row a 16-bit field count then per field a 32-bit
//! length (-1 = NULL) and the type's binary "send" representation, and a trailer (-1 as i16).
//! CopyData messages may split rows anywhere, so the stream is cut into chunks by size only.

use std::io::Write as _;
use std::net::IpAddr;

use uuid::Uuid;

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
pub(crate) const PG_EPOCH_UNIX_US: i64 = 946_684_800_000_000;
/// Days from the Unix epoch to PostgreSQL's epoch.
pub(crate) const PG_EPOCH_UNIX_DAYS: i32 = 10_957;

/// The signature, flags and header extension length of a binary COPY stream.
pub(crate) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end-of-data marker.
pub(crate) const TRAILER: &[u8] = &[0xff, 0xff];

/// Encoders for the field types the volume tables use.
pub(crate) trait CopyEncode {
    /// Start a row of `n` fields.
    fn row(&mut self, n: i16);
    fn null(&mut self);
    fn uuid(&mut self, v: &Uuid);
    fn opt_uuid(&mut self, v: Option<&Uuid>);
    /// text, citext, enum labels, char(n).
    fn text(&mut self, v: &str);
    /// A text field written by `f` (length patched afterwards).
    fn text_with(&mut self, f: impl FnOnce(&mut Vec<u8>));
    fn i16(&mut self, v: i16);
    fn i32(&mut self, v: i32);
    fn bool(&mut self, v: bool);
    /// timestamptz from Unix microseconds.
    fn ts(&mut self, unix_us: i64);
    fn opt_ts(&mut self, unix_us: Option<i64>);
    /// date from days since the Unix epoch.
    fn date(&mut self, unix_days: i32);
    /// numeric with `scale` decimals from a scaled integer (e.g. cents with scale 2).
    fn numeric(&mut self, scaled: i64, scale: u8);
    fn bytea(&mut self, v: &[u8]);
    fn inet(&mut self, v: IpAddr);
    /// jsonb: version byte 1 then the JSON text written by `f`.
    fn jsonb(&mut self, f: impl FnOnce(&mut Vec<u8>));
}

fn len_prefixed(buf: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    f(buf);
    let len = (buf.len() - at - 4) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

impl CopyEncode for Vec<u8> {
    #[inline]
    fn row(&mut self, n: i16) {
        self.extend_from_slice(&n.to_be_bytes());
    }

    #[inline]
    fn null(&mut self) {
        self.extend_from_slice(&(-1i32).to_be_bytes());
    }

    #[inline]
    fn uuid(&mut self, v: &Uuid) {
        self.extend_from_slice(&16i32.to_be_bytes());
        self.extend_from_slice(v.as_bytes());
    }

    fn opt_uuid(&mut self, v: Option<&Uuid>) {
        match v {
            Some(v) => self.uuid(v),
            None => self.null(),
        }
    }

    #[inline]
    fn text(&mut self, v: &str) {
        self.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.extend_from_slice(v.as_bytes());
    }

    fn text_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        len_prefixed(self, f);
    }

    fn i16(&mut self, v: i16) {
        self.extend_from_slice(&2i32.to_be_bytes());
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn i32(&mut self, v: i32) {
        self.extend_from_slice(&4i32.to_be_bytes());
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.extend_from_slice(&1i32.to_be_bytes());
        self.push(u8::from(v));
    }

    #[inline]
    fn ts(&mut self, unix_us: i64) {
        self.extend_from_slice(&8i32.to_be_bytes());
        self.extend_from_slice(&(unix_us - PG_EPOCH_UNIX_US).to_be_bytes());
    }

    fn opt_ts(&mut self, unix_us: Option<i64>) {
        match unix_us {
            Some(t) => self.ts(t),
            None => self.null(),
        }
    }

    fn date(&mut self, unix_days: i32) {
        self.extend_from_slice(&4i32.to_be_bytes());
        self.extend_from_slice(&(unix_days - PG_EPOCH_UNIX_DAYS).to_be_bytes());
    }

    fn numeric(&mut self, scaled: i64, scale: u8) {
        // Base-10000 digits, most significant first; `weight` = exponent of the first digit.
        debug_assert!(scale <= 4);
        let neg = scaled < 0;
        let abs = scaled.unsigned_abs();
        let pow = 10u64.pow(u32::from(scale));
        let (mut int, frac) = (abs / pow, abs % pow);
        let mut groups = [0u16; 8];
        let mut n_int = 0;
        while int > 0 {
            groups[n_int] = (int % 10_000) as u16;
            int /= 10_000;
            n_int += 1;
        }
        groups[..n_int].reverse();
        let mut digits = [0u16; 9];
        digits[..n_int].copy_from_slice(&groups[..n_int]);
        let mut nd = n_int;
        let frac_group = (frac * 10u64.pow(4 - u32::from(scale))) as u16;
        if frac_group != 0 {
            digits[nd] = frac_group;
            nd += 1;
        }
        let mut weight = n_int as i16 - 1;
        // Strip leading zero groups (none with this construction) and trailing zero groups.
        let mut start = 0;
        while start < nd && digits[start] == 0 {
            start += 1;
            weight -= 1;
        }
        while nd > start && digits[nd - 1] == 0 {
            nd -= 1;
        }
        let nd_out = nd - start;
        if nd_out == 0 {
            weight = 0;
        }
        self.extend_from_slice(&(8 + 2 * nd_out as i32).to_be_bytes());
        self.extend_from_slice(&(nd_out as i16).to_be_bytes());
        self.extend_from_slice(&weight.to_be_bytes());
        self.extend_from_slice(&(if neg && nd_out > 0 { 0x4000u16 } else { 0 }).to_be_bytes());
        self.extend_from_slice(&i16::from(scale).to_be_bytes());
        for d in &digits[start..nd] {
            self.extend_from_slice(&d.to_be_bytes());
        }
    }

    fn bytea(&mut self, v: &[u8]) {
        self.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.extend_from_slice(v);
    }

    fn inet(&mut self, v: IpAddr) {
        // PGSQL_AF_INET = 2, PGSQL_AF_INET6 = 3 (PostgreSQL's own constants), then bits,
        // is_cidr, address length and the address.
        match v {
            IpAddr::V4(a) => {
                self.extend_from_slice(&8i32.to_be_bytes());
                self.extend_from_slice(&[2, 32, 0, 4]);
                self.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                self.extend_from_slice(&20i32.to_be_bytes());
                self.extend_from_slice(&[3, 128, 0, 16]);
                self.extend_from_slice(&a.octets());
            }
        }
    }

    fn jsonb(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        len_prefixed(self, |b| {
            b.push(1);
            f(b);
        });
    }
}

/// Write a scaled integer as a decimal (e.g. 123456 with scale 2 → `1234.56`).
pub(crate) fn write_decimal(b: &mut Vec<u8>, scaled: i64, scale: u8) {
    let pow = 10i64.pow(u32::from(scale));
    let sign = if scaled < 0 { "-" } else { "" };
    let abs = scaled.unsigned_abs();
    let _ = write!(
        b,
        "{sign}{}.{:0width$}",
        abs / pow as u64,
        abs % pow as u64,
        width = usize::from(scale)
    );
}

/// Write a UUID in its hyphenated lower-case form.
pub(crate) fn write_uuid(b: &mut Vec<u8>, id: &Uuid) {
    let mut tmp = [0u8; 36];
    b.extend_from_slice(id.hyphenated().encode_lower(&mut tmp).as_bytes());
}

/// Write a JSON string literal (escaping quotes, backslashes and control characters).
pub(crate) fn write_json_str(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    for &c in s.as_bytes() {
        match c {
            b'"' => b.extend_from_slice(b"\\\""),
            b'\\' => b.extend_from_slice(b"\\\\"),
            c if c < 0x20 => {
                let _ = write!(b, "\\u{c:04x}");
            }
            c => b.push(c),
        }
    }
    b.push(b'"');
}

/// A JSON object being written; fields are separated automatically.
pub(crate) struct Obj<'a> {
    b: &'a mut Vec<u8>,
    first: bool,
}

/// A JSON array being written.
pub(crate) struct Arr<'a> {
    b: &'a mut Vec<u8>,
    first: bool,
}

/// Write a JSON object with `f` filling in its fields.
pub(crate) fn obj(b: &mut Vec<u8>, f: impl FnOnce(&mut Obj<'_>)) {
    b.push(b'{');
    f(&mut Obj { b, first: true });
    b.push(b'}');
}

/// Write a JSON array with `f` filling in its elements.
pub(crate) fn arr(b: &mut Vec<u8>, f: impl FnOnce(&mut Arr<'_>)) {
    b.push(b'[');
    f(&mut Arr { b, first: true });
    b.push(b']');
}

impl Obj<'_> {
    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.b.push(b',');
        }
        self.first = false;
        write_json_str(self.b, k);
        self.b.push(b':');
        self.b
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let b = self.key(k);
        write_json_str(b, v);
        self
    }

    /// A string written by `f` (which must not write quotes or backslashes).
    pub(crate) fn str_with(&mut self, k: &str, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let b = self.key(k);
        b.push(b'"');
        f(b);
        b.push(b'"');
        self
    }

    pub(crate) fn int(&mut self, k: &str, v: i64) -> &mut Self {
        let b = self.key(k);
        let _ = write!(b, "{v}");
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        let b = self.key(k);
        b.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// A decimal as a JSON string ("1234.56"), the way rust_decimal serialises money.
    pub(crate) fn dec(&mut self, k: &str, scaled: i64, scale: u8) -> &mut Self {
        let b = self.key(k);
        b.push(b'"');
        write_decimal(b, scaled, scale);
        b.push(b'"');
        self
    }

    pub(crate) fn uuid(&mut self, k: &str, v: &Uuid) -> &mut Self {
        let b = self.key(k);
        b.push(b'"');
        write_uuid(b, v);
        b.push(b'"');
        self
    }
}

impl Arr<'_> {
    fn next(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.b.push(b',');
        }
        self.first = false;
        self.b
    }

    pub(crate) fn str(&mut self, v: &str) -> &mut Self {
        let b = self.next();
        write_json_str(b, v);
        self
    }

    /// A string written by `f` (which must not write quotes or backslashes).
    pub(crate) fn str_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let b = self.next();
        b.push(b'"');
        f(b);
        b.push(b'"');
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(v: i64, scale: u8) -> Vec<u8> {
        let mut b = Vec::new();
        b.numeric(v, scale);
        b
    }

    #[test]
    fn numeric_is_encoded_in_base_10000_groups() {
        // 1234.56: digits [1234, 5600], weight 0, dscale 2.
        assert_eq!(
            numeric_bytes(123_456, 2),
            [0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 2, 0x04, 0xd2, 0x15, 0xe0]
        );
        // 0.00: no digits.
        assert_eq!(numeric_bytes(0, 2), [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2]);
        // 100000.00: digits [10], weight 1 (trailing zero group stripped).
        assert_eq!(
            numeric_bytes(10_000_000, 2),
            [0, 0, 0, 10, 0, 1, 0, 1, 0, 0, 0, 2, 0, 10]
        );
        // 0.05: digits [500], weight -1.
        assert_eq!(
            numeric_bytes(5, 2),
            [0, 0, 0, 10, 0, 1, 0xff, 0xff, 0, 0, 0, 2, 0x01, 0xf4]
        );
    }

    #[test]
    fn json_is_well_formed() {
        let mut b = Vec::new();
        obj(&mut b, |o| {
            o.str("a", "x\"y").int("n", -3).dec("p", 1005, 2).bool("t", true);
        });
        b.push(b' ');
        arr(&mut b, |a| {
            a.str("q").str_with(|b| b.extend_from_slice(b"r"));
        });
        assert_eq!(
            String::from_utf8(b).expect("utf-8"),
            r#"{"a":"x\"y","n":-3,"p":"10.05","t":true} ["q","r"]"#
        );
    }
}
