//! Vorbis codebook sizes checked before symphonia builds them. Its decoder
//! allocates each codebook's lookup table (entries × dimensions values) and
//! its code tables from the counts in the setup header, and a few dozen bytes
//! can claim a gigabyte a codebook: eight such codebooks in a 47 KB file
//! aborted the process under 4 GB (an allocation failure cannot be caught).
//!
//! The bounds: libvorbis's own per-codebook rule (it refuses a codebook
//! whose `ilog(dimensions) + ilog(entries)` exceeds 24), and totals over all
//! codebooks far above what encoders write: 1 640 real Vorbis files (GTZAN, the
//! Debian pool's game and music packages, ../shared/music) hold at most
//! 11 813 entries and 62 760 lookup values in all, 44 codebooks, and an
//! `ilog` sum of 17.

use symphonia::core::io::{BitReaderRtl, ReadBitsRtl};

/// libvorbis refuses a codebook whose `ilog(dimensions) + ilog(entries)`
/// is larger (vorbis_staticbook_unpack).
const LIBVORBIS_BOOK_BITS: u32 = 24;
/// Entries of all codebooks together (89 times the most seen).
const MAX_ENTRIES: u64 = 1 << 20;
/// Lookup-table values of all codebooks together (67 times the most seen;
/// 16 MB of `f32`).
const MAX_LOOKUP_VALUES: u64 = 1 << 22;
const CODEBOOK_SYNC: u32 = 0x56_4342;

/// Why a walk over the codebooks stopped early.
enum Stop {
    /// A count past the bounds above: refuse the file.
    TooLarge,
    /// The packet ends, or breaks the syntax, before any count is too
    /// large: symphonia stops at the same place with its own error,
    /// before it allocates anything more.
    Ends,
}

impl From<std::io::Error> for Stop {
    fn from(_: std::io::Error) -> Self {
        Stop::Ends
    }
}

/// Whether the codebooks of a Vorbis setup packet (the bytes after
/// `\x05vorbis`) stay within the bounds above.
pub fn codebooks_fit(setup: &[u8]) -> bool {
    !matches!(walk(setup), Err(Stop::TooLarge))
}

/// The number of bits needed to hold `x` (the Vorbis spec's `ilog`).
fn ilog(x: u32) -> u32 {
    u32::BITS - x.leading_zeros()
}

/// The codebooks' syntax as the Vorbis I spec (3.2.1) and symphonia read it,
/// counting what each would allocate.
fn walk(setup: &[u8]) -> Result<(), Stop> {
    let mut bs = BitReaderRtl::new(setup);
    let books = bs.read_bits_leq32(8)? + 1;
    let (mut entries_in_all, mut values_in_all) = (0u64, 0u64);
    for _ in 0..books {
        if bs.read_bits_leq32(24)? != CODEBOOK_SYNC {
            return Err(Stop::Ends);
        }
        let dimensions = bs.read_bits_leq32(16)?;
        let entries = bs.read_bits_leq32(24)?;
        entries_in_all += u64::from(entries);
        if ilog(dimensions) + ilog(entries) > LIBVORBIS_BOOK_BITS || entries_in_all > MAX_ENTRIES {
            return Err(Stop::TooLarge);
        }
        skip_codeword_lengths(&mut bs, entries)?;
        let lookup_values = match bs.read_bits_leq32(4)? {
            0 => continue,
            1 if dimensions > 0 => lookup1_values(entries, dimensions),
            2 => entries * dimensions, // under 2^24: the rule above
            _ => return Err(Stop::Ends),
        };
        values_in_all += u64::from(entries) * u64::from(dimensions);
        if values_in_all > MAX_LOOKUP_VALUES {
            return Err(Stop::TooLarge);
        }
        bs.ignore_bits(32 + 32)?; // minimum and delta
        let value_bits = bs.read_bits_leq32(4)? + 1;
        bs.ignore_bits(1)?; // sequence flag
        for _ in 0..lookup_values {
            bs.ignore_bits(value_bits)?;
        }
    }
    Ok(())
}

/// Skip one codebook's codeword lengths (each entry's, or runs of them).
fn skip_codeword_lengths(bs: &mut BitReaderRtl<'_>, entries: u32) -> Result<(), Stop> {
    if bs.read_bool()? {
        // ordered: a first length, then how many entries have each length
        bs.ignore_bits(5)?;
        let mut entry = 0u32;
        while entry < entries {
            entry += bs.read_bits_leq32(ilog(entries - entry))?;
        }
        return if entry == entries {
            Ok(())
        } else {
            Err(Stop::Ends)
        };
    }
    let sparse = bs.read_bool()?;
    for _ in 0..entries {
        if !sparse || bs.read_bool()? {
            bs.ignore_bits(5)?;
        }
    }
    Ok(())
}

/// The largest `v` with `v^dimensions <= entries` (the spec's lookup1_values).
fn lookup1_values(entries: u32, dimensions: u32) -> u32 {
    let fits = |v: u32| v.checked_pow(dimensions).is_some_and(|p| p <= entries);
    let mut v = f64::from(entries).powf(1.0 / f64::from(dimensions)).floor() as u32;
    while v > 0 && !fits(v) {
        v -= 1;
    }
    while fits(v + 1) {
        v += 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits written least-significant first, as Vorbis packs them.
    #[derive(Default)]
    struct Bits {
        bytes: Vec<u8>,
        used: usize,
    }

    impl Bits {
        fn put(&mut self, value: u64, width: u32) -> &mut Self {
            for i in 0..width {
                if self.used.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                *self.bytes.last_mut().unwrap() |= bit << (self.used % 8);
                self.used += 1;
            }
            self
        }
    }

    /// A setup whose `books` codebooks each hold `entries` of `dimensions`
    /// with a type-1 lookup table: one entry of length 1, the rest of one
    /// length (a complete code when `entries - 1` is a power of two).
    fn setup(books: u32, dimensions: u32, entries: u32) -> Vec<u8> {
        let mut b = Bits::default();
        b.put(u64::from(books - 1), 8);
        for _ in 0..books {
            b.put(u64::from(CODEBOOK_SYNC), 24)
                .put(u64::from(dimensions), 16)
                .put(u64::from(entries), 24);
            b.put(1, 1).put(0, 5); // ordered, from length 1
            let rest = entries - 1;
            let long = ilog(rest); // length of the other entries
            let mut at = 0;
            for length in 1..=long {
                let run = match length {
                    1 => 1,
                    l if l == long => rest,
                    _ => 0,
                };
                b.put(u64::from(run), ilog(entries - at));
                at += run;
            }
            b.put(1, 4).put(0, 32).put(0, 32).put(0, 4).put(0, 1);
            for _ in 0..lookup1_values(entries, dimensions) {
                b.put(0, 1);
            }
        }
        b.bytes
    }

    #[test]
    fn a_real_encoders_codebooks_fit() {
        assert!(codebooks_fit(&setup(44, 4, 257)));
    }

    /// Codebooks of under 100 bytes each claiming 8 M entries of 16
    /// dimensions (symphonia allocated 512 MB for each).
    #[test]
    fn codebooks_past_libvorbis_or_the_totals_are_refused() {
        let huge = setup(8, 16, (1 << 23) + 1);
        assert!(huge.len() < 1000, "{}", huge.len());
        assert!(!codebooks_fit(&huge));
        // within libvorbis's rule, but too many together
        assert!(codebooks_fit(&setup(1, 4, (1 << 16) + 1)));
        assert!(!codebooks_fit(&setup(80, 4, (1 << 16) + 1)));
    }

    #[test]
    fn a_packet_that_ends_early_is_left_to_symphonia() {
        let whole = setup(2, 2, 17);
        assert!(codebooks_fit(&whole[..whole.len() / 2]));
        assert!(codebooks_fit(&[]));
    }

    #[test]
    fn lookup1_values_is_the_integer_root() {
        assert_eq!(lookup1_values(16, 2), 4);
        assert_eq!(lookup1_values(17, 2), 4);
        assert_eq!(lookup1_values(15, 2), 3);
        assert_eq!(lookup1_values((1 << 23) + 1, 16), 2);
        assert_eq!(lookup1_values(5, 1), 5);
    }
}
