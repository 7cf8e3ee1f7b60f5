//! A global allocator for tests that watches what the code under test leaves behind on the heap
//! and how much it allocates, on the calling thread only (the test harness runs other tests on
//! other threads meanwhile).
//!
//! - [`Watch`]: while it lives, every block the thread frees (or moves away from by growing it)
//!   is searched for the marker byte strings it was given, before the memory goes back to the
//!   system. A marker found means that a copy of a secret was freed without being wiped.
//! - [`Count`]: while it lives, the thread's allocations are counted (number and bytes), a
//!   deterministic stand-in for "the same work" that a timing test could not assert.
//!
//! A test binary opts in with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: srp_test_support::alloc::Tracking = srp_test_support::alloc::Tracking;
//! ```
//!
//! Nothing here allocates while it inspects an allocation (the markers are allocated by the test
//! before the watch starts).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator: [`System`], plus the inspections [`Watch`] and [`Count`] switch on for their
/// thread. `realloc` is the default one (allocate, copy, free), so the old block of a grown
/// buffer is searched too.
pub struct Tracking;

thread_local! {
    static MARKERS: Cell<*const [(String, Vec<u8>)]> = const { Cell::new(NO_MARKERS) };
    static FOUND: Cell<u64> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// The null marker list: no watch on this thread.
const NO_MARKERS: *const [(String, Vec<u8>)] = std::ptr::slice_from_raw_parts(std::ptr::null(), 0);

/// Whether `needle` occurs in `haystack` (naive search; blocks and markers are small).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

// SAFETY: every request is passed on to `System` unchanged; the inspections only read the
// block being freed, which is live until `System.dealloc` returns.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNTING.try_with(|counting| {
            if counting.get() {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                let _ = BYTES.try_with(|n| n.set(n.get() + layout.size() as u64));
            }
        });
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = MARKERS.try_with(|markers| {
            let markers = markers.get();
            if markers.is_null() {
                return;
            }
            // SAFETY: `ptr` holds `layout.size()` bytes until `System.dealloc` below; the
            // markers live as long as the `Watch` that set the pointer (it clears it on drop),
            // in a boxed slice that does not move when the `Watch` does.
            let (block, markers) =
                unsafe { (std::slice::from_raw_parts(ptr, layout.size()), &*markers) };
            for (i, (_, marker)) in markers.iter().enumerate().take(64) {
                if contains(block, marker) {
                    let _ = FOUND.try_with(|found| found.set(found.get() | 1 << i));
                }
            }
        });
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Searches every block this thread frees for the markers, while it lives (at most 64).
pub struct Watch {
    markers: Box<[(String, Vec<u8>)]>,
}

impl Watch {
    /// Starts watching for `markers` (name, bytes). Only one watch per thread at a time.
    pub fn start(markers: Vec<(String, Vec<u8>)>) -> Watch {
        assert!(markers.len() <= 64, "at most 64 markers");
        let watch = Watch { markers: markers.into_boxed_slice() };
        FOUND.with(|found| found.set(0));
        MARKERS.with(|m| {
            assert!(m.get().is_null(), "one watch per thread");
            m.set(&*watch.markers);
        });
        watch
    }

    /// Stops watching; returns the names of the markers found in freed memory.
    pub fn finish(self) -> Vec<String> {
        MARKERS.with(|m| m.set(NO_MARKERS));
        let found = FOUND.with(Cell::get);
        self.markers
            .iter()
            .enumerate()
            .filter(|(i, _)| found & 1 << i != 0)
            .map(|(_, (name, _))| name.clone())
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = MARKERS.try_with(|m| m.set(NO_MARKERS));
    }
}

/// Counts this thread's allocations while it lives.
pub struct Count {
    _private: (),
}

/// What a [`Count`] saw: the number of allocations and the bytes they asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocations {
    pub count: u64,
    pub bytes: u64,
}

impl Count {
    /// Starts counting from zero.
    pub fn start() -> Count {
        ALLOCATIONS.with(|n| n.set(0));
        BYTES.with(|n| n.set(0));
        COUNTING.with(|c| c.set(true));
        Count { _private: () }
    }

    /// Stops counting and returns what was allocated.
    pub fn finish(self) -> Allocations {
        COUNTING.with(|c| c.set(false));
        Allocations { count: ALLOCATIONS.with(Cell::get), bytes: BYTES.with(Cell::get) }
    }
}

impl Drop for Count {
    fn drop(&mut self) {
        let _ = COUNTING.try_with(|c| c.set(false));
    }
}
