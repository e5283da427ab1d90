//! Lifespan handlers, shared info, and their order around serving.
#![cfg(feature = "test")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bareasgi::test::TestClient;
use bareasgi::{Application, BoxError, HttpRequest, TypeMap};
use common::TestServer;
use tokio::net::{TcpListener, TcpStream};

struct Counter(AtomicUsize);

struct Log(Arc<Mutex<Vec<&'static str>>>);

async fn create_counter(info: &mut TypeMap) -> Result<(), BoxError> {
    info.get::<Log>()
        .ok_or("no log")?
        .0
        .lock()
        .unwrap()
        .push("startup 1");
    info.insert(Counter(AtomicUsize::new(0)));
    Ok(())
}

async fn second_startup(info: &mut TypeMap) -> Result<(), BoxError> {
    let log = info.get::<Log>().ok_or("no log")?;
    assert!(info.contains::<Counter>(), "startup handlers run in order");
    log.0.lock().unwrap().push("startup 2");
    Ok(())
}

async fn report(info: &TypeMap) -> Result<(), BoxError> {
    let served = info
        .get::<Counter>()
        .ok_or("no counter")?
        .0
        .load(Ordering::SeqCst);
    info.get::<Log>()
        .ok_or("no log")?
        .0
        .lock()
        .unwrap()
        .push(if served == 2 {
            "shutdown saw 2"
        } else {
            "shutdown saw ?"
        });
    Ok(())
}

async fn count(req: HttpRequest) -> String {
    let counter = req.info.get::<Counter>().unwrap();
    (counter.0.fetch_add(1, Ordering::SeqCst) + 1).to_string()
}

#[tokio::test]
async fn startup_fills_info_handlers_share_it_and_shutdown_runs_after_draining() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut app = Application::new();
    app.info.insert(Log(log.clone()));
    app.on_startup(create_counter)
        .on_startup(second_startup)
        .on_shutdown(report);
    app.on_shutdown(|_info: &TypeMap| async { Ok::<(), std::io::Error>(()) });
    app.http_router.add(["GET"], "/count", count);
    // The TestClient runs the startup handlers before it returns, as `serve` does before
    // it accepts.
    let client = TestClient::new(app);
    assert_eq!(*log.lock().unwrap(), ["startup 1", "startup 2"]);
    assert_eq!(client.get("/count").await.text().await, "1");
    assert_eq!(client.get("/count").await.text().await, "2");
    client.shutdown().await;
    assert_eq!(
        *log.lock().unwrap(),
        ["startup 1", "startup 2", "shutdown saw 2"]
    );
}

#[tokio::test]
async fn a_failing_startup_handler_stops_serve_before_it_accepts_anything() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut app = Application::new();
    app.on_startup(|_info: &mut TypeMap| async { Ok::<(), BoxError>(()) });
    app.on_startup(|_info: &mut TypeMap| async {
        Err::<(), BoxError>("database unreachable".into())
    });
    let shutdown_ran = Arc::new(Mutex::new(false));
    let flag = shutdown_ran.clone();
    app.on_shutdown(move |_info: &TypeMap| {
        *flag.lock().unwrap() = true;
        async { Ok::<(), BoxError>(()) }
    });
    let error = app
        .serve_with_shutdown(listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(error.is_startup());
    assert_eq!(
        error.to_string(),
        "startup handler #1 failed: database unreachable"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing may be accepted after a failed startup"
    );
    assert!(!*shutdown_ran.lock().unwrap());
}

#[tokio::test]
async fn a_failing_shutdown_handler_does_not_stop_the_others() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut app = Application::new();
    app.on_shutdown(|_info: &TypeMap| async { Err::<(), BoxError>("flush failed".into()) });
    let counter = ran.clone();
    app.on_shutdown(move |_info: &TypeMap| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok::<(), BoxError>(()) }
    });
    TestServer::start(app).await.stop().await.unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}
