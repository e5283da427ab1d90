//! No spurious `503` after Redis comes back (issue 20): once a restarted Redis has been up
//! for a moment, the next publish succeeds, whether or not anyone published while it was
//! down, and a publish is never stored twice. Before, the first publish after a restart
//! failed (`broken pipe`, or `Connection refused` left over from the outage) even 1.5 s
//! after Redis was back.
#![cfg(feature = "redis")]

mod common;

use std::time::Duration;

use bareasgi::hub::Hub;
use common::external::RedisServer;

const KEY: &str = "bareasgi:hub:t";

/// The events Redis holds for the topic: a duplicated publish would show here.
fn stored(redis: &RedisServer) -> usize {
    redis.cli(&["XLEN", KEY]).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_publish_after_a_redis_restart_succeeds() {
    if common::external::no_redis() {
        return;
    }
    // AOF, so what was acknowledged before a kill is still there to count.
    let mut redis = RedisServer::start_with_aof();
    let hub = Hub::redis(&redis.url()).unwrap();
    let mut published = 0;
    for round in 0..3 {
        hub.publish("t", format!("before {round}")).await.unwrap();
        published += 1;
        redis.kill();
        redis.restart();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = hub.publish("t", format!("after {round}")).await;
        assert!(after.is_ok(), "round {round}: {:?}", after.err());
        published += 1;
    }
    assert_eq!(stored(&redis), published, "each publish stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_refused_during_the_outage_leaves_no_503_behind() {
    if common::external::no_redis() {
        return;
    }
    let mut redis = RedisServer::start_with_aof();
    let hub = Hub::redis(&redis.url()).unwrap();
    let mut published = 0;
    for round in 0..3 {
        hub.publish("t", format!("before {round}")).await.unwrap();
        published += 1;
        redis.kill();
        let during = hub.publish("t", "during").await.unwrap_err();
        assert!(during.is_unavailable(), "{during}");
        redis.restart();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = hub.publish("t", format!("after {round}")).await;
        assert!(after.is_ok(), "round {round}: {:?}", after.err());
        published += 1;
    }
    assert_eq!(stored(&redis), published, "each publish stored once");
}
