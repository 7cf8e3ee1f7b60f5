//! How C pointers become Rust values, in one place (after rustls-ffi's `Castable`).
//!
//! - Every C handle type is a zero-sized, opaque struct tied to the Rust type it stands for by
//!   [`Castable`]: [`owned_handle!`] for objects the library allocates and C frees with
//!   `_free` (a `Box`), [`static_handle!`] for objects that live for the whole process (groups).
//!   [`ref_from`], [`box_into`], [`static_into`] and [`free`] are the only places a handle
//!   pointer is cast; they cast only between a handle and its own Rust type.
//! - Arguments: [`try_ref!`] (a handle), [`try_input!`] (a buffer and its length) and
//!   [`try_out!`] (an out-pointer), [`try_buffer!`] (an output buffer, its capacity and a pointer
//!   that receives the length written) return `SRP_RESULT_NULL_PARAMETER` (or the function's
//!   "nothing" value, see [`NullDefault`]) for a NULL pointer. Outputs are written through
//!   [`OutPtr`], [`OutBuffer`] and [`borrowed_output`] only once everything has succeeded.
//! - [`boundary`] catches panics: none unwinds into C.
//!
//! The macros dereference the caller's pointers: every exported function states in its
//! `# Safety` section that its pointer arguments are NULL or valid as described, which is what
//! the `unsafe` blocks below rely on.

use core::marker::PhantomData;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::result::srp_result;

/// Marks a handle C code receives as a `Box<RustType>` and gives back to its `_free` function.
pub(crate) enum Owned {}

/// Marks a handle C code receives as a `&'static RustType`: never freed.
pub(crate) enum Static {}

/// The two ways a handle can be owned (sealed: only [`Owned`] and [`Static`]).
pub(crate) trait Ownership {}
impl Ownership for Owned {}
impl Ownership for Static {}

/// Ties a C handle type (`srp_server`) to the Rust type it points to (`srp_core::Server`) and
/// says who owns it. A type has one `Castable` impl, so one handle can never be treated as two
/// different Rust types or owned in two ways.
pub(crate) trait Castable {
    /// [`Owned`] or [`Static`].
    type Ownership: Ownership;
    /// The Rust type behind the handle.
    type RustType;
}

/// Declares an opaque C handle type for a Rust type the library boxes and C code frees.
macro_rules! owned_handle {
    ($(#[$meta:meta])* pub struct $name:ident($rust:ty);) => {
        $(#[$meta])*
        pub struct $name {
            _private: [u8; 0],
        }

        impl $crate::handle::Castable for $name {
            type Ownership = $crate::handle::Owned;
            type RustType = $rust;
        }
    };
}

/// Declares an opaque C handle type for a Rust type that lives as long as the process.
macro_rules! static_handle {
    ($(#[$meta:meta])* pub struct $name:ident($rust:ty);) => {
        $(#[$meta])*
        pub struct $name {
            _private: [u8; 0],
        }

        impl $crate::handle::Castable for $name {
            type Ownership = $crate::handle::Static;
            type RustType = $rust;
        }
    };
}

pub(crate) use {owned_handle, static_handle};

/// The Rust value behind a handle; `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or came from [`box_into`] or [`static_into`] for the same `C` and was not
/// freed; the object outlives `'a`.
pub(crate) unsafe fn ref_from<'a, C: Castable>(ptr: *const C) -> Option<&'a C::RustType> {
    // SAFETY: the caller guarantees where the pointer came from: a `Box<C::RustType>` or a
    // `&'static C::RustType`, cast to `*const C`.
    unsafe { ptr.cast::<C::RustType>().as_ref() }
}

/// Boxes a value and hands it to C code as an owned handle (freed with [`free`]).
pub(crate) fn box_into<C: Castable<Ownership = Owned>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)).cast()
}

/// Hands a value that lives for the whole process to C code as a static handle.
pub(crate) fn static_into<C: Castable<Ownership = Static>>(
    value: &'static C::RustType,
) -> *const C {
    core::ptr::from_ref(value).cast()
}

/// Drops an owned handle; NULL does nothing. A panic in a destructor is caught.
///
/// # Safety
/// `ptr` is NULL or came from [`box_into`] for the same `C`, and is freed only once.
pub(crate) unsafe fn free<C: Castable<Ownership = Owned>>(ptr: *mut C) {
    boundary(|| {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees the pointer came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
        }
    })
}

/// A caller's buffer as a slice; `None` for NULL, except that an empty buffer may be NULL.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn input<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// An out-pointer of the C caller, checked for NULL: [`OutPtr::write`] stores the result.
pub(crate) struct OutPtr<'a, T> {
    ptr: NonNull<T>,
    _call: PhantomData<&'a mut T>,
}

impl<T> OutPtr<'_, T> {
    /// `None` for NULL.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writing a `T` for as long as the `OutPtr` lives.
    pub(crate) unsafe fn new(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Self { ptr, _call: PhantomData })
    }

    /// Stores `value` (without reading or dropping what was there: C memory).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new`'s caller guaranteed that the pointer is valid for writes.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// Hands the caller a pointer to `data` (which lives as long as the object it belongs to: a
/// static group, or a record until it is freed) and its length.
pub(crate) fn borrowed_output(data: &[u8], out: OutPtr<'_, *const u8>, len: OutPtr<'_, usize>) {
    out.write(data.as_ptr());
    len.write(data.len());
}

/// An output buffer of the C caller: `capacity` bytes at a non-NULL pointer, and a non-NULL
/// pointer that receives the number of bytes written.
pub(crate) struct OutBuffer<'a> {
    ptr: NonNull<u8>,
    capacity: usize,
    len: OutPtr<'a, usize>,
}

impl<'a> OutBuffer<'a> {
    /// `None` if `ptr` or `len` is NULL.
    ///
    /// # Safety
    /// `ptr` is NULL or has `capacity` writable bytes, and `len` is NULL or writable, for as
    /// long as the `OutBuffer` lives.
    pub(crate) unsafe fn new(ptr: *mut u8, capacity: usize, len: *mut usize) -> Option<Self> {
        // SAFETY: guaranteed by the caller.
        let len = unsafe { OutPtr::new(len) }?;
        Some(Self { ptr: NonNull::new(ptr)?, capacity, len })
    }

    /// Whether `len` bytes fit.
    pub(crate) fn fits(&self, len: usize) -> bool {
        len <= self.capacity
    }

    /// Copies `data` into the buffer and stores its length; `SRP_RESULT_BUFFER_TOO_SMALL`,
    /// writing nothing, if it does not fit.
    pub(crate) fn write(self, data: &[u8]) -> srp_result {
        if !self.fits(data.len()) {
            return srp_result::SRP_RESULT_BUFFER_TOO_SMALL;
        }
        // SAFETY: `data` fits in the `capacity` writable bytes `new`'s caller guaranteed; a
        // Rust slice never overlaps the caller's output buffer.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr(), data.len()) };
        self.len.write(data.len());
        srp_result::SRP_RESULT_OK
    }
}

/// What a function returns for a NULL argument: `SRP_RESULT_NULL_PARAMETER`, or, for the few
/// functions that return a plain value, their documented "nothing" (0, NULL).
pub(crate) trait NullDefault {
    fn null_default() -> Self;
}

impl NullDefault for srp_result {
    fn null_default() -> Self {
        srp_result::SRP_RESULT_NULL_PARAMETER
    }
}

impl NullDefault for u32 {
    fn null_default() -> Self {
        0
    }
}

impl<T> NullDefault for *const T {
    fn null_default() -> Self {
        core::ptr::null()
    }
}

/// What a function returns when it panicked: `SRP_RESULT_PANIC`, or the "nothing" of a
/// function that returns a plain value.
pub(crate) trait PanicDefault {
    fn panic_default() -> Self;
}

impl PanicDefault for srp_result {
    fn panic_default() -> Self {
        srp_result::SRP_RESULT_PANIC
    }
}

impl PanicDefault for u32 {
    fn panic_default() -> Self {
        0
    }
}

impl<T> PanicDefault for *const T {
    fn panic_default() -> Self {
        core::ptr::null()
    }
}

impl PanicDefault for () {
    fn panic_default() -> Self {}
}

/// Runs the body of an exported function, turning a panic into [`PanicDefault`].
pub(crate) fn boundary<T: PanicDefault>(body: impl FnOnce() -> T) -> T {
    boundary_or(T::panic_default(), body)
}

/// Runs `body`, turning a panic into `fallback`.
pub(crate) fn boundary_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A NUL-terminated path argument as a `Path`; `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_path<'a>(ptr: *const core::ffi::c_char) -> Option<&'a std::path::Path> {
    use std::os::unix::ffi::OsStrExt;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let bytes = unsafe { core::ffi::CStr::from_ptr(ptr) }.to_bytes();
    Some(std::path::Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// Writes `text` NUL-terminated into a caller's optional message buffer, truncated to fit.
///
/// # Safety
/// `out` is NULL or has `capacity` writable bytes.
pub(crate) unsafe fn write_message(text: &str, out: *mut core::ffi::c_char, capacity: usize) {
    if out.is_null() || capacity == 0 {
        return;
    }
    let len = text.len().min(capacity - 1);
    // SAFETY: `len + 1 <= capacity` bytes are written.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), len);
        *out.add(len) = 0;
    }
}

/// The Rust value behind a handle argument, or return [`NullDefault`] for NULL.
macro_rules! try_ref {
    ($ptr:expr) => {
        // SAFETY: every exported function requires its handle arguments to be NULL or live
        // handles of their type (its `# Safety` section).
        match unsafe { $crate::handle::ref_from($ptr) } {
            Some(value) => value,
            None => return $crate::handle::NullDefault::null_default(),
        }
    };
}

/// A buffer argument and its length as a slice, or return [`NullDefault`] for NULL (an empty
/// buffer may be NULL).
macro_rules! try_input {
    ($ptr:expr, $len:expr) => {
        // SAFETY: every exported function requires its buffers to be NULL or hold their length
        // in readable bytes (its `# Safety` section).
        match unsafe { $crate::handle::input($ptr, $len) } {
            Some(value) => value,
            None => return $crate::handle::NullDefault::null_default(),
        }
    };
}

/// An out-pointer argument, or return [`NullDefault`] for NULL.
macro_rules! try_out {
    ($ptr:expr) => {
        // SAFETY: every exported function requires its out-pointers to be NULL or writable (its
        // `# Safety` section).
        match unsafe { $crate::handle::OutPtr::new($ptr) } {
            Some(value) => value,
            None => return $crate::handle::NullDefault::null_default(),
        }
    };
}

/// An output buffer, its capacity and its length out-pointer, or return [`NullDefault`] if
/// either pointer is NULL.
macro_rules! try_buffer {
    ($ptr:expr, $capacity:expr, $len:expr) => {
        // SAFETY: every exported function requires an output buffer to be NULL or hold its
        // capacity in writable bytes, and its length pointer to be NULL or writable (its
        // `# Safety` section).
        match unsafe { $crate::handle::OutBuffer::new($ptr, $capacity, $len) } {
            Some(value) => value,
            None => return $crate::handle::NullDefault::null_default(),
        }
    };
}

/// The value of a `Result`, or return the error's `srp_result`.
macro_rules! try_srp {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(error) => return $crate::result::srp_result::from(error),
        }
    };
}

pub(crate) use {try_buffer, try_input, try_out, try_ref, try_srp};
