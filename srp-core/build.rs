//! Enables the AVX-512 IFMA backend (`cfg(srp_ifma)`) when it can be built: the `ifma` feature
//! is on, the target is x86_64, and the compiler is Rust 1.89 or later, the first to have the
//! AVX-512 intrinsics and the `avx512ifma` target feature on stable. The crate's MSRV stays
//! 1.87 (browsers vendor it with their own toolchains); an older compiler builds the other
//! backends only.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(srp_ifma)");
    println!("cargo:rerun-if-changed=build.rs");
    let ifma = std::env::var_os("CARGO_FEATURE_IFMA").is_some();
    let x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "x86_64");
    if ifma && x86_64 && autocfg::new().probe_rustc_version(1, 89) {
        println!("cargo:rustc-cfg=srp_ifma");
    }
}
