//! Deterministic, random-access randomness.
//!
//! Every generated entity owns a window of a ChaCha8 stream: the seed is the key, the table (or
//! relation) is the stream number and the entity's index picks the position (2^20 words per
//! entity). So entity `i` of table `t` is a pure function of (seed, t, i): a child table can
//! regenerate its parent (a quote its customer, a version its quote) without keeping anything
//! in memory, and the rows do not depend on the order they are generated in.

use rand::{Rng as _, RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// The random streams, one per kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Stream {
    Users = 0,
    Drivers,
    Vehicles,
    Quotes,
    Coverages,
    Versions,
    Sessions,
    Websockets,
    Events,
    Notifications,
    Audit,
    Admins,
    Activity,
    RateRequests,
    Misc,
}

const STREAMS: usize = Stream::Misc as usize + 1;

/// Words of the stream reserved per entity (2^20 = 4 MiB of randomness, far more than used).
const WINDOW_BITS: u32 = 20;

/// One base generator per stream; [`Streams::rng`] positions a copy at an entity's window.
#[derive(Debug, Clone)]
pub(crate) struct Streams {
    bases: Vec<ChaCha8Rng>,
}

impl Streams {
    pub(crate) fn new(seed: u64) -> Self {
        let base = ChaCha8Rng::seed_from_u64(seed);
        let bases = (0..STREAMS)
            .map(|s| {
                let mut r = base.clone();
                r.set_stream(s as u64);
                r
            })
            .collect();
        Self { bases }
    }

    /// The generator of entity `index` of `stream`.
    pub(crate) fn rng(&self, stream: Stream, index: u64) -> ChaCha8Rng {
        let mut r = self.bases[stream as usize].clone();
        r.set_word_pos(u128::from(index) << WINDOW_BITS);
        r
    }

    /// The id of entity `index` of `stream`: the first 16 bytes of its window (the same bytes
    /// the entity's generator starts with, so `id(s, i) == uuid(&mut rng(s, i))`).
    pub(crate) fn id(&self, stream: Stream, index: u64) -> Uuid {
        uuid(&mut self.rng(stream, index))
    }
}

/// A random (version 4) UUID drawn from `r`.
pub(crate) fn uuid(r: &mut ChaCha8Rng) -> Uuid {
    let mut b = [0u8; 16];
    r.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// Uniform in `lo..hi` (returns `lo` when the range is empty).
pub(crate) fn range(r: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo { lo } else { r.random_range(lo..hi) }
}

/// Uniform in `0..n` (0 when `n` is 0).
pub(crate) fn below(r: &mut ChaCha8Rng, n: u64) -> u64 {
    if n == 0 { 0 } else { r.random_range(0..n) }
}

/// True with probability `p` (0 ≤ p ≤ 1).
pub(crate) fn chance(r: &mut ChaCha8Rng, p: f64) -> bool {
    r.random::<f64>() < p
}

/// Uniform in [0, 1).
pub(crate) fn unit(r: &mut ChaCha8Rng) -> f64 {
    r.random::<f64>()
}

/// An element of a non-empty slice.
pub(crate) fn pick<'a, T>(r: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[below(r, items.len() as u64) as usize]
}

/// An index drawn with the given (positive) weights.
pub(crate) fn weighted(r: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = below(r, u64::from(total)) as u32;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A Zipf-like rank in `0..n` (exponent `s` > 1 is steeper), by inverting the continuous
/// bounded power law: rank 0 is the most frequent.
pub(crate) fn zipf(r: &mut ChaCha8Rng, n: u64, s: f64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let u = unit(r);
    let a = 1.0 - s;
    let nf = n as f64;
    let x = if a.abs() < 1e-9 {
        nf.powf(u)
    } else {
        (u * (nf.powf(a) - 1.0) + 1.0).powf(1.0 / a)
    };
    ((x.floor() as u64).max(1) - 1).min(n - 1)
}

/// Random bytes.
pub(crate) fn bytes<const N: usize>(r: &mut ChaCha8Rng) -> [u8; N] {
    let mut b = [0u8; N];
    r.fill_bytes(&mut b);
    b
}

/// A time after `t` and not after `deadline`: `t` plus a gap drawn in `lo..=hi`, the gap shrunk
/// so that it takes at most half of the room left (so a chain of steps stays before the deadline
/// while there is room). Times are microseconds.
pub(crate) fn step(r: &mut ChaCha8Rng, t: i64, lo: i64, hi: i64, deadline: i64) -> i64 {
    let room = deadline - t;
    if room <= 2 {
        return t + 1;
    }
    let hi = hi.min(room / 2).max(1);
    let lo = lo.min(hi).max(1);
    t + if hi > lo { r.random_range(lo..=hi) } else { lo }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_is_a_function_of_seed_stream_and_index() {
        let a = Streams::new(7);
        let b = Streams::new(7);
        assert_eq!(a.id(Stream::Quotes, 12345), b.id(Stream::Quotes, 12345));
        assert_eq!(a.id(Stream::Quotes, 3), uuid(&mut b.rng(Stream::Quotes, 3)));
        assert_ne!(a.id(Stream::Quotes, 1), a.id(Stream::Quotes, 2));
        assert_ne!(a.id(Stream::Quotes, 1), a.id(Stream::Users, 1));
        assert_ne!(a.id(Stream::Quotes, 1), Streams::new(8).id(Stream::Quotes, 1));
        assert_eq!(a.id(Stream::Quotes, 1).get_version_num(), 4);
    }

    #[test]
    fn zipf_is_skewed_and_in_range() {
        let s = Streams::new(1);
        let mut r = s.rng(Stream::Misc, 0);
        let mut hist = vec![0u32; 1000];
        for _ in 0..100_000 {
            hist[zipf(&mut r, 1000, 1.1) as usize] += 1;
        }
        assert!(hist[0] > 20 * hist[500].max(1), "{} vs {}", hist[0], hist[500]);
    }

    #[test]
    fn steps_stay_before_the_deadline() {
        let s = Streams::new(1);
        let mut r = s.rng(Stream::Misc, 1);
        let mut t = 0;
        for _ in 0..10 {
            let n = step(&mut r, t, 1_000, 1_000_000, 10_000);
            assert!(n > t && n <= 10_000);
            t = n;
        }
    }
}
