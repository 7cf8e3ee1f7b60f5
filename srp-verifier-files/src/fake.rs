//! Fake users (RFC 5054 section 2.5.1.3): for a username without a verifier the server answers
//! with a group, a salt and a verifier derived from a secret seed, so that neither the answer nor
//! its timing shows which usernames exist. The client's Finished then fails as for a wrong
//! password.

use core::fmt;

use zeroize::Zeroizing;

use srp_core::secret_hash::{HmacSha1, SHA1_LEN};
use srp_core::{
    DEFAULT_SALT_LEN, Error, FakeVerifierSource, Group, GroupId, Salt, Username, VerifierRecord, ct,
};

/// The shortest seed accepted.
pub const MIN_SEED_LEN: usize = 16;

/// The group fake users get when nothing says otherwise (a verifier file without users).
pub const DEFAULT_FAKE_GROUP: GroupId = GroupId::G3072;

/// One (group, salt length) a fake user can get, with its weight.
#[derive(Clone, Copy)]
struct Shape {
    group: &'static Group,
    salt_len: usize,
    weight: u64,
    /// The sum of the weights of the shapes before this one.
    below: u64,
}

/// Derives stable fake records for unknown usernames from a secret seed.
///
/// Each username gets a (group, salt length) drawn from a weighted list: with
/// [`FakeUsers::weighted`] (what [`crate::VerifierDb::fake_users`] builds from a file), the
/// pairs the real users have, weighted by how many have each, so that probing many unknown names
/// shows the same mix of groups and salt lengths as the real users; with [`FakeUsers::new`], the
/// one pair the application sets (callback mode). The draw is HMAC-SHA1(seed, "shape" | I): the
/// same username always gets the same pair for the same seed and list.
///
/// Salt = HMAC-SHA1(seed, "salt" | I), as the RFC suggests, continued with HMAC-SHA1(seed,
/// "salt" | counter | I) for salts over 20 bytes, first byte forced non-zero like every salt
/// made here; the verifier is a pseudo-random value below N from HMAC-SHA1(seed, "verifier" |
/// counter | I). A salt or verifier is the prefix of the same expansion whatever length or group
/// the username draws, so a username that keeps its pair keeps its salt. The verifier is never
/// sent (B = k*v + g^b hides it), so it need not be g^x of anything.
///
/// The same seed and list always give the same records, as the RFC asks: keep the seed across
/// restarts (with a fresh random seed per process, an observer who connects before and after a
/// restart sees an unknown user's salt change). A file whose mix changes (users added or
/// removed) moves a few usernames to another pair, about as many as one user's share of the
/// file.
///
/// Equal work: [`FakeUsers::choose`] derives the fake record's material for every username (the
/// same HMACs, sized for the largest group and salt in the list, whatever the username draws)
/// and then copies either the real record or the fake one, at the cost of the copy's own size.
pub struct FakeUsers {
    /// HMAC-SHA1 keyed with the seed (its states are wiped on drop; the seed is not kept).
    mac: HmacSha1,
    /// Sorted by group, then salt length; at least one, weights at least 1.
    shapes: Vec<Shape>,
    total: u64,
    max_n_len: usize,
    max_salt_len: usize,
}

impl fmt::Debug for FakeUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<_> =
            self.shapes.iter().map(|s| (s.group.bits(), s.salt_len, s.weight)).collect();
        f.debug_struct("FakeUsers").field("shapes", &shapes).finish_non_exhaustive()
    }
}

/// What every lookup derives for a username, whether the user exists or not.
struct Material {
    /// Index into `shapes`: secret until the fake record is the answer.
    shape: usize,
    /// `max_salt_len` bytes.
    salt: Zeroizing<Vec<u8>>,
    /// `max_n_len` bytes' worth.
    verifier: FakeVerifierSource,
}

impl FakeUsers {
    /// Fake users all in `group` with salts of `salt_len` bytes (use the length of the real
    /// salts), derived from `seed` (at least [`MIN_SEED_LEN`] bytes): what a server that gets
    /// its records from the application (callback mode) sets.
    pub fn new(seed: &[u8], group: &'static Group, salt_len: usize) -> Result<Self, Error> {
        Self::weighted(seed, &[(group, salt_len, 1)])
    }

    /// Fake users whose (group, salt length) is drawn per username from `shapes`, each
    /// `(group, salt_len, weight)` chosen with probability weight / total; pairs listed twice
    /// add up, weights of 0 are left out, and a list with nothing left gives the 3072-bit group
    /// and [`DEFAULT_SALT_LEN`]-byte salts. Groups below a server's floor are kept: a server
    /// refuses such a record (`insufficient_security`) whether it is real or fake.
    ///
    /// Fails with [`Error::SeedTooShort`] or, for a salt length of 0 or over 255,
    /// [`Error::InvalidSaltLength`].
    pub fn weighted(seed: &[u8], shapes: &[(&'static Group, usize, u64)]) -> Result<Self, Error> {
        if seed.len() < MIN_SEED_LEN {
            return Err(Error::SeedTooShort);
        }
        let mut sorted: Vec<(&'static Group, usize, u64)> = Vec::new();
        for &(group, salt_len, weight) in shapes {
            if salt_len == 0 || salt_len > 255 {
                return Err(Error::InvalidSaltLength);
            }
            if weight == 0 {
                continue;
            }
            // Weights are user counts; capped so that the total stays far below 2^63.
            let weight = weight.min(u64::from(u32::MAX));
            match sorted.iter_mut().find(|(g, len, _)| *g == group && *len == salt_len) {
                Some((_, _, sum)) => *sum = (*sum + weight).min(u64::from(u32::MAX)),
                None => sorted.push((group, salt_len, weight)),
            }
        }
        if sorted.is_empty() {
            sorted.push((DEFAULT_FAKE_GROUP.group(), DEFAULT_SALT_LEN, 1));
        }
        sorted.sort_by_key(|&(group, salt_len, _)| (group.bits(), salt_len));
        let mut total = 0u64;
        let shapes: Vec<Shape> = sorted
            .into_iter()
            .map(|(group, salt_len, weight)| {
                let shape = Shape { group, salt_len, weight, below: total };
                total += weight;
                shape
            })
            .collect();
        let max_n_len = shapes.iter().map(|s| s.group.n_len()).max().unwrap_or(0);
        let max_salt_len = shapes.iter().map(|s| s.salt_len).max().unwrap_or(0);
        let seed = Zeroizing::new(seed.to_vec());
        ct::secret(&seed);
        Ok(Self { mac: HmacSha1::new(&seed), shapes, total, max_n_len, max_salt_len })
    }

    /// Fake users with a fresh random 32-byte seed (see the caveat on [`FakeUsers`]).
    pub fn random(group: &'static Group, salt_len: usize) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|_| Error::Rng)?;
        Self::new(&seed[..], group, salt_len)
    }

    /// The (group, salt length, weight) pairs fake users are drawn from, smallest group first.
    pub fn shapes(&self) -> impl Iterator<Item = (&'static Group, usize, u64)> + '_ {
        self.shapes.iter().map(|s| (s.group, s.salt_len, s.weight))
    }

    /// The fake record for `username`.
    pub fn record(&self, username: &Username) -> VerifierRecord {
        let material = self.derive(username);
        self.fake_record(&material)
    }

    /// The record a server answers `username` with: a copy of `real` when the user exists,
    /// else the fake record. The fake record's material is derived in both cases (the same
    /// HMACs), and the copy costs what a record of its group and salt length costs, so the two
    /// cases take the same work for records of the same shape. This is how a server in callback
    /// mode equalises its lookups (the application's own lookup is not covered).
    pub fn choose(&self, username: &Username, real: Option<&VerifierRecord>) -> VerifierRecord {
        let material = self.derive(username);
        match real {
            // The same steps as `fake_record`: a salt from bytes, a verifier copied limb by
            // limb through the same masking step.
            Some(real) => VerifierRecord {
                salt: Salt::new(real.salt.as_bytes()).expect("a Salt holds 1 to 255 bytes"),
                verifier: real.verifier.copy_like_fake(),
            },
            None => self.fake_record(&material),
        }
    }

    /// The fake record from its material; its shape, salt and group become public (they go
    /// into ServerKeyExchange).
    fn fake_record(&self, material: &Material) -> VerifierRecord {
        let shape = self.shapes[ct::declassify_usize(material.shape)];
        let salt = &material.salt[..shape.salt_len];
        ct::declassify(salt);
        VerifierRecord {
            salt: Salt::new(salt).expect("salt lengths were checked to be 1..=255 in weighted()"),
            verifier: material
                .verifier
                .verifier(shape.group)
                .expect("the material is as long as the largest N in `shapes`"),
        }
    }

    /// The material for `username`: the same work for every username of a given length.
    fn derive(&self, username: &Username) -> Material {
        let draw = self.expand(b"shape", username, SHA1_LEN);
        let mut point = [0u8; 8];
        point.copy_from_slice(&draw[..8]);
        // Uniform in [0, total): the top 64 bits of a 64-bit fraction times the total.
        let point = ((u128::from(u64::from_be_bytes(point)) * u128::from(self.total)) >> 64) as u64;
        // The shape whose [below, below + weight) holds the point: the number of shapes that
        // start at or below it, minus one, counted without branching on the point. Every value
        // is below 2^63, so `point - below` wraps (top bit set) exactly when point < below.
        let starts_at_or_below: usize =
            self.shapes.iter().map(|s| (1 ^ (point.wrapping_sub(s.below) >> 63)) as usize).sum();
        let shape = starts_at_or_below - 1;

        let mut salt = self.expand(b"salt", username, self.max_salt_len);
        // A first byte of 0 becomes 1 (OpenSSL drops leading zero bytes of salts), in
        // constant time: (0 - 1) >> 8 has its low bit set, (x - 1) >> 8 for x > 0 does not.
        salt[0] |= ((u16::from(salt[0]).wrapping_sub(1) >> 8) & 1) as u8;
        let verifier = FakeVerifierSource::new(&self.expand(b"verifier", username, self.max_n_len));
        Material { shape, salt, verifier }
    }

    /// HMAC-SHA1(seed, label | I) for the first 20 bytes, then HMAC-SHA1(seed, label | counter
    /// | I) for each further 20, truncated to `len`.
    fn expand(&self, label: &[u8], username: &Username, len: usize) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(len + SHA1_LEN));
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
