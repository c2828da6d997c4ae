//! The API document the station serves is the committed `openapi.json`, so
//! a change to the API shows in review as a change to the document.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};

use crate::support::TestStation;

/// `crates/central-station/openapi.json`, found from the checkout the test
/// runs in (at run time, so a moved checkout still finds its own).
fn committed_path() -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    PathBuf::from(manifest).join("openapi.json")
}

/// The served document equals the committed copy. With
/// `ZPAIR_WRITE_OPENAPI=1` the copy is rewritten from the served one
/// instead: `ZPAIR_WRITE_OPENAPI=1 cargo test -p central-station --test
/// station openapi::`.
#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let station = TestStation::start().await;
    let answer = station
        .call(Method::GET, "/api/openapi.json", None, None::<&()>)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let path = committed_path();
    if std::env::var("ZPAIR_WRITE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &answer.body).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("read openapi.json");
    assert!(
        committed == answer.body,
        "{} differs from the served document; regenerate it with ZPAIR_WRITE_OPENAPI=1 \
         cargo test -p central-station --test station openapi:: and review the change",
        path.display()
    );
}
