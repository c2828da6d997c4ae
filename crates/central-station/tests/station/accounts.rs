//! Accounts as administrators manage them (`/api/users…`) and as their
//! owners take them over (`POST /api/auth/password`), tried as an attacker
//! would: a temporary password lets its holder do nothing but change it, a
//! reset leaves no old session or password working, the last administrator
//! survives two administrators disabling each other at once, and no
//! temporary password reaches a log.

use reqwest::{Method, StatusCode};
use serde_json::json;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{AccountRecord, AuditPage, TemporaryPassword};
use zpair_proto::api::{Account, Session};

use crate::support::{ADMIN, Answer, TECH, TECH2, TestStation, logs};

const NEW_PASSWORD: &str = "a password of my own";

async fn create(station: &TestStation, admin: &str, username: &str, role: &str) -> Answer {
    station
        .post(
            "/api/users",
            Some(admin),
            &json!({ "username": username, "displayName": "Ana Lima", "role": role }),
        )
        .await
}

async fn change(station: &TestStation, bearer: &str, current: &str, new: &str) -> Answer {
    station
        .post(
            "/api/auth/password",
            Some(bearer),
            &json!({ "currentPassword": current, "newPassword": new }),
        )
        .await
}

async fn accounts(station: &TestStation, admin: &str) -> Vec<AccountRecord> {
    let answer = station.get("/api/users", admin).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

async fn account(station: &TestStation, admin: &str, username: &str) -> AccountRecord {
    accounts(station, admin)
        .await
        .into_iter()
        .find(|a| a.username == username)
        .unwrap_or_else(|| panic!("{username} is listed"))
}

/// Audit rows of `event_type`: (actor, subject, success), oldest first.
async fn audited(
    station: &TestStation,
    admin: &str,
    event_type: &str,
) -> Vec<(Option<String>, Option<String>, bool)> {
    let page: AuditPage = station
        .get(&format!("/api/audit?eventType={event_type}"), admin)
        .await
        .json();
    page.events
        .into_iter()
        .rev()
        .map(|e| (e.actor, e.subject, e.success))
        .collect()
}

fn pair(actor: &str, subject: &str, success: bool) -> (Option<String>, Option<String>, bool) {
    (Some(actor.into()), Some(subject.into()), success)
}

/// A request only a password of one's own opens: `refused` says whether it
/// must be refused as `password_change_required`.
async fn gated(station: &TestStation, bearer: &str, refused: bool) {
    let devices = station.get("/api/devices", bearer).await;
    let pair = station
        .post(
            "/api/provisioning/pair",
            Some(bearer),
            &json!({ "deviceId": "ZM-NONE", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    for answer in [devices, pair] {
        if refused {
            assert_eq!(
                (answer.status, answer.code()),
                (StatusCode::FORBIDDEN, ErrorCode::PasswordChangeRequired),
                "{}",
                answer.body
            );
        } else {
            assert_ne!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
            assert_ne!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        }
    }
}

#[tokio::test]
async fn a_created_account_must_change_its_password_before_anything_else() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let answer = create(&station, &admin, "ana.lima", "technician").await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let temporary: TemporaryPassword = answer.json();
    assert_eq!(temporary.username, "ana.lima");
    let password = temporary.password.expose().clone();
    assert!(password.chars().count() >= 16, "{password}");
    let listed = account(&station, &admin, "ana.lima").await;
    assert!(listed.must_change_password && !listed.disabled);
    assert_eq!((listed.active_sessions, listed.last_sign_in), (0, None));

    // Taken, in any case, and names or roles the document refuses.
    let again = create(&station, &admin, "ana.lima", "administrator").await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, ErrorCode::UsernameTaken)
    );
    for (username, display_name, role) in [
        ("Ana.Lima", "Ana", "technician"),
        ("an", "Ana", "technician"),
        ("9lives", "Ana", "technician"),
        ("ana lima", "Ana", "technician"),
        ("ana2", "", "technician"),
        ("ana2", "Ana\nLima", "technician"),
        ("ana2", "Ana", "root"),
    ] {
        let answer = station
            .post(
                "/api/users",
                Some(&admin),
                &json!({ "username": username, "displayName": display_name, "role": role }),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{username:?} {display_name:?} {role}"
        );
    }

    // Signed in with it, the account may only see itself, sign out and
    // change the password.
    let session = station.login(("ana.lima", &password)).await;
    assert!(session.account.must_change_password);
    let bearer = session.access_token.expose().clone();
    let me: Account = station.get("/api/auth/me", &bearer).await.json();
    assert!(me.must_change_password);
    gated(&station, &bearer, true).await;

    // The new password: long enough, not the current one, and only with
    // the current one.
    let short = change(&station, &bearer, &password, "short").await;
    let same = change(&station, &bearer, &password, &password).await;
    let wrong = change(&station, &bearer, "not the password", NEW_PASSWORD).await;
    assert_eq!(
        [
            (short.status, short.code()),
            (same.status, same.code()),
            (wrong.status, wrong.code())
        ],
        [
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
        ]
    );
    let changed = change(&station, &bearer, &password, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);

    // The same session goes on, now let through; the temporary password is gone.
    gated(&station, &bearer, false).await;
    let me: Account = station.get("/api/auth/me", &bearer).await.json();
    assert!(!me.must_change_password);
    let old = station.try_login(("ana.lima", &password)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let fresh = station.login(("ana.lima", NEW_PASSWORD)).await;
    assert!(!fresh.account.must_change_password);
    let listed = account(&station, &admin, "ana.lima").await;
    assert!(!listed.must_change_password);
    assert_eq!(listed.active_sessions, 2);
    assert!(listed.last_sign_in.is_some());

    assert_eq!(
        audited(&station, &admin, "account_created").await,
        [
            pair("admin-cli", "tech", true),
            pair("admin-cli", "tech2", true),
            pair("admin-cli", "admin", true),
            pair("admin", "ana.lima", true),
            pair("admin", "ana.lima", false),
        ]
    );
    assert_eq!(
        audited(&station, &admin, "password_changed").await,
        [
            pair("ana.lima", "ana.lima", false),
            pair("ana.lima", "ana.lima", true)
        ]
    );
}

#[tokio::test]
async fn a_reset_leaves_no_old_session_or_password_working() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let before: Session = station.login(TECH).await;
    let answer = station
        .post("/api/users/tech/password/reset", Some(&admin), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let temporary: TemporaryPassword = answer.json();
    let password = temporary.password.expose().clone();
    assert!(password.chars().count() >= 16);
    assert!(account(&station, &admin, "tech").await.must_change_password);

    // The session from before: neither its access nor its refresh token works.
    let access = station
        .get("/api/auth/me", before.access_token.expose())
        .await;
    assert_eq!(access.status, StatusCode::UNAUTHORIZED);
    let refresh = station
        .post(
            "/api/auth/refresh",
            None,
            &json!({ "refreshToken": before.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    let old = station.try_login(TECH).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    // With the temporary password: only the change, which a refresh does
    // not get around.
    let session = station.login((TECH.0, &password)).await;
    assert!(session.account.must_change_password);
    let refreshed: Session = station
        .post(
            "/api/auth/refresh",
            None,
            &json!({ "refreshToken": session.refresh_token }),
        )
        .await
        .json();
    assert!(refreshed.account.must_change_password);
    let bearer = refreshed.access_token.expose().clone();
    gated(&station, &bearer, true).await;
    let step_up = station.step_up(&bearer, &password, "ZM-ANY").await;
    assert_eq!(step_up.code(), ErrorCode::PasswordChangeRequired);
    let changed = change(&station, &bearer, &password, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    gated(&station, &bearer, false).await;

    // Administrators change their own password themselves; unknown names are unknown.
    let own = station
        .post("/api/users/admin/password/reset", Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
    let nobody = station
        .post("/api/users/nobody/password/reset", Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (StatusCode::NOT_FOUND, ErrorCode::UnknownUser)
    );
    assert_eq!(
        audited(&station, &admin, "password_reset").await,
        [pair("admin", "tech", true)]
    );
}

#[tokio::test]
async fn unlocking_clears_a_lockout_and_wrong_current_passwords_count_towards_one() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    // The fifth wrong password locks the account (as at sign-in). The
    // guesses come from another address, so this client's own failures below
    // stay under the per-client limit.
    let guesser = station.client_from(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3)));
    let guess = json!({ "username": TECH2.0, "password": "wrong password" });
    let mut codes = Vec::new();
    for _ in 0..5 {
        let answer = station
            .call_with(
                &guesser,
                reqwest::Method::POST,
                "/api/auth/login",
                None,
                Some(&guess),
            )
            .await;
        codes.push(answer.code());
    }
    assert_eq!(codes[..4], [ErrorCode::InvalidCredentials; 4]);
    assert_eq!(codes[4], ErrorCode::AccountLocked);
    let locked = station.try_login(TECH2).await;
    assert_eq!(locked.code(), ErrorCode::AccountLocked);
    assert!(
        account(&station, &admin, "tech2")
            .await
            .locked_until
            .is_some()
    );
    let answer = station
        .post("/api/users/tech2/unlock", Some(&admin), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let record: AccountRecord = answer.json();
    assert_eq!(
        (record.username.as_str(), record.locked_until),
        ("tech2", None)
    );
    station.login(TECH2).await;
    assert_eq!(
        audited(&station, &admin, "account_unlocked").await,
        [pair("admin", "tech2", true)]
    );

    // Guessing the current password through a password change locks the
    // account just as guessing at sign-in does.
    let bearer = station.token(TECH).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(
            change(&station, &bearer, "a guess", NEW_PASSWORD)
                .await
                .code(),
        );
    }
    assert_eq!(codes[..4], [ErrorCode::InvalidCredentials; 4]);
    assert_eq!(codes[4], ErrorCode::AccountLocked);
    let right = change(&station, &bearer, TECH.1, NEW_PASSWORD).await;
    assert_eq!(
        (right.status, right.code()),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
    assert_eq!(
        station.try_login(TECH).await.code(),
        ErrorCode::AccountLocked
    );
}

/// A second administrator, created through the API, with its own password.
async fn second_administrator(station: &TestStation, admin: &str, username: &str) -> String {
    let temporary: TemporaryPassword = create(station, admin, username, "administrator")
        .await
        .json();
    let session = station
        .login((username, temporary.password.expose().as_str()))
        .await;
    let bearer = session.access_token.expose().clone();
    let changed = change(station, &bearer, temporary.password.expose(), NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    bearer
}

#[tokio::test(flavor = "multi_thread")]
async fn two_administrators_disabling_each_other_at_once_leave_one() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let own = station
        .post("/api/users/admin/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
    let ana = second_administrator(&station, &admin, "ana").await;
    let bob = second_administrator(&station, &admin, "bob").await;
    let out = station
        .post("/api/users/admin/disable", Some(&ana), &json!({}))
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);

    // Ana and Bob, the last two, each send a burst disabling the other.
    let mut burst = Vec::new();
    for _ in 0..8 {
        for (bearer, target) in [(&ana, "bob"), (&bob, "ana")] {
            let station = &station;
            burst.push(async move {
                let answer = station
                    .post(
                        &format!("/api/users/{target}/disable"),
                        Some(bearer),
                        &json!({}),
                    )
                    .await;
                (target, answer.status, answer.body)
            });
        }
    }
    let answers = futures_util::future::join_all(burst).await;
    let disabled: std::collections::BTreeSet<&str> = answers
        .iter()
        .filter(|(_, status, _)| *status == StatusCode::OK)
        .map(|(target, ..)| *target)
        .collect();
    assert_eq!(disabled.len(), 1, "{answers:?}");
    for (target, status, body) in &answers {
        if !disabled.contains(target) {
            assert!(
                matches!(*status, StatusCode::UNAUTHORIZED | StatusCode::CONFLICT),
                "{status} {body}"
            );
        }
    }
    let survivor = if disabled.contains("bob") { &ana } else { &bob };
    let listed = accounts(&station, survivor).await;
    let enabled_administrators: Vec<_> = listed
        .iter()
        .filter(|a| a.role == zpair_proto::api::Role::Administrator && !a.disabled)
        .map(|a| a.username.as_str())
        .collect();
    assert_eq!(enabled_administrators.len(), 1, "{listed:?}");
    // The survivor can still manage accounts: it enables the others again.
    for name in [
        "admin",
        if disabled.contains("bob") {
            "bob"
        } else {
            "ana"
        },
    ] {
        let answer = station
            .post(
                &format!("/api/users/{name}/enable"),
                Some(survivor),
                &json!({}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(!answer.json::<AccountRecord>().disabled);
    }
}

#[tokio::test]
async fn ending_sessions_and_disabling_answer_the_account_as_it_is_after() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    station.login(TECH).await;
    station.login(TECH).await;
    assert_eq!(account(&station, &admin, "tech").await.active_sessions, 2);
    let ended: AccountRecord = station
        .post("/api/users/tech/sessions/end", Some(&admin), &json!({}))
        .await
        .json();
    assert_eq!(ended.active_sessions, 0);
    let disabled: AccountRecord = station
        .post("/api/users/tech/disable", Some(&admin), &json!({}))
        .await
        .json();
    assert!(disabled.disabled);
    let enabled: AccountRecord = station
        .post("/api/users/tech/enable", Some(&admin), &json!({}))
        .await
        .json();
    assert!(!enabled.disabled);
    let names: Vec<String> = accounts(&station, &admin)
        .await
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, ["admin", "tech", "tech2"]);
    let tech = station.token(TECH).await;
    let refused = station
        .call(Method::GET, "/api/users", Some(&tech), None::<&()>)
        .await;
    assert_eq!(refused.code(), ErrorCode::ForbiddenRole);
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_passwords_never_reach_the_logs() {
    let logs = logs::capture();
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let created: TemporaryPassword = create(&station, &admin, "logged.user", "technician")
        .await
        .json();
    let reset: TemporaryPassword = station
        .post("/api/users/tech2/password/reset", Some(&admin), &json!({}))
        .await
        .json();
    let mut secrets = vec![NEW_PASSWORD.to_owned()];
    for temporary in [&created, &reset] {
        let password = temporary.password.expose().clone();
        let session = station
            .login((temporary.username.as_str(), password.as_str()))
            .await;
        let changed = change(
            &station,
            session.access_token.expose(),
            &password,
            NEW_PASSWORD,
        )
        .await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
        secrets.push(password);
    }
    let text = logs.text();
    assert!(
        text.contains("password reset") && text.contains("password changed"),
        "the capture sees the station's logs"
    );
    for secret in &secrets {
        for form in [
            secret.clone(),
            secret.to_uppercase(),
            secret.replace('-', ""),
        ] {
            assert!(!text.contains(&form), "{form} is in the logs");
        }
    }
}
