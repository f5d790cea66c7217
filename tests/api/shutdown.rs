//! Graceful shutdown lets in-flight requests finish and then refuses new connections.

use std::time::Duration;

use crate::support::app::spawn_app;

#[tokio::test]
async fn stopping_finishes_in_flight_requests_then_refuses_new_ones() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let url = app.url("/__test/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn({
        let handle = app.handle.clone();
        async move { handle.stop(true).await }
    });
    let response = in_flight.await.unwrap().expect("in-flight request completed");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    stopping.await.unwrap();

    app.run.await.unwrap().expect("clean stop");
    let fresh = reqwest::Client::new();
    assert!(fresh.get(format!("{}/health", app.address)).send().await.is_err(), "no longer listening");
}
