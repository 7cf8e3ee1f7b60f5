//! `srp_result`, and everything derived from it, from one table.
//!
//! `result_table!` below is the only list of result codes: it generates the enum (with the
//! numeric values C code sees), `srp_result::from_u32`, the names `srp_result_name` returns,
//! the alerts `srp_result_alert` returns, and the conversions from the core's
//! [`srp_core::Error`] and the verifier-file errors. A code, its name, its alert and its mapping
//! can therefore never disagree.
//!
//! The table has four sections, in numeric order:
//! - `ok`: success (alert 0);
//! - `library`: misuse of the C face or a bug in it (alert `internal_error`);
//! - `core`: one code per [`srp_core::Error`] variant; the alert is the error's own
//!   ([`srp_core::Error::alert`]), and the conversion is an exhaustive `match`, so a new core
//!   error does not compile until it has a code here;
//! - `file`: verifier-file errors, by [`srp_verifier_files::ErrorKind`] pattern, first match wins
//!   (alert `internal_error`: the server's own file is at fault, not the peer).

use core::ffi::{CStr, c_char};

use srp_core::{Alert, Error};
use srp_verifier_files::ErrorKind;

use crate::handle::boundary_or;

/// Generates `srp_result` and its lookups from the table below; see the module documentation.
macro_rules! result_table {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident;
        ok {
            $(#[$ok_meta:meta])*
            $ok:ident = $ok_value:literal
        }
        library {
            $( $(#[$lib_meta:meta])* $lib:ident = $lib_value:literal, )*
        }
        core {
            $(
                $(#[$core_meta:meta])*
                $core:ident = $core_value:literal => $error:ident $({ $($field:ident),* })?,
            )*
        }
        file {
            $( $(#[$file_meta:meta])* $file:ident = $file_value:literal => $kind:pat, )*
        }
    ) => {
        $(#[$enum_meta])*
        #[repr(u32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $(#[$ok_meta])*
            $ok = $ok_value,
            $( $(#[$lib_meta])* $lib = $lib_value, )*
            $( $(#[$core_meta])* $core = $core_value, )*
            $( $(#[$file_meta])* $file = $file_value, )*
        }

        impl $name {
            /// Every result, in numeric order.
            #[cfg_attr(not(test), allow(dead_code))]
            pub(crate) const ALL: &[$name] =
                &[$name::$ok, $($name::$lib,)* $($name::$core,)* $($name::$file,)*];

            /// The result with this numeric value, if there is one.
            pub(crate) const fn from_u32(value: u32) -> Option<Self> {
                Some(match value {
                    $ok_value => $name::$ok,
                    $( $lib_value => $name::$lib, )*
                    $( $core_value => $name::$core, )*
                    $( $file_value => $name::$file, )*
                    _ => return None,
                })
            }

            /// The result's name as C code spells it (`"SRP_RESULT_UNKNOWN_GROUP"`).
            pub(crate) const fn name(self) -> &'static CStr {
                match self {
                    $name::$ok => const { c_name(concat!(stringify!($ok), "\0")) },
                    $( $name::$lib => const { c_name(concat!(stringify!($lib), "\0")) }, )*
                    $( $name::$core => const { c_name(concat!(stringify!($core), "\0")) }, )*
                    $( $name::$file => const { c_name(concat!(stringify!($file), "\0")) }, )*
                }
            }

            /// The TLS alert for this result: 0 for success, the core error's own alert, and
            /// `internal_error` for everything else.
            pub(crate) const fn alert(self) -> u8 {
                match self {
                    $name::$ok => 0,
                    $( $name::$lib => Alert::InternalError as u8, )*
                    // The alert depends only on the variant; the sizes of `GroupTooSmall` are
                    // not kept in the result code and play no part.
                    $( $name::$core => Error::$error $({ $($field: 0),* })?.alert() as u8, )*
                    $( $name::$file => Alert::InternalError as u8, )*
                }
            }
        }

        impl From<Error> for $name {
            fn from(error: Error) -> Self {
                match error {
                    $( Error::$error { .. } => $name::$core, )*
                }
            }
        }

        impl From<&srp_verifier_files::Error> for $name {
            fn from(error: &srp_verifier_files::Error) -> Self {
                match error.kind() {
                    $( $kind => $name::$file, )*
                }
            }
        }
    };
}

/// A result's name as a C string, checked when the crate is compiled (`const` blocks below).
const fn c_name(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("a result name is an identifier followed by one NUL"),
    }
}

result_table! {
    /// The result of every fallible function. `SRP_RESULT_OK` is 0; errors have their own range
    /// (9100 and up) so they are not mistaken for another library's codes.
    pub enum srp_result;

    ok {
        /// Success.
        SRP_RESULT_OK = 0
    }

    library {
        /// A required pointer argument was NULL.
        SRP_RESULT_NULL_PARAMETER = 9101,
        /// The library panicked (a bug); the call had no effect.
        SRP_RESULT_PANIC = 9102,
        /// An output buffer is too small; `SRP_MAX_N_LEN` bytes always suffice.
        SRP_RESULT_BUFFER_TOO_SMALL = 9103,
        /// `srp_server_premaster` was called again on a server that already computed its one
        /// premaster secret (b is used once and wiped).
        SRP_RESULT_SERVER_ALREADY_USED = 9104,
    }

    core {
        /// The (N, g) pair is not an RFC 5054 group (alert `insufficient_security`).
        SRP_RESULT_UNKNOWN_GROUP = 9110 => UnknownGroup,
        /// The group is below the caller's floor (alert `insufficient_security`).
        SRP_RESULT_GROUP_TOO_SMALL = 9111 => GroupTooSmall { bits, min_bits },
        /// A or B is 0 modulo N (alert `illegal_parameter`).
        SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N = 9112 => PublicValueZeroModN,
        /// A or B is not below N (alert `illegal_parameter`).
        SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE = 9113 => PublicValueOutOfRange,
        /// A value has more bytes than N (alert `illegal_parameter`).
        SRP_RESULT_VALUE_TOO_LONG = 9114 => ValueTooLong,
        /// u = SHA1(PAD(A) | PAD(B)) is 0 (alert `illegal_parameter`).
        SRP_RESULT_ZERO_SCRAMBLER = 9115 => ZeroScrambler,
        /// The username is empty (alert `decode_error`).
        SRP_RESULT_EMPTY_USERNAME = 9116 => EmptyUsername,
        /// The username is longer than 255 bytes (alert `decode_error`).
        SRP_RESULT_USERNAME_TOO_LONG = 9117 => UsernameTooLong,
        /// The username contains a NUL byte (alert `illegal_parameter`).
        SRP_RESULT_USERNAME_CONTAINS_NUL = 9118 => UsernameContainsNul,
        /// The salt is empty or longer than 255 bytes (alert `decode_error`).
        SRP_RESULT_INVALID_SALT_LENGTH = 9119 => InvalidSaltLength,
        /// The verifier is 0 or not below N (alert `internal_error`).
        SRP_RESULT_INVALID_VERIFIER = 9120 => InvalidVerifier,
        /// A private exponent is empty or longer than 32 bytes (alert `internal_error`).
        SRP_RESULT_INVALID_PRIVATE_KEY = 9121 => InvalidPrivateKey,
        /// The fake-user seed is shorter than 16 bytes (alert `internal_error`).
        SRP_RESULT_SEED_TOO_SHORT = 9122 => SeedTooShort,
        /// No verifier for this username and no fake users (alert `unknown_psk_identity`).
        SRP_RESULT_UNKNOWN_USER = 9123 => UnknownUser,
        /// The system random number generator failed (alert `internal_error`).
        SRP_RESULT_RNG = 9124 => Rng,
        /// The shared secret S came out 0: on the client, the server sent B = k*v, which only
        /// someone who knows the verifier can make, and whose premaster secret anyone could
        /// compute (alert `illegal_parameter`, as for a bad B).
        SRP_RESULT_ZERO_SHARED_SECRET = 9125 => ZeroSharedSecret,
    }

    file {
        /// A verifier file could not be read (alert `internal_error`).
        SRP_RESULT_VERIFIER_FILE_IO = 9130 => ErrorKind::Io(_),
        /// A verifier file is malformed; the message names the file, line and problem (alert
        /// `internal_error`).
        SRP_RESULT_VERIFIER_FILE_INVALID = 9131 => _,
    }
}

/// The name of a result code (`"SRP_RESULT_UNKNOWN_GROUP"`), a static NUL-terminated string;
/// `"SRP_RESULT_UNKNOWN"` for a value that is not a result code.
#[unsafe(no_mangle)]
pub extern "C" fn srp_result_name(result: u32) -> *const c_char {
    boundary_or(c"SRP_RESULT_UNKNOWN".as_ptr(), || match srp_result::from_u32(result) {
        Some(result) => result.name().as_ptr(),
        None => c"SRP_RESULT_UNKNOWN".as_ptr(),
    })
}

/// The TLS alert (RFC 5246 section 7.2 numbering) a TLS stack sends when it aborts a handshake
/// for this result: 47 `illegal_parameter`, 50 `decode_error`, 71 `insufficient_security`,
/// 80 `internal_error`, 115 `unknown_psk_identity`. `SRP_RESULT_OK` gives 0; results that are
/// programming errors (NULL, buffer, panic) give 80.
#[unsafe(no_mangle)]
pub extern "C" fn srp_result_alert(result: u32) -> u8 {
    let internal_error = Alert::InternalError as u8;
    boundary_or(internal_error, || {
        srp_result::from_u32(result).map_or(internal_error, srp_result::alert)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_alerts_are_as_before() {
        // The numbers and alerts C code relies on, written out once more on purpose.
        let expected: &[(u32, &str, u8)] = &[
            (0, "SRP_RESULT_OK", 0),
            (9101, "SRP_RESULT_NULL_PARAMETER", 80),
            (9102, "SRP_RESULT_PANIC", 80),
            (9103, "SRP_RESULT_BUFFER_TOO_SMALL", 80),
            (9104, "SRP_RESULT_SERVER_ALREADY_USED", 80),
            (9110, "SRP_RESULT_UNKNOWN_GROUP", 71),
            (9111, "SRP_RESULT_GROUP_TOO_SMALL", 71),
            (9112, "SRP_RESULT_PUBLIC_VALUE_ZERO_MOD_N", 47),
            (9113, "SRP_RESULT_PUBLIC_VALUE_OUT_OF_RANGE", 47),
            (9114, "SRP_RESULT_VALUE_TOO_LONG", 47),
            (9115, "SRP_RESULT_ZERO_SCRAMBLER", 47),
            (9116, "SRP_RESULT_EMPTY_USERNAME", 50),
            (9117, "SRP_RESULT_USERNAME_TOO_LONG", 50),
            (9118, "SRP_RESULT_USERNAME_CONTAINS_NUL", 47),
            (9119, "SRP_RESULT_INVALID_SALT_LENGTH", 50),
            (9120, "SRP_RESULT_INVALID_VERIFIER", 80),
            (9121, "SRP_RESULT_INVALID_PRIVATE_KEY", 80),
            (9122, "SRP_RESULT_SEED_TOO_SHORT", 80),
            (9123, "SRP_RESULT_UNKNOWN_USER", 115),
            (9124, "SRP_RESULT_RNG", 80),
            (9125, "SRP_RESULT_ZERO_SHARED_SECRET", 47),
            (9130, "SRP_RESULT_VERIFIER_FILE_IO", 80),
            (9131, "SRP_RESULT_VERIFIER_FILE_INVALID", 80),
        ];
        assert_eq!(srp_result::ALL.len(), expected.len(), "number of result codes");
        for (&result, &(value, name, alert)) in srp_result::ALL.iter().zip(expected) {
            assert_eq!(result as u32, value, "value of {name}");
            assert_eq!(srp_result::from_u32(value), Some(result), "from_u32({value})");
            // SAFETY: srp_result_name returns a static NUL-terminated string.
            let c_name = unsafe { CStr::from_ptr(srp_result_name(value)) };
            assert_eq!(c_name.to_str(), Ok(name), "srp_result_name({value})");
            assert_eq!(srp_result_alert(value), alert, "srp_result_alert({value})");
        }
        for value in [1, 9100, 9105, 9109, 9126, 9129, 9132, u32::MAX] {
            assert_eq!(srp_result::from_u32(value), None, "from_u32({value})");
            // SAFETY: as above.
            let c_name = unsafe { CStr::from_ptr(srp_result_name(value)) };
            assert_eq!(c_name.to_str(), Ok("SRP_RESULT_UNKNOWN"), "srp_result_name({value})");
            assert_eq!(srp_result_alert(value), 80, "srp_result_alert({value})");
        }
    }

    #[test]
    fn core_errors_keep_their_alerts() {
        for error in [
            Error::UnknownGroup,
            Error::GroupTooSmall { bits: 1024, min_bits: 2048 },
            Error::PublicValueZeroModN,
            Error::ZeroSharedSecret,
            Error::UsernameContainsNul,
            Error::UnknownUser,
            Error::Rng,
        ] {
            let result = srp_result::from(error);
            assert_eq!(result.alert(), error.alert() as u8, "alert of {error:?}");
        }
    }
}
