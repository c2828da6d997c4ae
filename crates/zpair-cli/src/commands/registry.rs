//! `zpair devices [list|import|deprovision|readmit]`: the registry.

use zpair_core::admin::registry::{self, DeviceDecision, ImportLine};
use zpair_core::import_file;
use zpair_proto::admin::{DeviceQuery, RegistryFilter};
use zpair_proto::api::DeviceSummary;

use super::signed_in;
use crate::failure::{Exit, Failure};
use crate::output::{Output, say, timestamp};
use crate::prompt;
use crate::{DevicesArgs, DevicesCommand};

/// Reads `--filter`'s value as the station spells it.
pub fn parse_filter(text: &str) -> Result<RegistryFilter, String> {
    serde_json::from_value(serde_json::Value::String(text.replace('-', "_"))).map_err(|_| {
        "one of never_paired, provisioned, failed, certificate_expiring, deprovisioned".into()
    })
}

/// `zpair devices …`.
pub async fn run(out: &Output, args: DevicesArgs) -> Result<(), Failure> {
    match args.command {
        None => list(out, DeviceQuery::default()).await,
        Some(DevicesCommand::List(args)) => {
            let query = DeviceQuery {
                search: args.search,
                filter: args.filter,
                ..DeviceQuery::default()
            };
            list(out, query).await
        }
        Some(DevicesCommand::Import(args)) => import(out, args).await,
        Some(DevicesCommand::Deprovision(args)) => deprovision(out, args).await,
        Some(DevicesCommand::Readmit(args)) => readmit(out, args).await,
    }
}

/// The registry, one monitor per row, every page.
async fn list(out: &Output, query: DeviceQuery) -> Result<(), Failure> {
    let session = signed_in().await?;
    let devices = registry::search_all(&session, &query).await?;
    if out.is_json() || devices.is_empty() {
        out.result(&devices, || "No monitor in the registry matches.".into());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            vec![
                d.device_id.clone(),
                d.device_label.clone(),
                d.bed_id.clone(),
                d.state.as_str().to_owned(),
                d.ip_address.clone().unwrap_or_else(|| "-".into()),
                d.certificate_not_after
                    .map_or_else(|| "-".into(), timestamp),
            ]
        })
        .collect();
    out.table(
        &[
            "DEVICE",
            "LABEL",
            "BED",
            "STATE",
            "ADDRESS",
            "CERTIFICATE ENDS",
        ],
        &rows,
    );
    Ok(())
}

/// Reads the file, shows the dry run, and (without `--dry-run`) imports.
async fn import(out: &Output, args: crate::ImportArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| {
        Failure::input(format!(
            "{} could not be read ({e}). Give the path of a CSV or JSON file.",
            args.file.display()
        ))
    })?;
    let file = import_file::read(&args.file.to_string_lossy(), &text)?;
    let session = signed_in().await?;
    let dry_run = registry::dry_run(&session, &file).await?;
    print_lines(out, &registry::dry_run_lines(&dry_run), &dry_run, "Dry run");
    if args.dry_run {
        return Ok(());
    }
    let report = registry::commit(&session, &file).await?;
    let lines = registry::committed_lines(&file, &report);
    let not_imported = lines.iter().filter(|l| l.outcome != "imported").count();
    if out.is_json() {
        out.json_line(&serde_json::json!({ "report": report, "unreadable": file.unreadable }));
    } else {
        say("");
        out.table(&["LINE", "DEVICE", "IMPORTED", "WHY NOT"], &table(&lines));
        say(&format!(
            "Imported {} monitors; {not_imported} lines not imported.",
            report.imported.len()
        ));
    }
    if not_imported > 0 {
        return Err(Failure::new(
            zpair_core::error::ErrorCode::BatchIncomplete,
            format!(
                "{not_imported} lines of the file were not imported; see each one's reason above."
            ),
            Exit::Failed,
        ));
    }
    Ok(())
}

fn print_lines(
    out: &Output,
    lines: &[ImportLine],
    dry_run: &zpair_proto::admin::ImportDryRun,
    title: &str,
) {
    if out.is_json() {
        out.json_line(&serde_json::json!({ "dryRun": dry_run }));
        return;
    }
    say(&format!("{title} ({} file):", dry_run.format));
    out.table(&["LINE", "DEVICE", "OUTCOME", "DETAILS"], &table(lines));
    let p = &dry_run.preview;
    say(&format!(
        "{} new, {} unchanged, {} updated, {} conflicting, {} unreadable lines.",
        p.new,
        p.unchanged,
        p.updated,
        p.conflicting,
        dry_run.unreadable.len()
    ));
}

fn table(lines: &[ImportLine]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| {
            vec![
                l.line.to_string(),
                l.device_id.clone().unwrap_or_else(|| "-".into()),
                l.outcome.to_owned(),
                l.detail.clone(),
            ]
        })
        .collect()
}

/// Asks for the device ID typed again (unless `--yes`), then de-provisions.
async fn deprovision(out: &Output, args: crate::DeprovisionArgs) -> Result<(), Failure> {
    let decision = DeviceDecision::new(&args.device_id, &args.reason)?;
    let session = signed_in().await?;
    let device_id = decision.device_id();
    if !args.yes {
        out.note(&format!(
            "De-provisioning revokes {device_id}'s certificate; it cannot be paired again until an administrator re-admits it."
        ));
        let typed = prompt::read_line(&format!("Type the device ID ({device_id}) to confirm: "))?;
        decision.confirm(&typed)?;
    }
    let device = decision.deprovision(&session).await?;
    print_device(
        out,
        &device,
        "Re-admit it with `zpair devices readmit` to pair it again.",
    );
    Ok(())
}

/// Re-admits a de-provisioned monitor.
async fn readmit(out: &Output, args: crate::ReadmitArgs) -> Result<(), Failure> {
    let decision = DeviceDecision::new(&args.device_id, &args.reason)?;
    let session = signed_in().await?;
    let device = decision.readmit(&session).await?;
    print_device(out, &device, "It can be paired again.");
    Ok(())
}

fn print_device(out: &Output, device: &DeviceSummary, next: &str) {
    out.result(device, || {
        format!("{}: {}. {next}", device.device_id, device.state.as_str())
    });
}
