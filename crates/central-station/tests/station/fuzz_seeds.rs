//! The committed seeds of the station's fuzz targets do what they are for:
//! `station_api` has one for every route of the route table (so a new route
//! is fuzzed from a request that reaches it, not only from noise), and the
//! `certificates` target's CSRs are ones the CA issues from, so its
//! assertions on issued certificates are reached. Read from the checkout
//! the test runs in, found at run time.

use std::collections::BTreeSet;
use std::path::PathBuf;

use central_station::fuzzing::DeviceCa;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(manifest)
        .join("../../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("seed"))
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn every_route_has_a_station_api_seed() {
    let routes = central_station::route_table();
    let seeded: BTreeSet<usize> = seeds("station_api")
        .iter()
        .filter_map(|(_, bytes)| bytes.first())
        .map(|route| usize::from(*route) % routes.len())
        .collect();
    let missing: Vec<_> = routes
        .iter()
        .enumerate()
        .filter(|(index, _)| !seeded.contains(index))
        .map(|(_, (method, path))| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "routes without a seed: {missing:?}");
}

#[test]
fn the_csr_seeds_are_issued_from() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = DeviceCa::open(dir.path()).expect("CA");
    let csrs: Vec<_> = seeds("certificates")
        .into_iter()
        .filter(|(_, bytes)| bytes.first() == Some(&0))
        .collect();
    assert!(!csrs.is_empty(), "no CSR seed");
    for (name, bytes) in csrs {
        let pem = String::from_utf8(bytes[1..].to_vec()).expect("PEM text");
        let issued = ca.issue_client(&pem, "ZM-FUZZ-01");
        assert!(issued.is_ok(), "{name}: {issued:?}");
    }
}
