//! Independent, reproducible random streams, one per chunk of work.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every simulation draws from: xoshiro256++ (Blackman & Vigna, *ACM TOMS*
/// 47, 36, 2021), fast, 256 bits of state, and statistically strong.
pub type StreamRng = Xoshiro256PlusPlus;

/// One step of SplitMix64 (Steele, Lea & Flood, OOPSLA 2014), a bijective mixer used to turn
/// structured inputs (seed, indices) into well-spread 64-bit words.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a 64-bit hash of a string: a fixed, platform-independent way to turn a scenario
/// name into a number (Rust's `DefaultHasher` may change between releases).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The random stream of chunk `chunk` of the grid cell whose key is `cell` (a
/// [`super::CellKey`], derived from the cell's parameter values) of scenario `scenario` under
/// `seed`.
///
/// The 256-bit xoshiro state is four consecutive SplitMix64 outputs from a state that
/// absorbs, in order, the seed, the scenario's FNV-1a hash, the cell key and the chunk. It depends
/// on nothing else (no time, no thread id), which is what makes every run reproducible for
/// any thread count or shard split.
///
/// ```
/// use rand::Rng;
/// use stuck::mc::chunk_stream;
/// let mut a = chunk_stream(7, "hessian-signs", 3, 0);
/// let mut b = chunk_stream(7, "hessian-signs", 3, 0);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let mut c = chunk_stream(7, "hessian-signs", 3, 1);
/// assert_ne!(a.next_u64(), c.next_u64());
/// ```
pub fn chunk_stream(seed: u64, scenario: &str, cell: u64, chunk: u64) -> StreamRng {
    let mut state = seed;
    for word in [fnv1a(scenario), cell, chunk] {
        state = splitmix64(&mut state) ^ word;
    }
    let mut seed_bytes = [0u8; 32];
    for block in seed_bytes.chunks_exact_mut(8) {
        block.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(seed_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn splitmix_reference_values() {
        // Reference outputs of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        let mut state = 1_234_567;
        assert_eq!(splitmix64(&mut state), 6_457_827_717_110_365_317);
        assert_eq!(splitmix64(&mut state), 3_203_168_211_198_807_973);
    }

    const PINNED: [u64; 3] = [
        2_545_020_565_042_756_737,
        7_312_846_250_473_556_427,
        11_112_843_401_090_992_653,
    ];

    /// Pinned outputs: every published number depends on these streams, so a change to the
    /// derivation (or to the generator crate) must be a deliberate, visible change.
    #[test]
    fn stream_derivation_is_pinned() {
        let mut a = chunk_stream(
            1,
            "hessian-signs",
            super::super::CellKey::new("goe n=3").0,
            0,
        );
        let mut b = chunk_stream(7, "saddle-escape", 42, 9);
        assert_eq!([a.next_u64(), a.next_u64(), b.next_u64()], PINNED);
    }

    #[test]
    fn streams_differ_in_every_coordinate() {
        let first = |s: StreamRng| s.clone().next_u64();
        let base = first(chunk_stream(1, "a", 0, 0));
        assert_ne!(base, first(chunk_stream(2, "a", 0, 0)));
        assert_ne!(base, first(chunk_stream(1, "b", 0, 0)));
        assert_ne!(base, first(chunk_stream(1, "a", 1, 0)));
        assert_ne!(base, first(chunk_stream(1, "a", 0, 1)));
        // (cell, chunk) = (0, 1) and (1, 0) must not collide either.
        assert_ne!(
            first(chunk_stream(1, "a", 0, 1)),
            first(chunk_stream(1, "a", 1, 0))
        );
    }
}
