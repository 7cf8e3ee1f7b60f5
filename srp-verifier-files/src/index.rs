//! The lookup table a server uses to find a username's record: the same work whether the user
//! is in the file or not.
//!
//! A `HashMap` or a scan that stops at the first match takes a different path for a present and
//! an absent key (a key comparison, probing that stops at a match or at an empty slot), and a
//! full scan of the users with constant-time comparisons costs as much as the file is long
//! (10,000 users: some 10,000 comparisons per handshake). This table does a fixed amount of work
//! per lookup instead:
//!
//! - Each username is hashed with HMAC-SHA1 under a key drawn when the table is built: 16 bytes
//!   are its tag, 4 more pick its bucket. The key keeps the table's contents meaningless outside
//!   the process; the bucket depends only on the username asked for, which is public.
//! - Buckets are padded to the same number of slots (the fullest bucket's, a few with about two
//!   users per bucket), and a lookup compares the tag with every slot of its bucket in constant
//!   time, selecting the entry by mask. So every lookup costs one HMAC of the username (its
//!   length is public) and the same number of slot comparisons, present or absent.
//! - Only then is "found" declassified, to copy the record. Which record's memory is read then
//!   differs (the real one, or the fake one the caller derived): an address a co-resident cache
//!   attacker could see, not a difference in work.
//!
//! The table's tags and slot flags are marked secret for the constant-time check (the set of
//! usernames a file holds is what fake users protect).

use core::fmt;

use zeroize::Zeroizing;

use srp_core::secret_hash::HmacSha1;
use srp_core::{Username, ct};

use crate::Entry;

/// Bytes of the tag kept per user (of SHA-1's 20): 2^-128 for two usernames to collide.
const TAG_LEN: usize = 16;
/// A slot: the tag, the entry's index (little-endian u32) and 1 if the slot is used.
const SLOT_LEN: usize = TAG_LEN + 4 + 1;
/// Users per bucket on average, before padding.
const LOAD: usize = 2;

/// The lookup table of a [`crate::VerifierDb`]'s users (not its revoked ones).
#[derive(Clone)]
pub(crate) struct Index {
    key: HmacSha1,
    /// Buckets - 1 (a power of two minus one).
    mask: u32,
    /// Slots per bucket.
    width: usize,
    /// `buckets * width` slots of `SLOT_LEN` bytes.
    slots: Vec<u8>,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("buckets", &(self.mask as usize + 1))
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

impl Index {
    /// The table of the entries that are not revoked. Draws its key from the operating system
    /// (`Error::Rng` if that fails).
    pub(crate) fn build(entries: &[Entry]) -> Result<Index, srp_core::Error> {
        let users: Vec<(usize, &Username)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_revoked())
            .map(|(i, e)| (i, e.username()))
            .collect();
        let buckets = users.len().div_ceil(LOAD).max(1).next_power_of_two();
        // Two distinct usernames with the same 128-bit tag would need an HMAC collision; if it
        // ever happened, a new key makes another table.
        for _ in 0..4 {
            let mut key = Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut key[..]).map_err(|_| srp_core::Error::Rng)?;
            let mut index = Index {
                key: HmacSha1::new(&key[..]),
                mask: u32::try_from(buckets - 1).unwrap_or(u32::MAX),
                width: 0,
                slots: Vec::new(),
            };
            let hashed: Vec<([u8; TAG_LEN], usize, usize)> = users
                .iter()
                .map(|&(entry, user)| {
                    let (tag, bucket) = index.hash(user);
                    (tag, bucket, entry)
                })
                .collect();
            let mut tags: Vec<[u8; TAG_LEN]> = hashed.iter().map(|h| h.0).collect();
            tags.sort_unstable();
            if tags.windows(2).any(|pair| pair[0] == pair[1]) {
                continue;
            }
            let mut fill = vec![0usize; buckets];
            for &(_, bucket, _) in &hashed {
                fill[bucket] += 1;
            }
            index.width = fill.iter().copied().max().unwrap_or(0).max(1);
            index.slots = vec![0u8; buckets * index.width * SLOT_LEN];
            fill.fill(0);
            for (tag, bucket, entry) in hashed {
                let at = (bucket * index.width + fill[bucket]) * SLOT_LEN;
                fill[bucket] += 1;
                let slot = &mut index.slots[at..at + SLOT_LEN];
                slot[..TAG_LEN].copy_from_slice(&tag);
                // A verifier file of at most 64 MiB has far fewer than 2^32 entries.
                slot[TAG_LEN..TAG_LEN + 4].copy_from_slice(&(entry as u32).to_le_bytes());
                slot[TAG_LEN + 4] = 1;
            }
            ct::secret(&index.slots);
            return Ok(index);
        }
        Err(srp_core::Error::Rng)
    }

    /// The username's tag and bucket.
    fn hash(&self, username: &Username) -> ([u8; TAG_LEN], usize) {
        let mut mac = self.key.clone();
        mac.update(username.as_bytes());
        let digest = mac.finalize();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&digest[..TAG_LEN]);
        let mut bucket = [0u8; 4];
        bucket.copy_from_slice(&digest[TAG_LEN..TAG_LEN + 4]);
        (tag, (u32::from_le_bytes(bucket) & self.mask) as usize)
    }

    /// The index of the username's entry, if the table holds it: one HMAC and `width` slot
    /// comparisons in constant time, whatever the answer; then the answer is declassified.
    pub(crate) fn find(&self, username: &Username) -> Option<usize> {
        let (tag, bucket) = self.hash(username);
        let start = bucket * self.width * SLOT_LEN;
        let mut found = 0u32;
        let mut entry = 0u32;
        for slot in self.slots[start..start + self.width * SLOT_LEN].chunks_exact(SLOT_LEN) {
            let diff = slot[..TAG_LEN].iter().zip(&tag).fold(0u8, |acc, (a, b)| acc | (a ^ b));
            // 1 when the tags are equal and the slot is used, else 0, without a branch.
            let equal = 1 ^ ((u32::from(diff) | u32::from(diff).wrapping_neg()) >> 31);
            let hit = equal & u32::from(slot[TAG_LEN + 4]);
            let mask = hit.wrapping_neg();
            let mut stored = [0u8; 4];
            stored.copy_from_slice(&slot[TAG_LEN..TAG_LEN + 4]);
            entry = (entry & !mask) | (u32::from_le_bytes(stored) & mask);
            found |= hit;
        }
        if ct::declassify_bool(found != 0) {
            Some(ct::declassify_usize(entry as usize))
        } else {
            None
        }
    }
}
