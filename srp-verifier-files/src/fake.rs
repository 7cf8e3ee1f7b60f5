//! Fake users (RFC 5054 section 2.5.1.3): for a username without a verifier the server answers
//! with a salt and a verifier derived from a secret seed, so that neither the answer nor its
//! timing shows which usernames exist. The client's Finished then fails as for a wrong password.

use core::fmt;

use zeroize::Zeroizing;

use srp_core::secret_hash::HmacSha1;
use srp_core::{Error, Group, Salt, Username, Verifier, VerifierRecord, ct};

/// The shortest seed accepted.
pub const MIN_SEED_LEN: usize = 16;

/// Derives stable fake records for unknown usernames from a secret seed.
///
/// The same seed, group and username always give the same salt, as the RFC asks: keep the seed
/// across restarts (a fresh random seed per process lets an observer who connects before and
/// after a restart see that an unknown user's salt changed).
///
/// Salt = HMAC-SHA1(seed, "salt" | I) as the RFC suggests (extended by a counter when longer
/// than 20 bytes, first byte forced non-zero like every salt made here); the verifier is a
/// pseudo-random value below N from HMAC-SHA1(seed, "verifier" | counter | I). The verifier is
/// never sent: B = k*v + g^b hides it, so it need not be g^x of anything, and deriving it costs
/// a few HMACs rather than an exponentiation, keeping a fake user's timing that of a real one.
pub struct FakeUsers {
    /// HMAC-SHA1 keyed with the seed (its states are wiped on drop; the seed is not kept).
    mac: HmacSha1,
    group: &'static Group,
    salt_len: usize,
}

impl fmt::Debug for FakeUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeUsers")
            .field("group", &self.group.bits())
            .field("salt_len", &self.salt_len)
            .finish_non_exhaustive()
    }
}

impl FakeUsers {
    /// Fake users in `group` with salts of `salt_len` bytes (use the length of the real salts),
    /// derived from `seed` (at least [`MIN_SEED_LEN`] bytes).
    pub fn new(seed: &[u8], group: &'static Group, salt_len: usize) -> Result<Self, Error> {
        if seed.len() < MIN_SEED_LEN {
            return Err(Error::SeedTooShort);
        }
        if salt_len == 0 || salt_len > 255 {
            return Err(Error::InvalidSaltLength);
        }
        let seed = Zeroizing::new(seed.to_vec());
        ct::secret(&seed);
        Ok(Self { mac: HmacSha1::new(&seed), group, salt_len })
    }

    /// Fake users with a fresh random 32-byte seed (see the caveat on [`FakeUsers`]).
    pub fn random(group: &'static Group, salt_len: usize) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|_| Error::Rng)?;
        Self::new(&seed[..], group, salt_len)
    }

    /// The group fake users are placed in.
    pub fn group(&self) -> &'static Group {
        self.group
    }

    /// The fake record for `username`.
    pub fn record(&self, username: &Username) -> VerifierRecord {
        let mut salt = self.expand(b"salt", username, self.salt_len);
        // The salt is sent in the clear; only its derivation is secret.
        ct::declassify(&salt);
        salt[0] |= u8::from(salt[0] == 0);
        // As long as N, so below 2^(bits-1) < N and never 0 once `from_random_bytes` masks it.
        let v = self.expand(b"verifier", username, self.group.n_len());
        VerifierRecord {
            salt: Salt::new(&salt).expect("salt_len was checked to be 1..=255 in new()"),
            verifier: Verifier::from_random_bytes(self.group, &v)
                .expect("`expand` returns exactly n_len bytes"),
        }
    }

    /// HMAC-SHA1(seed, label | I) for the first 20 bytes, then HMAC-SHA1(seed, label | counter
    /// | I) for each further 20, truncated to `len`.
    fn expand(&self, label: &[u8], username: &Username, len: usize) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(len + 20));
        let mut counter: u32 = 0;
        while out.len() < len {
            let mut mac = self.mac.clone();
            mac.update(label);
            if counter > 0 {
                mac.update(&counter.to_be_bytes());
            }
            mac.update(username.as_bytes());
            out.extend_from_slice(&mac.finalize()[..]);
            counter += 1;
        }
        out.truncate(len);
        out
    }
}
