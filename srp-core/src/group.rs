//! The seven groups of RFC 5054 Appendix A, and the check that admits a group from the network.

use std::sync::OnceLock;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use hex_literal::hex;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::Error;
use crate::arith::{FixedBase, Modulus};

/// The smallest group accepted by default: RFC 5054's 1024- and 1536-bit groups are too weak
/// for new deployments.
pub const DEFAULT_MIN_BITS: u32 = 2048;

/// The size of the largest group in bytes: a buffer this long holds any N, A, B, or premaster
/// secret.
pub const MAX_N_LEN: usize = 1024;

/// The widest exponent of g: the private keys a and b (x is 160 bits).
const FIXED_BASE_BITS: u32 = 256;

/// Identifies one of the RFC 5054 Appendix A groups by its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupId {
    /// The 1024-bit group (g = 2).
    G1024,
    /// The 1536-bit group (g = 2).
    G1536,
    /// The 2048-bit group (g = 2).
    G2048,
    /// The 3072-bit group (g = 5).
    G3072,
    /// The 4096-bit group (g = 5).
    G4096,
    /// The 6144-bit group (g = 5).
    G6144,
    /// The 8192-bit group (g = 19).
    G8192,
}

impl GroupId {
    /// Every group, smallest first.
    pub const ALL: [GroupId; 7] =
        [Self::G1024, Self::G1536, Self::G2048, Self::G3072, Self::G4096, Self::G6144, Self::G8192];

    /// The group of this size, if RFC 5054 defines one.
    pub const fn from_bits(bits: u32) -> Option<Self> {
        Some(match bits {
            1024 => Self::G1024,
            1536 => Self::G1536,
            2048 => Self::G2048,
            3072 => Self::G3072,
            4096 => Self::G4096,
            6144 => Self::G6144,
            8192 => Self::G8192,
            _ => return None,
        })
    }

    /// The size of N in bits.
    pub const fn bits(self) -> u32 {
        match self {
            Self::G1024 => 1024,
            Self::G1536 => 1536,
            Self::G2048 => 2048,
            Self::G3072 => 3072,
            Self::G4096 => 4096,
            Self::G6144 => 6144,
            Self::G8192 => 8192,
        }
    }

    /// The generator g.
    pub const fn generator(self) -> u8 {
        match self {
            Self::G1024 | Self::G1536 | Self::G2048 => 2,
            Self::G3072 | Self::G4096 | Self::G6144 => 5,
            Self::G8192 => 19,
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    /// N, big-endian: exactly `bits / 8` bytes, the top bit set.
    const fn n(self) -> &'static [u8] {
        match self {
            Self::G1024 => &N_1024,
            Self::G1536 => &N_1536,
            Self::G2048 => &N_2048,
            Self::G3072 => &N_3072,
            Self::G4096 => &N_4096,
            Self::G6144 => &N_6144,
            Self::G8192 => &N_8192,
        }
    }

    /// The group's parameters (built once per process, then shared).
    pub fn group(self) -> &'static Group {
        static GROUPS: [OnceLock<Group>; 7] = [const { OnceLock::new() }; 7];
        GROUPS[self.index()].get_or_init(|| Group::build(self))
    }
}

/// One RFC 5054 group with everything the protocol derives from it alone.
///
/// Values of this type exist only for the seven known groups: a group received from the network
/// becomes a `Group` only through [`Group::from_params`].
pub struct Group {
    id: GroupId,
    /// N, big-endian, exactly `bits / 8` bytes (the top bit of every N is set).
    n_bytes: &'static [u8],
    /// Montgomery parameters for N.
    pub(crate) params: BoxedMontyParams,
    /// g in Montgomery form.
    pub(crate) g: BoxedMontyForm,
    /// k = SHA1(N | PAD(g)) in Montgomery form.
    pub(crate) k: BoxedMontyForm,
    /// N as an integer.
    pub(crate) n: BoxedUint,
    /// N for the exponentiation backend.
    modulus: Modulus,
    /// The fixed-base table of g, built on first use (see [`Group::g_table`]).
    g_table: OnceLock<FixedBase>,
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group").field("bits", &self.bits()).finish_non_exhaustive()
    }
}

impl PartialEq for Group {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Group {}

impl Group {
    /// The group of `bits` bits, if RFC 5054 defines one.
    pub fn by_bits(bits: u32) -> Option<&'static Group> {
        GroupId::from_bits(bits).map(GroupId::group)
    }

    /// Admits a group received from the network (the client's check of ServerKeyExchange,
    /// RFC 5054 section 2.5.3): only an exact match of (N, g) with a known group, at or above
    /// `min_bits`, is accepted.
    ///
    /// Leading zero bytes of N and g are ignored, as in any big-endian integer encoding.
    pub fn from_params(n: &[u8], g: &[u8], min_bits: u32) -> Result<&'static Group, Error> {
        let n = strip_leading_zeros(n);
        let g = strip_leading_zeros(g);
        let id = GroupId::ALL
            .into_iter()
            .find(|id| {
                let group = id.group();
                group.n_bytes == n && g == [id.generator()]
            })
            .ok_or(Error::UnknownGroup)?;
        if id.bits() < min_bits {
            return Err(Error::GroupTooSmall { bits: id.bits(), min_bits });
        }
        Ok(id.group())
    }

    fn build(id: GroupId) -> Group {
        let n_bytes = id.n();
        let bits = id.bits();
        let n = BoxedUint::from_be_slice_vartime(n_bytes);
        // Every RFC 5054 N is an odd prime; the constants are fixed in this file.
        let params = BoxedMontyParams::new_vartime(
            Odd::new(n.clone()).expect("RFC 5054 group moduli are odd"),
        );
        let to_monty = |value: &[u8]| {
            BoxedMontyForm::new(BoxedUint::from_be_slice_truncated(value, bits), &params)
        };
        let mut padded_g = vec![0u8; n_bytes.len()];
        padded_g[n_bytes.len() - 1] = id.generator();
        let k: [u8; 20] =
            Sha1::new().chain_update(n_bytes).chain_update(&padded_g).finalize().into();
        let modulus =
            Modulus::new(n.as_words(), BoxedMontyForm::one(&params).as_montgomery().as_words());
        Group {
            modulus,
            g_table: OnceLock::new(),
            id,
            g: to_monty(&[id.generator()]),
            k: to_monty(&k),
            n,
            params,
            n_bytes,
        }
    }

    /// N for the exponentiation backend.
    #[cfg(test)]
    pub(crate) fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// g^(j 16^i) for 256-bit exponents, built once per group on first use: 64 rows of 16
    /// entries (2048 bits: 256 KiB, 8192 bits: 1 MiB).
    pub(crate) fn g_table(&self) -> &FixedBase {
        self.g_table.get_or_init(|| {
            self.modulus.fixed_base(self.g.as_montgomery().as_words(), FIXED_BASE_BITS)
        })
    }

    /// base^exp for the low `bits` bits of `exp` (public width, secret values), constant time.
    pub(crate) fn pow(&self, base: &BoxedMontyForm, exp: &BoxedUint, bits: u32) -> BoxedMontyForm {
        let mut out = Zeroizing::new(vec![0u64; self.modulus.limbs()]);
        self.modulus.pow(base.as_montgomery().as_words(), exp.as_words(), bits, &mut out);
        BoxedMontyForm::from_montgomery(BoxedUint::from_words(out.iter().copied()), &self.params)
    }

    /// [`Group::pow`] or [`Group::pow_g`] on Montgomery-form words (the harness's traces).
    #[cfg(feature = "backend-select")]
    pub(crate) fn pow_words(
        &self,
        base: &[u64],
        exp: &[u64],
        bits: u32,
        fixed: bool,
        out: &mut [u64],
    ) {
        if fixed {
            self.modulus.pow_fixed(self.g_table(), exp, bits, out);
        } else {
            self.modulus.pow(base, exp, bits, out);
        }
    }

    /// g^exp for the low `bits` bits of `exp` (at most 256), constant time, with the fixed-base
    /// table.
    pub(crate) fn pow_g(&self, exp: &BoxedUint, bits: u32) -> BoxedMontyForm {
        let mut out = Zeroizing::new(vec![0u64; self.modulus.limbs()]);
        self.modulus.pow_fixed(self.g_table(), exp.as_words(), bits, &mut out);
        BoxedMontyForm::from_montgomery(BoxedUint::from_words(out.iter().copied()), &self.params)
    }

    /// Which group this is.
    pub fn id(&self) -> GroupId {
        self.id
    }

    /// The size of N in bits.
    pub fn bits(&self) -> u32 {
        self.id.bits()
    }

    /// The size of N in bytes: the length PAD() pads to, and the longest A, B or premaster.
    pub fn n_len(&self) -> usize {
        self.n_bytes.len()
    }

    /// N, big-endian, as ServerKeyExchange carries it.
    pub fn n_bytes(&self) -> &'static [u8] {
        self.n_bytes
    }

    /// g, big-endian, as ServerKeyExchange carries it (one byte).
    pub fn g_bytes(&self) -> &'static [u8] {
        match self.id.generator() {
            2 => &[2],
            5 => &[5],
            _ => &[19],
        }
    }

    /// k = SHA1(N | PAD(g)) (RFC 5054 section 2.5.3), big-endian, 20 bytes.
    pub fn k_bytes(&self) -> [u8; 20] {
        let k = self.k.retrieve().to_be_bytes();
        let mut out = [0u8; 20];
        out.copy_from_slice(&k[k.len() - 20..]);
        out
    }

    /// Decodes a public value (A or B) received from the peer and checks it: no longer than N,
    /// not 0 modulo N, below N. Public values carry no secret, so this may take variable time.
    pub(crate) fn parse_public_value(&self, bytes: &[u8]) -> Result<BoxedUint, Error> {
        if bytes.len() > self.n_len() {
            return Err(Error::ValueTooLong);
        }
        let value = BoxedUint::from_be_slice_truncated(bytes, self.bits());
        // The top bit of every N is set, so a value of at most `n_len` bytes is below 2N: it is
        // 0 modulo N exactly when it is 0 or N.
        let vs_n = value.cmp_vartime(&self.n);
        if vs_n.is_eq() || bool::from(value.is_zero()) {
            return Err(Error::PublicValueZeroModN);
        }
        if vs_n.is_gt() {
            return Err(Error::PublicValueOutOfRange);
        }
        Ok(value)
    }

    /// PAD(x): x big-endian, left-padded with zeros to the length of N.
    pub(crate) fn pad(&self, x: &BoxedUint) -> Box<[u8]> {
        let bytes = x.to_be_bytes();
        debug_assert_eq!(bytes.len(), self.n_len());
        bytes
    }
}

/// `bytes` without its leading zero bytes (the minimal big-endian encoding).
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

// The moduli below were read from OpenSSL's `SRP_get_default_gN` and GnuTLS's
// `gnutls_srp_*_group_prime` (which agree; GnuTLS lacks 6144), and are RFC 5054 Appendix A's,
// in the RFC's hex; `hex!` decodes them when the crate is compiled (an odd number of digits or a
// wrong length is a compile error).

/// The 1024-bit group of RFC 5054 Appendix A (generator 2).
const N_1024: [u8; 128] = hex!(
    "EEAF0AB9ADB38DD69C33F80AFA8FC5E86072618775FF3C0B9EA2314C9C256576"
    "D674DF7496EA81D3383B4813D692C6E0E0D5D8E250B98BE48E495C1D6089DAD1"
    "5DC7D7B46154D6B6CE8EF4AD69B15D4982559B297BCF1885C529F566660E57EC"
    "68EDBC3C05726CC02FD4CBF4976EAA9AFD5138FE8376435B9FC61D2FC0EB06E3"
);

/// The 1536-bit group of RFC 5054 Appendix A (generator 2).
const N_1536: [u8; 192] = hex!(
    "9DEF3CAFB939277AB1F12A8617A47BBBDBA51DF499AC4C80BEEEA9614B19CC4D"
    "5F4F5F556E27CBDE51C6A94BE4607A291558903BA0D0F84380B655BB9A22E8DC"
    "DF028A7CEC67F0D08134B1C8B97989149B609E0BE3BAB63D47548381DBC5B1FC"
    "764E3F4B53DD9DA1158BFD3E2B9C8CF56EDF019539349627DB2FD53D24B7C486"
    "65772E437D6C7F8CE442734AF7CCB7AE837C264AE3A9BEB87F8A2FE9B8B5292E"
    "5A021FFF5E91479E8CE7A28C2442C6F315180F93499A234DCF76E3FED135F9BB"
);

/// The 2048-bit group of RFC 5054 Appendix A (generator 2).
const N_2048: [u8; 256] = hex!(
    "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050"
    "A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50"
    "E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B8"
    "55F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773B"
    "CA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748"
    "544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6"
    "AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6"
    "94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73"
);

/// The 3072-bit group of RFC 5054 Appendix A (generator 5).
const N_3072: [u8; 384] = hex!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

/// The 4096-bit group of RFC 5054 Appendix A (generator 5).
const N_4096: [u8; 512] = hex!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF"
);

/// The 6144-bit group of RFC 5054 Appendix A (generator 5).
const N_6144: [u8; 768] = hex!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026"
    "C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE"
    "B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B"
    "DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC"
    "F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E"
    "59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA"
    "CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76"
    "F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468"
    "043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DCC4024FFFFFFFFFFFFFFFF"
);

/// The 8192-bit group of RFC 5054 Appendix A (generator 19).
const N_8192: [u8; 1024] = hex!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026"
    "C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE"
    "B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B"
    "DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC"
    "F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E"
    "59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA"
    "CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76"
    "F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468"
    "043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4"
    "38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED"
    "2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D"
    "E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B"
    "4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6"
    "6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D"
    "F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92"
    "4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA"
    "9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF"
);
