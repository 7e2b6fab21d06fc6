//! Compiles this crate's `contracts/*.json` (the repository's `contracts` links here)
//! into the harness (`contract::BUILTIN`), so that an installed binary runs the standard
//! scenarios from any directory.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("contracts");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("contracts/ is readable")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && !name.ends_with(".schema.json"))
        .collect();
    names.sort();
    let mut code = String::from("/// `contracts/*.json` (the schema aside): file name and text, in file-name order.\n");
    code.push_str("pub const BUILTIN: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo::rerun-if-changed={}", path.display());
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("builtin_contracts.rs"), code).expect("OUT_DIR is writable");
}
