//! `cargo xtask sbom [DIR]`: the software bill of materials, CycloneDX 1.5
//! JSON, from the same inventory as the notices and the SOUP list (the Rust
//! crates the app, the station, the monitor and the CLI build on this
//! target, and the npm packages that ship in `ui/dist`), so the three never
//! disagree. Written from the lock files with the standard library alone,
//! offline, like the rest of xtask.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::json::quote;
use crate::notices::{self, Component};
use crate::process::{self, Failure};

/// The file written inside the output folder.
pub const FILE: &str = "zpair.cdx.json";

/// `cargo xtask sbom [DIR]` (default `target/sbom/`).
pub fn run(args: &[String]) -> Result<(), Failure> {
    let dir = match args {
        [] => process::target_dir().join("sbom"),
        [dir] if !dir.starts_with('-') => PathBuf::from(dir),
        _ => return Err(Failure::Usage("usage: cargo xtask sbom [DIR]".into())),
    };
    let root = process::workspace_root();
    let components = notices::inventory(&root)?;
    let version = workspace_version(&root)?;
    let path = dir.join(FILE);
    notices::write_file(&path, &render(&components, &version, &serial(), &now()))?;
    process::say(&format!(
        "wrote the CycloneDX SBOM to {}: {}",
        path.display(),
        notices::counts(&components)
    ));
    Ok(())
}

/// The package URL of a component (`pkg:cargo/serde@1.0.228`,
/// `pkg:npm/%40tauri-apps/api@2.1.0`: a scope's `@` is percent-encoded).
pub fn purl(component: &Component) -> String {
    let kind = if component.ecosystem == "rust" {
        "cargo"
    } else {
        "npm"
    };
    let name = component.name.replace('@', "%40");
    format!("pkg:{kind}/{name}@{}", component.version)
}

/// The BOM document. `serial` and `timestamp` are passed in so a test can
/// compare whole documents.
pub fn render(components: &[Component], version: &str, serial: &str, timestamp: &str) -> String {
    let mut out = String::new();
    out.push_str("{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.5\",\n");
    out.push_str(&format!(
        "  \"serialNumber\": {},\n  \"version\": 1,\n",
        quote(serial)
    ));
    out.push_str("  \"metadata\": {\n");
    out.push_str(&format!("    \"timestamp\": {},\n", quote(timestamp)));
    out.push_str("    \"tools\": {\"components\": [{\"type\": \"application\", \"name\": \"cargo xtask sbom\"}]},\n");
    out.push_str(&format!(
        "    \"component\": {{\"type\": \"application\", \"bom-ref\": \"zpair\", \"name\": \"ZPair\", \"version\": {}, \"licenses\": [{{\"expression\": \"Apache-2.0\"}}]}}\n",
        quote(version)
    ));
    out.push_str("  },\n  \"components\": [\n");
    let entries: Vec<String> = components.iter().map(entry).collect();
    out.push_str(&entries.join(",\n"));
    out.push_str("\n  ],\n  \"dependencies\": [\n");
    let refs: Vec<String> = components.iter().map(|c| quote(&purl(c))).collect();
    out.push_str(&format!(
        "    {{\"ref\": \"zpair\", \"dependsOn\": [{}]}}\n  ]\n}}\n",
        refs.join(", ")
    ));
    out
}

fn entry(c: &Component) -> String {
    let purl = purl(c);
    let mut fields = vec![
        "\"type\": \"library\"".to_owned(),
        format!("\"bom-ref\": {}", quote(&purl)),
        format!("\"name\": {}", quote(&c.name)),
        format!("\"version\": {}", quote(&c.version)),
        format!("\"purl\": {}", quote(&purl)),
    ];
    if !c.licence.is_empty() {
        fields.push(format!(
            "\"licenses\": [{{\"expression\": {}}}]",
            quote(&c.licence)
        ));
    }
    let mut references = vec![format!(
        "{{\"type\": \"distribution\", \"url\": {}}}",
        quote(&c.source())
    )];
    if !c.repository.is_empty() {
        references.push(format!(
            "{{\"type\": \"vcs\", \"url\": {}}}",
            quote(&c.repository)
        ));
    }
    fields.push(format!(
        "\"externalReferences\": [{}]",
        references.join(", ")
    ));
    fields.push(format!(
        "\"properties\": [{{\"name\": \"zpair:usedBy\", \"value\": {}}}]",
        quote(&c.used_by.join(" "))
    ));
    format!("    {{{}}}", fields.join(", "))
}

/// The workspace's version, from the root `Cargo.toml`.
fn workspace_version(root: &std::path::Path) -> Result<String, Failure> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| Failure::Step(format!("cannot read Cargo.toml: {e}")))?;
    manifest
        .lines()
        .find_map(|l| {
            let value = l.trim().strip_prefix("version")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| Failure::Step("the workspace has no version".into()))
}

/// A fresh `urn:uuid:` (version 4) from the kernel's random source.
fn serial() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut random) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut random, &mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Now, RFC 3339 UTC, from the system clock (civil date by Howard Hinnant's
/// days-to-date algorithm: xtask has no date library).
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn purls_follow_the_spec_for_both_ecosystems() {
        let crate_ = Component::for_test("rust", "serde", "1.0.228");
        let scoped = Component::for_test("npm", "@tauri-apps/api", "2.1.0");
        assert_eq!(purl(&crate_), "pkg:cargo/serde@1.0.228");
        assert_eq!(purl(&scoped), "pkg:npm/%40tauri-apps/api@2.1.0");
    }

    #[test]
    fn the_document_is_cyclonedx_json_listing_every_component() {
        let components = vec![
            Component::for_test("rust", "serde", "1.0.228"),
            Component::for_test("npm", "svelte", "5.1.0"),
        ];
        let text = render(&components, "0.1.0", "urn:uuid:x", "2026-12-07T00:00:00Z");
        let doc = json::parse(&text).expect("valid JSON");
        assert_eq!(doc.get("bomFormat").as_str(), Some("CycloneDX"));
        assert_eq!(doc.get("specVersion").as_str(), Some("1.5"));
        let listed: Vec<&str> = doc
            .get("components")
            .as_array()
            .iter()
            .filter_map(|c| c.get("purl").as_str())
            .collect();
        assert_eq!(listed, ["pkg:cargo/serde@1.0.228", "pkg:npm/svelte@5.1.0"]);
        let first = &doc.get("components").as_array()[0];
        assert_eq!(
            first.get("licenses").as_array()[0]
                .get("expression")
                .as_str(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            doc.get("dependencies").as_array()[0]
                .get("dependsOn")
                .as_array()
                .len(),
            2
        );
    }

    #[test]
    fn the_timestamp_and_serial_are_well_formed() {
        let stamp = now();
        assert_eq!(stamp.len(), 20, "{stamp}");
        assert!(stamp.starts_with("20") && stamp.ends_with('Z'), "{stamp}");
        let serial = serial();
        assert!(
            serial.starts_with("urn:uuid:") && serial.len() == 45,
            "{serial}"
        );
        assert_eq!(&serial[23..24], "4", "version 4: {serial}");
    }
}
