//! The server bounds what idle clients can hold: a connection that does not finish its
//! headers in time is closed, and at the connection bound a new one waits until one
//! closes instead of costing memory and file descriptors. Waits are bounded; the bound
//! only matters on failure.

use std::time::Duration;

use reportcheck_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUND: Duration = Duration::from_secs(20);

fn address(base_url: &str) -> String {
    base_url.trim_start_matches("http://").trim_end_matches("/api/2").to_owned()
}

#[tokio::test]
async fn half_open_connections_are_closed_and_do_not_lock_others_out() {
    let config = Config { max_connections: 2, header_read_timeout: Duration::from_millis(300), ..Config::default() };
    let server = reportcheck_server::spawn(config).await.expect("server starts");
    let addr = address(server.base_url());
    // Two clients that start a request and never finish its headers: the bound is full.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        stream.write_all(b"GET /api/2/reports HTTP/1.1\r\nHost: x\r\n").await.expect("write");
        stalled.push(stream);
    }
    // A real request still gets its answer: the stalled ones are closed after the
    // header-read timeout and free their places.
    let answer = tokio::time::timeout(BOUND, reqwest::get(format!("{}/reports", server.base_url())))
        .await
        .expect("answered while two connections stall")
        .expect("a response");
    assert_eq!(answer.status(), 405, "GET /reports is answered (only POST is allowed there)");
    for mut stream in stalled {
        // The server closed it: the read ends (EOF, or a reset) instead of waiting.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(BOUND, stream.read_to_end(&mut rest)).await.expect("closed by the server");
    }
}
