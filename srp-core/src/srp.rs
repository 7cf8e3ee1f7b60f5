//! SRP-6a as RFC 5054 sections 2.4 to 2.6 use it in TLS.
//!
//! Notation (RFC 5054 section 2.1): `|` is concatenation, `PAD(x)` left-pads x with zeros to the
//! length of N, `H` is SHA-1.
//!
//! - x = H(s | H(I | ":" | P)), v = g^x % N
//! - k = H(N | PAD(g)), u = H(PAD(A) | PAD(B))
//! - client: A = g^a % N, S = (B - (k * g^x)) ^ (a + (u * x)) % N
//! - server: B = k*v + g^b % N, S = (A * v^u) ^ b % N
//! - premaster secret = S, big-endian without leading zero bytes (as OpenSSL and GnuTLS
//!   encode it).
//!
//! Secrets (the password, x, v, a, b, S) are handled only by fixed-width, constant-time
//! arithmetic: no branch and no memory index depends on them.

use core::fmt;

use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::{BoxedUint, Word};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::group::{Group, strip_leading_zeros};
use crate::{Error, ct, secret_hash};

/// Size of the private exponents a and b in bytes (RFC 5054 section 2.5.3 asks for at least
/// 256 bits).
pub const PRIVATE_KEY_LEN: usize = 32;

/// Bits of the exponents: a and b are 256 bits, x and u 160 (SHA-1), so a + u*x < 2^321.
const PRIVATE_KEY_BITS: u32 = 256;
const HASH_BITS: u32 = 160;
const CLIENT_EXPONENT_BITS: u32 = 321;
/// Width of the integers that hold a + u*x (a whole number of 64-bit limbs above 321 bits).
const CLIENT_EXPONENT_PRECISION: u32 = 384;

/// Salts generated here: as long as `openssl srp` makes them, with a non-zero first byte, since
/// OpenSSL drops leading zero bytes of the salt when it computes x.
pub const DEFAULT_SALT_LEN: usize = 20;

/// An SRP username: 1 to 255 bytes (TLS carries it as `opaque srp_I<1..2^8-1>`), no NUL.
///
/// RFC 5054 section 2.3 asks for SASLprep-processed UTF-8; this type does not normalise and
/// compares bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(Box<[u8]>);

impl Username {
    /// Checks and wraps a username.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.len() {
            0 => Err(Error::EmptyUsername),
            256.. => Err(Error::UsernameTooLong),
            _ if bytes.contains(&0) => Err(Error::UsernameContainsNul),
            _ => Ok(Self(bytes.into())),
        }
    }

    /// The username's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A salt: 1 to 255 bytes (TLS carries it as `opaque s<1..2^8-1>`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Salt(Box<[u8]>);

impl Salt {
    /// Checks and wraps a salt. Leading zero bytes are kept: x hashes the salt as it is.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() || bytes.len() > 255 {
            return Err(Error::InvalidSaltLength);
        }
        Ok(Self(bytes.into()))
    }

    /// A fresh random salt of `len` bytes whose first byte is not zero.
    pub fn random(len: usize) -> Result<Self, Error> {
        if len == 0 || len > 255 {
            return Err(Error::InvalidSaltLength);
        }
        let mut bytes = vec![0u8; len];
        loop {
            getrandom::fill(&mut bytes).map_err(|_| Error::Rng)?;
            if bytes[0] != 0 {
                return Ok(Self(bytes.into()));
            }
        }
    }

    /// The salt's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A password verifier v = g^x % N, with the group it belongs to. Secret: it is wiped on drop,
/// and `Debug` does not print it.
#[derive(Clone)]
pub struct Verifier {
    group: &'static Group,
    v: Zeroizing<BoxedUint>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("group", &self.group.bits()).finish_non_exhaustive()
    }
}

impl Verifier {
    /// Reads a verifier stored as a big-endian integer (any number of leading zero bytes): it
    /// must be in [1, N).
    ///
    /// Constant time in the bytes (NSS builds a record this way on every handshake in callback
    /// mode): only their number is public, and the verdict, valid or not, is declassified.
    pub fn from_bytes(group: &'static Group, bytes: &[u8]) -> Result<Self, Error> {
        use crypto_bigint::{Choice, CtLt};
        // Bytes before the last n_len must all be zero: OR-ed together, not searched.
        let (excess, value) = bytes.split_at(bytes.len().saturating_sub(group.n_len()));
        let excess = excess.iter().fold(0u8, |acc, &byte| acc | byte);
        let v = Zeroizing::new(BoxedUint::from_be_slice_truncated(value, group.bits()));
        ct::secret_uint(&v);
        let valid = Choice::from_u8_eq(excess, 0) & v.is_zero().not() & CtLt::ct_lt(&*v, &group.n);
        if !ct::declassify_bool(valid.to_bool()) {
            return Err(Error::InvalidVerifier);
        }
        Ok(Self { group, v })
    }

    /// A verifier from secret pseudo-random bytes exactly as long as N, for fake users
    /// (RFC 5054 section 2.5.1.3): the top bit is cleared and the lowest bit set, which puts
    /// the value in [1, 2^(bits-1)), below every N (whose top bit is set), without a range check
    /// that would branch on the secret. Fails with [`Error::InvalidVerifier`] if `bytes` is not
    /// as long as N (a public length).
    pub fn from_random_bytes(group: &'static Group, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != group.n_len() {
            return Err(Error::InvalidVerifier);
        }
        let mut v = Zeroizing::new(bytes.to_vec());
        v[0] &= 0x7f;
        let last = v.len() - 1;
        v[last] |= 1;
        Ok(Self { group, v: Zeroizing::new(BoxedUint::from_be_slice_truncated(&v, group.bits())) })
    }

    /// Computes v = g^x % N for a username, password and salt (RFC 5054 section 2.4).
    pub fn compute(
        group: &'static Group,
        username: &Username,
        password: &[u8],
        salt: &Salt,
    ) -> Self {
        let x = x_uint(group, &compute_x(username, password, salt));
        // v in Montgomery form is as secret as v: wiped too.
        let v_monty = Zeroizing::new(group.pow_g(&x, HASH_BITS));
        Self { group, v: Zeroizing::new(v_monty.retrieve()) }
    }

    /// The group this verifier belongs to.
    pub fn group(&self) -> &'static Group {
        self.group
    }

    /// v as a big-endian integer without leading zeros, as verifier files store it. How many
    /// zero bytes are dropped is found in constant time and then declassified: the length of
    /// the result shows it, as the files that store it do.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let padded = Zeroizing::new(self.group.pad(&self.v));
        Zeroizing::new(padded[leading_zero_bytes(&padded)..].to_vec())
    }

    /// Whether `other` holds the same verifier, compared in constant time.
    pub fn ct_eq(&self, other: &Verifier) -> bool {
        use subtle::ConstantTimeEq;
        if self.group != other.group {
            return false;
        }
        let a = Zeroizing::new(self.group.pad(&self.v));
        let b = Zeroizing::new(self.group.pad(&other.v));
        bool::from(a.ct_eq(&b))
    }
}

/// Secret pseudo-random material from which a fake user's verifier is taken (RFC 5054 section
/// 2.5.1.3), for whichever group the fake user is given, up to the largest the material was made
/// for.
///
/// It exists so that a fake user costs what a real one costs: the conversion from bytes happens
/// once, at the width of the largest group (so it costs the same whatever group the username
/// draws), and [`FakeVerifierSource::verifier`] then copies a group's worth of limbs into a new
/// verifier, which is what cloning a stored verifier of that group costs (one allocation of the
/// same size and a copy).
pub struct FakeVerifierSource {
    wide: Zeroizing<BoxedUint>,
}

impl fmt::Debug for FakeVerifierSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeVerifierSource").finish_non_exhaustive()
    }
}

impl FakeVerifierSource {
    /// From secret bytes as long as N of the largest group it will serve (every N is a whole
    /// number of 64-bit limbs; `bytes` is used up to a multiple of 8 bytes).
    pub fn new(bytes: &[u8]) -> Self {
        let whole = &bytes[..bytes.len() - bytes.len() % 8];
        let bits = u32::try_from(whole.len() * 8).unwrap_or(u32::MAX);
        Self { wide: Zeroizing::new(BoxedUint::from_be_slice_truncated(whole, bits)) }
    }

    /// The fake verifier in `group`: the value of the first `group.n_len()` bytes with the top
    /// bit cleared and the lowest bit set, the same as [`Verifier::from_random_bytes`] of those
    /// bytes. Fails with [`Error::InvalidVerifier`] if the material is shorter than N.
    pub fn verifier(&self, group: &'static Group) -> Result<Verifier, Error> {
        let words = self.wide.as_words();
        let limbs = group.n_len() / 8;
        let Some(first) = words.len().checked_sub(limbs) else {
            return Err(Error::InvalidVerifier);
        };
        // The first n_len bytes (big-endian) are the top `limbs` limbs (little-endian order):
        // lowest bit set, top bit cleared.
        Ok(Verifier::from_limbs_masked(group, &words[first..], 1, Word::MAX >> 1))
    }
}

impl Verifier {
    /// A copy of this verifier made the way [`FakeVerifierSource::verifier`] makes a fake one:
    /// limb by limb through the same masking step (here one that changes nothing) into one new
    /// allocation. A server that answers a real user with this and an unknown one with a fake
    /// verifier does the same work in both cases (a plain `clone` is a `memcpy`, cheaper than
    /// the fake's masked copy).
    pub fn copy_like_fake(&self) -> Verifier {
        Verifier::from_limbs_masked(self.group, self.v.as_words(), 0, Word::MAX)
    }

    /// `words` (little-endian limbs, as many as the group's) with `or_low` OR-ed into the lowest
    /// and `and_top` AND-ed into the highest.
    fn from_limbs_masked(
        group: &'static Group,
        words: &[Word],
        or_low: Word,
        and_top: Word,
    ) -> Verifier {
        // Opaque to the optimiser: the real record's neutral masks must not fold the loop into
        // a plain copy, or the two answers would again cost different amounts.
        let (or_low, and_top) = core::hint::black_box((or_low, and_top));
        let last = words.len().saturating_sub(1);
        let v = BoxedUint::from_words(words.iter().enumerate().map(|(i, &word)| {
            let word = if i == 0 { word | or_low } else { word };
            if i == last { word & and_top } else { word }
        }));
        Verifier { group, v: Zeroizing::new(v) }
    }
}

/// What a server stores for one user: group, salt and verifier (RFC 5054 section 2.4).
#[derive(Clone, Debug)]
pub struct VerifierRecord {
    /// The salt s.
    pub salt: Salt,
    /// The verifier v, with its group.
    pub verifier: Verifier,
}

impl VerifierRecord {
    /// A new record for `username` with a fresh random salt of [`DEFAULT_SALT_LEN`] bytes.
    pub fn generate(
        group: &'static Group,
        username: &Username,
        password: &[u8],
    ) -> Result<Self, Error> {
        let salt = Salt::random(DEFAULT_SALT_LEN)?;
        let verifier = Verifier::compute(group, username, password, &salt);
        Ok(Self { salt, verifier })
    }

    /// The record's group.
    pub fn group(&self) -> &'static Group {
        self.verifier.group
    }

    /// Whether `password` is the one this record was made from (constant time in the
    /// password and the verifier).
    pub fn check_password(&self, username: &Username, password: &[u8]) -> bool {
        let candidate = Verifier::compute(self.group(), username, password, &self.salt);
        ct::declassify_bool(candidate.ct_eq(&self.verifier))
    }
}

/// A premaster secret: S big-endian, without leading zero bytes. Wiped on drop; `Debug` does not
/// print it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PremasterSecret(Vec<u8>);

impl PremasterSecret {
    /// The secret's bytes, to feed into the TLS PRF.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Encodes S without its leading zero bytes. How many there are is declassified: TLS feeds
    /// this length into the PRF, so the protocol itself reveals it through timing (as it does
    /// for finite-field Diffie-Hellman, the "Raccoon" attack); finding it takes constant time.
    ///
    /// S = 0 is refused ([`Error::ZeroSharedSecret`]): its premaster secret would be empty, and
    /// the session keys would follow from the handshake's public values alone. Whether S is 0 is
    /// the count of zeros being the whole length, so the check adds nothing to what the count
    /// already declassifies.
    fn from_padded(padded: &[u8]) -> Result<Self, Error> {
        let zeros = leading_zero_bytes(padded);
        if zeros == padded.len() {
            return Err(Error::ZeroSharedSecret);
        }
        Ok(Self(padded[zeros..].to_vec()))
    }
}

/// The number of leading zero bytes of a secret big-endian value, counted in constant time and
/// declassified: callers use it only where the protocol or the storage format shows it (the
/// premaster secret's length, a stored verifier's length).
fn leading_zero_bytes(padded: &[u8]) -> usize {
    use subtle::ConstantTimeEq;
    let mut zeros = 0usize;
    let mut still_zero = subtle::Choice::from(1);
    for &byte in padded {
        // Set while every byte so far has been 0.
        still_zero &= byte.ct_eq(&0);
        zeros += usize::from(still_zero.unwrap_u8());
    }
    ct::declassify_usize(zeros)
}

impl fmt::Debug for PremasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PremasterSecret(..)")
    }
}

/// x = H(s | H(I | ":" | P)) (RFC 5054 section 2.4), big-endian, 20 bytes. Secret.
///
/// Both hashes absorb secrets (the password, then H(I | ":" | P)), so they run on
/// [`secret_hash::Sha1`], whose state is wiped when it is dropped.
pub fn compute_x(username: &Username, password: &[u8], salt: &Salt) -> Zeroizing<[u8; 20]> {
    ct::secret(password);
    let mut inner = secret_hash::Sha1::new();
    inner.update(username.as_bytes());
    inner.update(b":");
    inner.update(password);
    let inner = inner.finalize();
    let mut outer = secret_hash::Sha1::new();
    outer.update(salt.as_bytes());
    outer.update(&inner[..]);
    outer.finalize()
}

/// x as an integer at the group's precision.
fn x_uint(group: &Group, x: &[u8; 20]) -> Zeroizing<BoxedUint> {
    Zeroizing::new(BoxedUint::from_be_slice_truncated(x, group.bits()))
}

/// u = H(PAD(A) | PAD(B)) (RFC 5054 section 2.6) for public values as they travel, checked as
/// the server and the client check them.
pub fn compute_u_bytes(
    group: &'static Group,
    client_public: &[u8],
    server_public: &[u8],
) -> Result<[u8; 20], Error> {
    let a_pub = group.parse_public_value(client_public)?;
    let b_pub = group.parse_public_value(server_public)?;
    compute_u(group, &a_pub, &b_pub)
}

/// u = H(PAD(A) | PAD(B)) (RFC 5054 section 2.6).
fn compute_u(group: &Group, a_pub: &BoxedUint, b_pub: &BoxedUint) -> Result<[u8; 20], Error> {
    let u: [u8; 20] =
        Sha1::new().chain_update(group.pad(a_pub)).chain_update(group.pad(b_pub)).finalize().into();
    check_scrambler(u)
}

/// u = 0 would drop the verifier from the server's computation (RFC 2945 section 3).
fn check_scrambler(u: [u8; 20]) -> Result<[u8; 20], Error> {
    if u == [0; 20] { Err(Error::ZeroScrambler) } else { Ok(u) }
}

/// A random private exponent of [`PRIVATE_KEY_LEN`] bytes.
fn random_private_key() -> Result<Zeroizing<[u8; PRIVATE_KEY_LEN]>, Error> {
    let mut key = Zeroizing::new([0u8; PRIVATE_KEY_LEN]);
    getrandom::fill(&mut key[..]).map_err(|_| Error::Rng)?;
    Ok(key)
}

fn private_exponent(group: &Group, key: &[u8]) -> Result<Zeroizing<BoxedUint>, Error> {
    if key.is_empty() || key.len() > PRIVATE_KEY_LEN {
        return Err(Error::InvalidPrivateKey);
    }
    ct::secret(key);
    Ok(Zeroizing::new(BoxedUint::from_be_slice_truncated(key, group.bits())))
}

/// A public value (A or B) in minimal big-endian form, as OpenSSL and GnuTLS send it.
fn public_value_bytes(group: &Group, value: &BoxedUint) -> Box<[u8]> {
    let padded = group.pad(value);
    strip_leading_zeros(&padded).into()
}

/// What the client sends and keeps after one ServerKeyExchange.
#[derive(Debug)]
pub struct ClientExchange {
    /// A, minimal big-endian, for ClientKeyExchange.
    pub public_key: Box<[u8]>,
    /// The premaster secret.
    pub premaster: PremasterSecret,
}

/// The client's side of one handshake (RFC 5054 section 2.6): everything it needs from one
/// ServerKeyExchange (group, salt, B) plus the credentials gives A and the premaster secret.
///
/// `group` comes from [`Group::from_params`], which enforces the known-groups rule and the
/// floor. B is checked before any secret is touched.
pub fn client_exchange(
    group: &'static Group,
    username: &Username,
    password: &[u8],
    salt: &Salt,
    server_public: &[u8],
) -> Result<ClientExchange, Error> {
    let a = random_private_key()?;
    client_exchange_with_private_key(group, username, password, salt, server_public, &a[..])
}

/// [`client_exchange`] with a given private exponent a, for known-answer tests.
pub fn client_exchange_with_private_key(
    group: &'static Group,
    username: &Username,
    password: &[u8],
    salt: &Salt,
    server_public: &[u8],
    private_key: &[u8],
) -> Result<ClientExchange, Error> {
    let b_pub = group.parse_public_value(server_public)?;
    let a = private_exponent(group, private_key)?;
    let a_pub = group.pow_g(&a, PRIVATE_KEY_BITS).retrieve();
    ct::declassify_uint(&a_pub);
    let u = compute_u(group, &a_pub, &b_pub)?;
    let x = x_uint(group, &compute_x(username, password, salt));
    let premaster = client_premaster(group, &a, &x, &u, &b_pub)?;
    Ok(ClientExchange { public_key: public_value_bytes(group, &a_pub), premaster })
}

/// S = (B - (k * g^x)) ^ (a + (u * x)) % N.
///
/// S is 0 exactly when B = k * g^x = k * v (mod N): a B that only someone who knows the verifier
/// can make, and that is refused ([`Error::ZeroSharedSecret`]).
fn client_premaster(
    group: &Group,
    a: &BoxedUint,
    x: &BoxedUint,
    u: &[u8; 20],
    b_pub: &BoxedUint,
) -> Result<PremasterSecret, Error> {
    let g_x = Zeroizing::new(group.pow_g(x, HASH_BITS));
    let k_g_x = Zeroizing::new(group.k.mul(&g_x));
    let b = BoxedMontyForm::new(b_pub.clone(), &group.params);
    let base = Zeroizing::new(b.sub(&k_g_x));
    // a + u*x in a fixed width of 384 bits: no carry can leave it, and the width is public.
    let widen = |value: &BoxedUint| {
        let bytes = Zeroizing::new(value.to_be_bytes());
        Zeroizing::new(BoxedUint::from_be_slice_truncated(
            &bytes[bytes.len() - PRIVATE_KEY_LEN..],
            CLIENT_EXPONENT_PRECISION,
        ))
    };
    let u = BoxedUint::from_be_slice_truncated(u, CLIENT_EXPONENT_PRECISION);
    let u_x = Zeroizing::new(u.wrapping_mul(&*widen(x)));
    let exponent = Zeroizing::new(u_x.wrapping_add(&*widen(a)));
    let s_monty = Zeroizing::new(group.pow(&base, &exponent, CLIENT_EXPONENT_BITS));
    let s = Zeroizing::new(s_monty.retrieve());
    PremasterSecret::from_padded(&Zeroizing::new(group.pad(&s)))
}

/// The server's side of one handshake (RFC 5054 section 2.5.3 and 2.6).
///
/// [`Server::new`] picks b and computes B before the client's A is known, for
/// ServerKeyExchange; [`Server::premaster`] takes A from ClientKeyExchange and consumes the
/// server, so that b serves for one premaster secret only: a server that answered two values of
/// A with one b would hand a peer two results of the same secret exponent. It is not `Clone` for
/// the same reason.
///
/// ```compile_fail,E0382
/// # use srp_core::{GroupId, Server, Username, VerifierRecord};
/// # let group = GroupId::G2048.group();
/// # let user = Username::new(b"alice").unwrap();
/// # let record = VerifierRecord::generate(group, &user, b"pw").unwrap();
/// # let a_pub = [2u8];
/// let server = Server::new(&record.verifier).unwrap();
/// let first = server.premaster(&a_pub);
/// let second = server.premaster(&a_pub); // error: `server` was moved by the first call
/// ```
pub struct Server {
    group: &'static Group,
    v: Zeroizing<BoxedMontyForm>,
    b: Zeroizing<BoxedUint>,
    b_pub: BoxedUint,
    b_pub_bytes: Box<[u8]>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("group", &self.group.bits()).finish_non_exhaustive()
    }
}

impl Server {
    /// Starts the server side for one user's verifier (real, or a fake user's) with a random b.
    pub fn new(verifier: &Verifier) -> Result<Self, Error> {
        let b = random_private_key()?;
        Self::with_private_key(verifier, &b[..])
    }

    /// [`Server::new`] with a given private exponent b, for known-answer tests.
    pub fn with_private_key(verifier: &Verifier, private_key: &[u8]) -> Result<Self, Error> {
        let group = verifier.group;
        let b = private_exponent(group, private_key)?;
        let v = Zeroizing::new(BoxedMontyForm::new((*verifier.v).clone(), &group.params));
        // B = k*v + g^b % N
        let k_v = Zeroizing::new(group.k.mul(&v));
        let g_b = Zeroizing::new(group.pow_g(&b, PRIVATE_KEY_BITS));
        let b_pub = k_v.add(&g_b).retrieve();
        ct::declassify_uint(&b_pub);
        // B = 0 happens with probability about 2^-2048 (k*v = -g^b); a client would reject it.
        if bool::from(b_pub.is_zero()) {
            return Err(Error::PublicValueZeroModN);
        }
        let b_pub_bytes = public_value_bytes(group, &b_pub);
        Ok(Self { group, v, b, b_pub, b_pub_bytes })
    }

    /// The group (N, g) for ServerKeyExchange.
    pub fn group(&self) -> &'static Group {
        self.group
    }

    /// B, minimal big-endian, for ServerKeyExchange.
    pub fn public_key(&self) -> &[u8] {
        &self.b_pub_bytes
    }

    /// Takes A from ClientKeyExchange and gives the premaster secret
    /// S = (A * v^u) ^ b % N. A is checked before any secret is touched.
    ///
    /// Consumes the server, whatever the outcome: b is used for one premaster secret at most
    /// and is wiped when this returns. (The C face, `srp_server_premaster`, checks A before it
    /// takes the server, so that a rejected A leaves it unused there.)
    pub fn premaster(self, client_public: &[u8]) -> Result<PremasterSecret, Error> {
        let group = self.group;
        let a_pub = group.parse_public_value(client_public)?;
        let u = compute_u(group, &a_pub, &self.b_pub)?;
        self.premaster_with_u(&a_pub, &u)
    }

    /// The checks [`Server::premaster`] makes of A before it touches a secret (length, 0 modulo
    /// N, below N, u not 0), without using the server up.
    pub fn check_client_public(&self, client_public: &[u8]) -> Result<(), Error> {
        let a_pub = self.group.parse_public_value(client_public)?;
        compute_u(self.group, &a_pub, &self.b_pub).map(drop)
    }

    /// S is 0 only if A is 0 modulo N (N is prime and v is not 0), which `premaster` has
    /// refused already; `from_padded` checks anyway.
    fn premaster_with_u(&self, a_pub: &BoxedUint, u: &[u8; 20]) -> Result<PremasterSecret, Error> {
        let group = self.group;
        let u = BoxedUint::from_be_slice_truncated(u, group.bits());
        let v_u = Zeroizing::new(group.pow(&self.v, &u, HASH_BITS));
        let a = BoxedMontyForm::new(a_pub.clone(), &group.params);
        let base = Zeroizing::new(a.mul(&v_u));
        let s_monty = Zeroizing::new(group.pow(&base, &self.b, PRIVATE_KEY_BITS));
        let s = Zeroizing::new(s_monty.retrieve());
        PremasterSecret::from_padded(&Zeroizing::new(group.pad(&s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;

    #[test]
    fn zero_scrambler_is_rejected() {
        assert_eq!(check_scrambler([0; 20]), Err(Error::ZeroScrambler));
        let mut one = [0; 20];
        one[19] = 1;
        assert_eq!(check_scrambler(one), Ok(one));
    }

    #[test]
    fn premaster_strips_leading_zeros() {
        let encode = |padded: &[u8]| PremasterSecret::from_padded(padded).map(|p| p.0.clone());
        assert_eq!(encode(&[0, 0, 1, 0, 2]), Ok(vec![1, 0, 2]));
        assert_eq!(encode(&[7, 0]), Ok(vec![7, 0]));
        assert_eq!(encode(&[0, 0, 0, 1]), Ok(vec![1]));
        assert_eq!(encode(&[0, 0]), Err(Error::ZeroSharedSecret), "S = 0 is refused");
    }

    #[test]
    fn stored_verifier_range() {
        for id in GroupId::ALL {
            let group = id.group();
            let n = group.n_bytes();
            let mut n_minus_1 = n.to_vec();
            *n_minus_1.last_mut().expect("N is not empty") -= 1;
            let mut padded_one = vec![0u8; n.len() + 5];
            *padded_one.last_mut().expect("not empty") = 1;
            let mut long_one = padded_one.clone();
            long_one[0] = 1;
            let cases: [(&str, Vec<u8>, bool); 8] = [
                ("1", vec![1], true),
                ("N - 1", n_minus_1.clone(), true),
                ("N - 1 with leading zeros", [&[0u8; 3][..], &n_minus_1].concat(), true),
                ("1 padded to |N| + 5", padded_one, true),
                ("0 (empty)", vec![], false),
                ("0 (padded)", vec![0; n.len()], false),
                ("N", n.to_vec(), false),
                ("a non-zero byte beyond |N|", long_one, false),
            ];
            for (what, bytes, valid) in cases {
                let parsed = Verifier::from_bytes(group, &bytes);
                assert_eq!(parsed.is_ok(), valid, "{what} in group {}", id.bits());
                if let Ok(v) = parsed {
                    assert_eq!(v.to_bytes().as_slice(), strip_leading_zeros(&bytes), "{what}");
                } else {
                    assert_eq!(parsed.map(drop), Err(Error::InvalidVerifier), "{what}");
                }
            }
        }
    }

    #[test]
    fn fake_verifier_source_matches_from_random_bytes() {
        let bytes: Vec<u8> = (0..1024u32).map(|i| (i * 73 + 5) as u8).collect();
        let source = FakeVerifierSource::new(&bytes);
        for id in GroupId::ALL {
            let group = id.group();
            let expected =
                Verifier::from_random_bytes(group, &bytes[..group.n_len()]).expect("n_len bytes");
            let taken = source.verifier(group).expect("material long enough");
            assert!(taken.ct_eq(&expected), "group {}", id.bits());
            assert!(taken.copy_like_fake().ct_eq(&taken), "copy in group {}", id.bits());
        }
        let short = FakeVerifierSource::new(&bytes[..256]);
        assert!(short.verifier(GroupId::G2048.group()).is_ok());
        assert_eq!(short.verifier(GroupId::G3072.group()).map(drop), Err(Error::InvalidVerifier));
    }

    #[test]
    fn username_rules() {
        assert_eq!(Username::new(b""), Err(Error::EmptyUsername));
        assert_eq!(Username::new(&[b'a'; 256]), Err(Error::UsernameTooLong));
        assert_eq!(Username::new(b"al\0ice"), Err(Error::UsernameContainsNul));
        assert!(Username::new(&[b'a'; 255]).is_ok());
    }

    #[test]
    fn exponent_width_holds_a_plus_u_x() {
        // The largest a + u*x: (2^256 - 1) + (2^160 - 1)^2 < 2^321.
        let max = BoxedUint::from_be_slice_truncated(&[0xff; 20], CLIENT_EXPONENT_PRECISION);
        let a = BoxedUint::from_be_slice_truncated(&[0xff; 32], CLIENT_EXPONENT_PRECISION);
        let e = max.wrapping_mul(&max).wrapping_add(&a);
        assert!(e.bit_width_vartime() <= CLIENT_EXPONENT_BITS);
        let _ = GroupId::G1024;
    }
}
