//! Sets `lazy_pages` (see `src/pages/lazy.rs`) when the pages may live in wasm chunks of their
//! own: always for the server, which names a page's chunks in `<link rel="preload">` when the
//! site has them, and for the browser's wasm only when cargo-leptos splits it (`--split`, which
//! links with `--emit-relocs` for its splitter). A wasm built otherwise keeps every page in the
//! main module, instead of calling chunks that were never made.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(lazy_pages)");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let split = std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| {
        flags
            .split('\x1f')
            .any(|flag| flag.contains("--emit-relocs"))
    });
    if !wasm || split {
        println!("cargo::rustc-cfg=lazy_pages");
    }
}
