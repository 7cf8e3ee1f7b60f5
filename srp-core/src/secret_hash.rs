//! SHA-1 and HMAC-SHA1 for secret input, with their state wiped when they are dropped.
//!
//! The `sha1` 0.10 crate (digest 0.10) has no zeroize support: its hasher keeps the chaining
//! state and the last partial block of the input (the password, for x; the fake-user seed, for
//! HMAC) in memory it leaves as it is. These types run the same compression function
//! (`sha1::compress`, with its SHA-NI and assembly backends) over a state and a block buffer of
//! their own, which [`ZeroizeOnDrop`] clears. Public input (k, u) keeps using `sha1::Sha1`.
//!
//! The padding and the buffering depend on the input's length, which is public; the
//! compression function is constant-time in the data. What these types cannot reach are the
//! compression function's own stack temporaries (its message schedule).

use sha1::digest::generic_array::GenericArray;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The output size of SHA-1 in bytes.
pub const SHA1_LEN: usize = 20;

const BLOCK_LEN: usize = 64;
const INITIAL_STATE: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];

/// SHA-1 (FIPS 180-4) whose state and buffered input are wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Sha1 {
    state: [u32; 5],
    buffer: [u8; BLOCK_LEN],
    buffered: usize,
    length: u64,
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Sha1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("secret_hash::Sha1(..)")
    }
}

impl Sha1 {
    /// A hasher with nothing absorbed yet.
    pub fn new() -> Self {
        Self { state: INITIAL_STATE, buffer: [0; BLOCK_LEN], buffered: 0, length: 0 }
    }

    /// SHA-1 of `data` in one call.
    pub fn digest(data: &[u8]) -> Zeroizing<[u8; SHA1_LEN]> {
        let mut hasher = Self::new();
        hasher.update(data);
        hasher.finalize()
    }

    fn compress(state: &mut [u32; 5], block: &[u8]) {
        sha1::compress(state, core::slice::from_ref(GenericArray::from_slice(block)));
    }

    /// Absorbs `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = (BLOCK_LEN - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < BLOCK_LEN {
                return;
            }
            Self::compress(&mut self.state, &self.buffer);
            self.buffered = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK_LEN);
        for block in &mut blocks {
            Self::compress(&mut self.state, block);
        }
        let rest = blocks.remainder();
        self.buffer[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    /// The digest; the hasher (and its copy of the input) is wiped as it is dropped.
    pub fn finalize(mut self) -> Zeroizing<[u8; SHA1_LEN]> {
        self.finish()
    }

    /// Pads, compresses the last block(s) and returns the digest, leaving the state spent (the
    /// caller drops or wipes it).
    fn finish(&mut self) -> Zeroizing<[u8; SHA1_LEN]> {
        let bit_length = self.length.wrapping_mul(8);
        self.buffer[self.buffered] = 0x80;
        self.buffer[self.buffered + 1..].fill(0);
        if self.buffered + 1 > BLOCK_LEN - 8 {
            Self::compress(&mut self.state, &self.buffer);
            self.buffer.fill(0);
        }
        self.buffer[BLOCK_LEN - 8..].copy_from_slice(&bit_length.to_be_bytes());
        Self::compress(&mut self.state, &self.buffer);
        self.buffer.fill(0);
        self.buffered = 0;
        let mut out = Zeroizing::new([0u8; SHA1_LEN]);
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// HMAC-SHA1 (RFC 2104) whose keyed states are wiped on drop. Cloning a keyed instance and
/// feeding each clone a message saves hashing the key again.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HmacSha1 {
    inner: Sha1,
    outer: Sha1,
}

impl core::fmt::Debug for HmacSha1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("secret_hash::HmacSha1(..)")
    }
}

impl HmacSha1 {
    /// An HMAC keyed with `key` (any length; keys longer than a block are hashed first).
    pub fn new(key: &[u8]) -> Self {
        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        if key.len() > BLOCK_LEN {
            block[..SHA1_LEN].copy_from_slice(&Sha1::digest(key)[..]);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut pad = Zeroizing::new([0u8; BLOCK_LEN]);
        let mut keyed = |byte: u8| {
            for (p, k) in pad.iter_mut().zip(block.iter()) {
                *p = k ^ byte;
            }
            let mut hasher = Sha1::new();
            hasher.update(&pad[..]);
            hasher
        };
        let inner = keyed(0x36);
        let outer = keyed(0x5c);
        Self { inner, outer }
    }

    /// Absorbs part of the message.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The MAC; the keyed states are wiped as they are dropped.
    pub fn finalize(mut self) -> Zeroizing<[u8; SHA1_LEN]> {
        let inner = self.inner.finish();
        let mut outer = self.outer.clone();
        outer.update(&inner[..]);
        outer.finalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Digest;

    /// The `sha1` crate's digest, for comparison.
    fn reference(data: &[u8]) -> [u8; SHA1_LEN] {
        sha1::Sha1::digest(data).into()
    }

    #[test]
    fn fips_180_examples() {
        let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(&Sha1::digest(b"abc")[..]), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(&Sha1::digest(b"")[..]), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&Sha1::digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")[..]),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn agrees_with_the_sha1_crate_for_every_length_and_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..data.len() {
            let whole = Sha1::digest(&data[..len]);
            assert_eq!(*whole, reference(&data[..len]), "length {len}");
            for split in [0, 1, len / 3, len / 2, len.saturating_sub(1)] {
                let split = split.min(len);
                let mut parts = Sha1::new();
                parts.update(&data[..split]);
                parts.update(&data[split..len]);
                assert_eq!(*parts.finalize(), reference(&data[..len]), "{len} split at {split}");
            }
        }
    }

    /// RFC 2202 section 3, test cases 1, 2, 3 and 6 (a key longer than a block).
    #[test]
    fn rfc_2202_vectors() {
        let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mac = |key: &[u8], data: &[u8]| {
            let mut h = HmacSha1::new(key);
            h.update(data);
            hex(&h.finalize()[..])
        };
        assert_eq!(mac(&[0x0b; 20], b"Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00");
        assert_eq!(
            mac(b"Jefe", b"what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(mac(&[0xaa; 20], &[0xdd; 50]), "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
        assert_eq!(
            mac(&[0xaa; 80], b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn wiping_clears_state_and_buffered_input() {
        let mut hasher = Sha1::new();
        hasher.update(b"a secret shorter than a block");
        assert_ne!(hasher.buffered, 0);
        hasher.zeroize();
        assert_eq!((hasher.state, hasher.buffered, hasher.length), ([0; 5], 0, 0));
        assert_eq!(hasher.buffer, [0; BLOCK_LEN]);

        let mut mac = HmacSha1::new(b"a secret key");
        mac.update(b"message");
        mac.zeroize();
        assert_eq!((mac.inner.state, mac.outer.state), ([0; 5], [0; 5]));
        assert_eq!(mac.inner.buffer, [0; BLOCK_LEN]);
    }
}
