//! `zpair setup`: which station, trusted by a CA file, a fingerprint, or a
//! fingerprint read now and confirmed by the technician.

use serde_json::json;
use zpair_core::client::{format_fingerprint, probe_station};
use zpair_core::trust;

use crate::config::{self, CliConfig};
use zpair_core::error::ErrorCode;

use crate::failure::{Exit, Failure};
use crate::output::{Output, tell, timestamp};
use crate::prompt;

/// Checks the anchor against the live station, then saves it.
pub async fn run(out: &Output, args: crate::SetupArgs) -> Result<(), Failure> {
    let (trusted, kind) = if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            Failure::input(format!(
                "The CA file {} could not be read ({e}).",
                path.display()
            ))
        })?;
        (trust::by_ca(&args.station, &pem).await?, "ca")
    } else if let Some(fingerprint) = &args.fingerprint {
        (
            trust::by_fingerprint(&args.station, fingerprint).await?,
            "fingerprint",
        )
    } else {
        let info = probe_station(&args.station).await?;
        if !out.is_json() || !args.yes {
            tell(&format!(
                "The station at {} presents this certificate:",
                args.station
            ));
            tell(&format!("  Subject:     {}", info.subject));
            tell(&format!("  Issuer:      {}", info.issuer));
            tell(&format!("  Valid until: {}", timestamp(info.not_after)));
            tell(&format!(
                "  SHA-256:     {}",
                format_fingerprint(&info.fingerprint)
            ));
        }
        if !args.yes {
            let answer = prompt::read_line(
                "Does this fingerprint match the one IT gave you? Type yes to trust it: ",
            )?;
            if !matches!(answer.trim().to_ascii_lowercase().as_str(), "yes" | "y") {
                return Err(Failure::new(
                    ErrorCode::NotConfirmed,
                    "Not trusted: nothing was saved. Compare the fingerprint with IT, then run setup again.",
                    Exit::Usage,
                ));
            }
        }
        (
            trust::by_confirmed(&args.station, info).await?,
            "fingerprint",
        )
    };
    let described = trusted.anchor;
    let config = CliConfig {
        station: trusted.trust,
    };
    let path = config::save(&config)?;
    out.result(
        &json!({
            "stationUrl": config.station.url,
            "trust": {
                "kind": kind,
                "fingerprint": described.fingerprint,
                "subject": described.subject,
            },
        }),
        || {
            format!(
                "Trusting {} by its {}: {} ({}).\nSaved to {}.",
                config.station.url,
                if kind == "ca" { "CA" } else { "certificate" },
                described.subject,
                format_fingerprint(&described.fingerprint),
                path.display()
            )
        },
    );
    Ok(())
}
