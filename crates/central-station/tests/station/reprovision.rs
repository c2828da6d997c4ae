//! Step-up and the re-provisioning guard.

use reqwest::StatusCode;
use zpair_proto::ErrorCode;
use zpair_proto::api::{
    CertificateValidity, ConnectedStatus, DeviceState, DeviceSummary, StepUpResponse,
};
use zpair_proto::device::CommandKind;

use crate::support::monitor::FakeMonitor;
use crate::support::{ADMIN, TECH, TECH2, TestStation, paired_through_the_station};

async fn paired(device_id: &str) -> (TestStation, FakeMonitor) {
    let (station, monitor, _job) = paired_through_the_station(device_id).await;
    (station, monitor)
}

#[tokio::test]
async fn reprovisioning_needs_this_users_fresh_unused_confirmation() {
    let (station, monitor) = paired("ZM-REPRO-1").await;
    let tech = station.token(TECH).await;
    let tech2 = station.token(TECH2).await;
    let reprovision = |bearer: String, token: String| {
        let station = &station;
        async move { station.reprovision(&bearer, "ZM-REPRO-1", &token).await }
    };

    let none = reprovision(tech.clone(), String::new()).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ConfirmationRequired)
    );
    assert_eq!(
        reprovision(tech.clone(), "forged".into()).await.code(),
        ErrorCode::ConfirmationRequired
    );

    let wrong = station.step_up(&tech, "nope nope", "ZM-REPRO-1").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    let admin = station.token(ADMIN).await;
    assert_eq!(
        station.step_up(&admin, ADMIN.1, "ZM-REPRO-1").await.status,
        StatusCode::FORBIDDEN
    );

    // Another technician's confirmation.
    let theirs = station
        .step_up(&tech2, TECH2.1, "ZM-REPRO-1")
        .await
        .json::<StepUpResponse>()
        .confirmation_token
        .into_inner();
    assert_eq!(
        reprovision(tech.clone(), theirs).await.code(),
        ErrorCode::ConfirmationRequired
    );

    // An expired one.
    let expired = station.confirmation(&tech, "ZM-REPRO-1").await;
    station
        .sql()
        .execute("UPDATE confirmations SET expires_at = 0", [])
        .expect("expire");
    assert_eq!(
        reprovision(tech.clone(), expired).await.code(),
        ErrorCode::ConfirmationRequired
    );
    assert!(monitor.commands().is_empty(), "nothing was sent so far");

    // A valid one works once.
    let good = station.confirmation(&tech, "ZM-REPRO-1").await;
    let done = reprovision(tech.clone(), good.clone()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        done.json::<DeviceSummary>().state,
        DeviceState::AwaitingReprovision
    );
    assert_eq!(
        reprovision(tech.clone(), good).await.code(),
        ErrorCode::ConfirmationRequired
    );
    assert_eq!(monitor.commands(), [CommandKind::Reprovision]);

    let status: ConnectedStatus = station
        .get("/api/devices/ZM-REPRO-1/status", &tech)
        .await
        .json();
    let certificate = status.certificate.expect("old certificate still listed");
    assert_eq!(
        certificate.serial,
        monitor.committed().expect("committed").serial()
    );
    // Still valid: it stays in force until the pairing the re-provisioning
    // allows supersedes it (a failed re-pairing leaves the monitor on it).
    assert_eq!(certificate.validity, CertificateValidity::Valid);
    assert!(
        station
            .audit("ZM-REPRO-1")
            .iter()
            .any(|(e, ok, _, actor)| e == "reprovisioning_started"
                && *ok
                && actor.as_deref() == Some("tech"))
    );
    let reason: String = station
        .sql()
        .query_row(
            "SELECT reason FROM device_commands WHERE command = 'reprovision'",
            [],
            |r| r.get(0),
        )
        .expect("command row");
    assert_eq!(reason, "moved to ICU-2");
}

#[tokio::test]
async fn an_unreachable_monitor_is_not_reprovisioned_and_keeps_its_certificate_and_confirmation() {
    let (station, monitor) = paired("ZM-REPRO-2").await;
    monitor.stop();
    let tech = station.token(TECH).await;
    let token = station.confirmation(&tech, "ZM-REPRO-2").await;
    let answer = station.reprovision(&tech, "ZM-REPRO-2", &token).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_GATEWAY, ErrorCode::MonitorUnreachable)
    );
    let spent: Option<i64> = station
        .sql()
        .query_row("SELECT used_at FROM confirmations", [], |r| r.get(0))
        .expect("the confirmation");
    assert_eq!(spent, None, "nothing changed, so nothing was spent");
    let status: ConnectedStatus = station
        .get("/api/devices/ZM-REPRO-2/status", &tech)
        .await
        .json();
    assert_eq!(status.state, DeviceState::Provisioned);
    assert_eq!(
        status.certificate.map(|c| c.validity),
        Some(CertificateValidity::Valid)
    );
}
