//! The bounded edge: body limits, connection caps, header timeouts and the
//! cap on event streams, each seen from a client's side of the socket.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use zpair_proto::ErrorCode;

use reqwest::StatusCode;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::{TECH, TECH2, TestStation, record};

/// A second loopback address: another host, as far as the station can tell.
const OTHER_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const THIS_HOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A TLS connection to the station from `from`, speaking HTTP/1.1 by hand.
async fn connect(station: &TestStation, from: IpAddr) -> TlsStream<TcpStream> {
    connect_with(station, from, b"http/1.1").await
}

/// The same, offering `alpn` (`h2` for HTTP/2).
async fn connect_with(station: &TestStation, from: IpAddr, alpn: &[u8]) -> TlsStream<TcpStream> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    let tcp = socket
        .connect(station.station().local_addr())
        .await
        .expect("connect");
    let mut tls = rustls::ClientConfig::builder_with_provider(TestStation::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(station.roots())
        .with_no_client_auth();
    tls.alpn_protocols = vec![alpn.to_vec()];
    TlsConnector::from(Arc::new(tls))
        .connect(ServerName::IpAddress(THIS_HOST.into()), tcp)
        .await
        .expect("TLS handshake")
}

/// Reads until the station closes or `within` passes; what arrived.
async fn read_answer(stream: &mut TlsStream<TcpStream>, within: Duration) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_64_kib_sign_in_body_gets_413_without_being_read_whole() {
    let station = TestStation::start().await;
    let mut stream = connect(&station, THIS_HOST).await;
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: station\r\n\
                Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head");
    // A first KiB only: the rest never comes.
    stream.write_all(&[b' '; 1024]).await.expect("body");
    stream.flush().await.expect("flush");
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert!(answer.contains("payload_too_large"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_import_still_takes_a_large_body() {
    let station = TestStation::start().await;
    let admin = station.token(crate::support::ADMIN).await;
    let padding = "x".repeat(64 * 1024);
    let answer = station
        .post(
            "/api/devices/import",
            Some(&admin),
            &serde_json::json!({ "devices": [], "padding": padding }),
        )
        .await;
    assert_ne!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connection_cap_and_slow_header_clients_do_not_stop_other_users() {
    let header_timeout = Duration::from_secs(3);
    let station = TestStation::builder()
        .with_config(move |c| {
            c.edge.max_connections_per_peer = 4;
            c.edge.header_timeout = header_timeout;
        })
        .start()
        .await;

    // Another host takes its four slots with clients sending their request
    // headers one byte a second.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&station, OTHER_HOST).await;
        slow.push(tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            for byte in b"GET /healthz HTTP/1.1\r\nHost: station\r\nX-Slow: "
                .iter()
                .cycle()
            {
                if stream.write_all(&[*byte]).await.is_err() || stream.flush().await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                if started.elapsed() > Duration::from_secs(30) {
                    break;
                }
            }
            let answer = read_answer(&mut stream, Duration::from_secs(1)).await;
            (started.elapsed(), answer)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Its fifth connection is told to come back later, at once.
    let mut fifth = connect(&station, OTHER_HOST).await;
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: station\r\n\r\n")
        .await
        .expect("request");
    let answer = read_answer(&mut fifth, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after:"),
        "{answer:?}"
    );

    // Meanwhile everyone else is served as usual.
    let started = std::time::Instant::now();
    let health = station
        .client()
        .get(station.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("served");
    assert_eq!(health.status(), StatusCode::OK);
    assert!(station.login(TECH).await.access_token.expose().len() > 10);
    assert!(started.elapsed() < Duration::from_secs(5));

    // The slow clients are cut off at the header timeout.
    for client in slow {
        let (lasted, _) = client.await.expect("slow client");
        assert!(
            lasted < header_timeout + Duration::from_secs(4),
            "a slow-header client lasted {lasted:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http2_client_that_never_completes_its_headers_is_closed_at_the_header_timeout() {
    let header_timeout = Duration::from_secs(3);
    let station = TestStation::builder()
        .with_config(move |c| c.edge.header_timeout = header_timeout)
        .start()
        .await;
    let mut stream = connect_with(&station, THIS_HOST, b"h2").await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The connection preface and empty SETTINGS, then the first 9 bytes of
    // a HEADERS frame whose payload never comes.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    hello.extend_from_slice(&[0, 0, 64, 1, 4, 0, 0, 0, 1]);
    stream.write_all(&hello).await.expect("preface");
    stream.flush().await.expect("flush");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "never closed");
    // Before the HTTP/2 ping timeout (twice the header timeout) would.
    assert!(
        started.elapsed() < header_timeout + header_timeout / 2,
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_event_streams_for_one_user_get_429_with_retry_after() {
    let station = TestStation::builder()
        .with_config(|c| c.edge.max_streams_per_user = 2)
        .start()
        .await;
    let identity = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    station
        .register(&record("ZM-SSE-01", &identity, "127.0.0.1"))
        .await;
    let tech = station.token(TECH).await;
    let client = station.client();
    let open = || {
        client
            .get(station.url("/api/devices/ZM-SSE-01/events"))
            .bearer_auth(&tech)
            .send()
    };
    let first = open().await.expect("first");
    let second = open().await.expect("second");
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open().await.expect("third");
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    let body: zpair_proto::api::ApiError = third.json().await.expect("error body");
    assert_eq!(body.code, ErrorCode::TooManyStreams);

    // Another user is not affected.
    let other = station.token(TECH2).await;
    let theirs = client
        .get(station.url("/api/devices/ZM-SSE-01/events"))
        .bearer_auth(&other)
        .send()
        .await
        .expect("other user");
    assert_eq!(theirs.status(), StatusCode::OK);
    drop((first, second, theirs));
}
