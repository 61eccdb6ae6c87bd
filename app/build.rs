//! Sets `split_wasm` when the browser's wasm is split into chunks (cargo-leptos `--split`, which
//! links with `--emit-relocs` for its splitter): then `#[island(lazy)]` islands (the TV
//! simulator's screen) live in chunks of their own. A wasm built otherwise keeps every island in
//! the main module, instead of calling chunks that were never made. The server renders an island
//! the same either way.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(split_wasm)");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let split = std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| {
        flags
            .split('\x1f')
            .any(|flag| flag.contains("--emit-relocs"))
    });
    if wasm && split {
        println!("cargo::rustc-cfg=split_wasm");
    }
}
