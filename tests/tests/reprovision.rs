//! Re-provisioning a paired monitor: refused without a fresh, re-authenticated
//! confirmation for that monitor; with one, the old certificate is revoked and
//! the monitor may be paired again, once. The pairing gate: a paired monitor
//! put back into provisioning mode at its screen is not paired again without
//! it, a de-provisioned one not until an administrator re-admits it.

use zpair_core::error::ErrorCode;
use zpair_core::session::TechnicianSession;
use zpair_proto::api::{CertificateValidity, DeviceState, StepUpAction};
use zpair_proto::device::MonitorState;
use zpair_tests::{ADMINISTRATOR, PairResult, TECHNICIAN, World, eventually};

async fn paired_world(device_id: &str) -> World {
    let mut world = World::start().await;
    add_paired(&mut world, device_id).await;
    world
}

/// Adds a monitor and pairs it; returns its index.
async fn add_paired(world: &mut World, device_id: &str) -> usize {
    let m = world.add_monitor(device_id).await;
    let tech = world.session(TECHNICIAN).await;
    assert!(matches!(
        pair_at_its_screen(world, &tech, m).await,
        PairResult::Provisioned(_)
    ));
    m
}

/// Puts monitor `m` into provisioning mode at its screen and pairs it with
/// the QR it shows.
async fn pair_at_its_screen(world: &World, tech: &TechnicianSession, m: usize) -> PairResult {
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    world.pair_scanned(tech, &world.screen(m)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn reprovisioning_without_a_valid_confirmation_is_refused() {
    let world = paired_world("ZM-REPRO-01").await;
    let tech = world.session(TECHNICIAN).await;
    let token = tech.access_token().await.expect("token");

    let forged = world
        .client()
        .reprovision(&token, "ZM-REPRO-01", "not-a-confirmation", "swap ward")
        .await;
    assert_eq!(
        forged.map_err(|e| zpair_core::error::UserFacing::code(&e).to_owned()),
        Err(ErrorCode::ConfirmationRequired)
    );

    let wrong_password = world
        .client()
        .step_up(
            &token,
            "not the password",
            "ZM-REPRO-01",
            StepUpAction::Reprovision,
        )
        .await;
    assert_eq!(
        wrong_password
            .map(|_| ())
            .map_err(|e| zpair_core::error::UserFacing::code(&e).to_owned()),
        Err(ErrorCode::InvalidCredentials)
    );

    // A confirmation is good once.
    let confirmation = world
        .client()
        .step_up(
            &token,
            TECHNICIAN.1,
            "ZM-REPRO-01",
            StepUpAction::Reprovision,
        )
        .await
        .expect("step-up");
    world
        .client()
        .reprovision(
            &token,
            "ZM-REPRO-01",
            &confirmation.confirmation_token,
            "swap ward",
        )
        .await
        .expect("first use");
    let again = world
        .client()
        .reprovision(
            &token,
            "ZM-REPRO-01",
            &confirmation.confirmation_token,
            "again",
        )
        .await;
    assert_eq!(
        again
            .map(|_| ())
            .map_err(|e| zpair_core::error::UserFacing::code(&e).to_owned()),
        Err(ErrorCode::ConfirmationRequired)
    );

    // Administrators cannot step up: re-provisioning is the technician's.
    let admin = world.session(ADMINISTRATOR).await;
    let admin_token = admin.access_token().await.expect("token");
    let refused = world
        .client()
        .step_up(
            &admin_token,
            ADMINISTRATOR.1,
            "ZM-REPRO-01",
            StepUpAction::Reprovision,
        )
        .await;
    assert_eq!(
        refused
            .map(|_| ())
            .map_err(|e| zpair_core::error::UserFacing::code(&e).to_owned()),
        Err(ErrorCode::ForbiddenRole)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn confirmed_reprovisioning_pairs_again_and_the_new_certificate_supersedes_the_old() {
    let world = paired_world("ZM-REPRO-02").await;
    let tech = world.session(TECHNICIAN).await;
    let token = tech.access_token().await.expect("token");
    let old_serial = world.monitors[0]
        .configuration()
        .expect("configured")
        .certificate_serial;

    let confirmation = world
        .client()
        .step_up(
            &token,
            TECHNICIAN.1,
            "ZM-REPRO-02",
            StepUpAction::Reprovision,
        )
        .await
        .expect("step-up");
    let device = world
        .client()
        .reprovision(
            &token,
            "ZM-REPRO-02",
            &confirmation.confirmation_token,
            "moved to ICU-2",
        )
        .await
        .expect("reprovision");
    assert_eq!(device.state, DeviceState::AwaitingReprovision);

    let status = world
        .client()
        .device_status(&token, "ZM-REPRO-02")
        .await
        .expect("status");
    // The old certificate stays in force until the re-pairing supersedes it.
    let certificate = status.certificate.expect("old certificate still listed");
    assert_eq!(
        (certificate.serial.as_str(), certificate.validity),
        (old_serial.as_str(), CertificateValidity::Valid)
    );
    let crl = world
        .client()
        .certificate_revocation_list()
        .await
        .expect("CRL");
    assert!(crl.contains("BEGIN X509 CRL"), "{crl}");

    eventually("the monitor back in provisioning mode", || async {
        world.monitors[0].state() == MonitorState::ReadyToPair
    })
    .await;
    assert!(
        world
            .audit("ZM-REPRO-02")
            .iter()
            .any(|(e, ok)| e == "reprovisioning_started" && *ok)
    );

    let result = world.pair_scanned(&tech, &world.screen(0)).await;
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    // Once: put back into provisioning mode at its screen, it is refused.
    assert_eq!(
        pair_at_its_screen(&world, &tech, 0).await,
        PairResult::Refused(ErrorCode::ReprovisionRequired)
    );
    let new_serial = world.monitors[0]
        .configuration()
        .expect("configured")
        .certificate_serial;
    assert_ne!(new_serial, old_serial);
    let status = world
        .client()
        .device_status(&token, "ZM-REPRO-02")
        .await
        .expect("status");
    assert_eq!(
        status.certificate.map(|c| c.validity),
        Some(CertificateValidity::Valid)
    );
    let crl = world
        .client()
        .certificate_revocation_list()
        .await
        .expect("CRL");
    let db = zpair_tests::station_database(&world.station_dir());
    let reason: String = db
        .query_row(
            "SELECT revocation_reason FROM certificates WHERE serial = ?1",
            [&old_serial],
            |r| r.get(0),
        )
        .expect("old certificate revoked");
    assert_eq!(reason, "superseded", "revoked once the new one is in force");
    assert!(crl.contains("BEGIN X509 CRL"));
}

fn code<T>(result: Result<T, zpair_core::client::ClientError>) -> Option<ErrorCode> {
    result
        .err()
        .map(|e| zpair_core::error::UserFacing::code(&e))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paired_monitor_back_in_provisioning_mode_is_refused_and_a_confirmation_is_for_one_device()
 {
    let mut world = paired_world("ZM-GATE-01").await;
    add_paired(&mut world, "ZM-GATE-02").await;
    let tech = world.session(TECHNICIAN).await;

    // At its screen, with its new code only: refused, and the monitor keeps
    // its configuration.
    assert_eq!(
        pair_at_its_screen(&world, &tech, 0).await,
        PairResult::Refused(ErrorCode::ReprovisionRequired)
    );
    assert!(world.monitors[0].configuration().is_some());

    // A confirmation for ZM-GATE-01 does not re-provision ZM-GATE-02.
    let token = tech.access_token().await.expect("token");
    let for_a = world
        .client()
        .step_up(
            &token,
            TECHNICIAN.1,
            "ZM-GATE-01",
            StepUpAction::Reprovision,
        )
        .await
        .expect("step-up");
    let on_b = world
        .client()
        .reprovision(&token, "ZM-GATE-02", &for_a.confirmation_token, "swap")
        .await;
    assert_eq!(code(on_b), Some(ErrorCode::ConfirmationRequired));
    assert_eq!(
        world.station_view("ZM-GATE-02").state,
        "PROVISIONED",
        "B untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deprovisioned_monitor_is_paired_again_only_after_an_administrator_readmits_it() {
    let world = paired_world("ZM-GATE-03").await;
    let tech = world.session(TECHNICIAN).await;
    let admin = world.session(ADMINISTRATOR).await;
    let admin_token = admin.access_token().await.expect("token");
    world
        .client()
        .deprovision(&admin_token, "ZM-GATE-03", "reported stolen")
        .await
        .expect("de-provision");
    eventually("the monitor drops its configuration", || async {
        world.monitors[0].configuration().is_none()
    })
    .await;

    assert_eq!(
        pair_at_its_screen(&world, &tech, 0).await,
        PairResult::Refused(ErrorCode::DeviceDeprovisioned)
    );
    // Technicians cannot re-admit.
    let tech_token = tech.access_token().await.expect("token");
    assert_eq!(
        code(
            world
                .client()
                .readmit(&tech_token, "ZM-GATE-03", "found")
                .await
        ),
        Some(ErrorCode::ForbiddenRole)
    );

    let device = world
        .client()
        .readmit(&admin_token, "ZM-GATE-03", "found in the storeroom, wiped")
        .await
        .expect("re-admit");
    assert_eq!(device.state, DeviceState::Unprovisioned);
    assert!(
        world
            .audit("ZM-GATE-03")
            .iter()
            .any(|(e, ok)| e == "readmitted" && *ok)
    );
    let result = pair_at_its_screen(&world, &tech, 0).await;
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
}
