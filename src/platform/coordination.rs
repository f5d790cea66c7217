//! What the nodes of a deployment share beyond the database: signals that must reach every
//! node (cancel a chat turn, forget cached limits) and counters that must be counted once (rate
//! limits). With `REDIS_URL` both go through Redis (pub/sub on one channel, GCRA in one atomic
//! script); without it, through this process only, which is exact for one node.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, OnceCell};
use uuid::Uuid;

/// Something every node must hear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Signal {
    /// Stop this chat turn wherever it runs.
    #[serde(rename_all = "camelCase")]
    CancelTurn { message_id: Uuid },
    /// The node running the turn was told to stop it.
    #[serde(rename_all = "camelCase")]
    TurnCancelling { message_id: Uuid },
    /// A tenant's rate limits changed.
    #[serde(rename_all = "camelCase")]
    TenantLimitsChanged { tenant_id: Uuid },
    /// Entries of these translation groups changed: drop the sites' public caches, re-index
    /// the groups from the database.
    #[serde(rename_all = "camelCase")]
    ContentChanged { sites: Vec<Uuid>, groups: Vec<Uuid> },
    /// A site's settings or media changed: drop its public cache.
    #[serde(rename_all = "camelCase")]
    SiteChanged { site_id: Uuid },
    /// A content type's fields changed: re-index its published entries.
    #[serde(rename_all = "camelCase")]
    TypeChanged { tenant_id: Uuid, type_id: Uuid },
    /// Sessions, keys, roles or tenants changed: drop cached principals.
    IdentitiesChanged,
    /// A site's index was rebuilt (or the site deleted) on one node: rebuild it here.
    #[serde(rename_all = "camelCase")]
    SiteIndexStale { site_id: Uuid },
}

/// A signal and the node that sent it (a node has already acted on its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: Uuid,
    pub signal: Signal,
}

const CHANNEL: &str = "lectern:signals";

/// The outcome of counting one request against a GCRA limit shared by all nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedCount {
    pub allowed: bool,
    pub remaining: u32,
    /// Allowed: until the burst is whole again; refused: until the next request may pass.
    pub reset: Duration,
}

/// GCRA (the algorithm governor uses in process) on one key, atomically. The theoretical
/// arrival time lives in the key, in milliseconds of the Redis server's clock, so nodes with
/// skewed clocks still count alike. ARGV: emission interval (ms), burst.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local tolerance = interval * burst
local next_tat = tat + interval
if next_tat - tolerance > now then
  return {0, 0, next_tat - tolerance - now}
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.max(1, next_tat - now))
return {1, math.floor((tolerance - (next_tat - now)) / interval), next_tat - now}
";

/// Failures on one key (a login throttle's account or IP): how many in the window, and how
/// long ago the last one was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub since_last: Duration,
}

/// Adds one failure to each key (a hash of count and last time, on Redis's clock) and keeps it
/// for the window. ARGV: window (ms).
const RECORD_FAILURE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'count', 1)
  redis.call('HSET', key, 'last', now)
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
";

/// Each key's failures as {count, ms since the last} (0, 0 when none).
const READ_FAILURES: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'count', 'last')
  local count = tonumber(v[1] or 0)
  local last = tonumber(v[2] or now)
  table.insert(out, count)
  table.insert(out, now - last)
end
return out
";

pub struct Coordination {
    /// This process, as the sender of its signals.
    node: Uuid,
    redis: Option<Redis>,
    /// Signals heard (from this node, or from every node through Redis).
    heard: broadcast::Sender<Envelope>,
}

struct Redis {
    client: redis::Client,
    /// Connected on first use, reconnecting by itself after a blip.
    connection: OnceCell<redis::aio::ConnectionManager>,
    gcra: redis::Script,
    record_failure: redis::Script,
    read_failures: redis::Script,
}

impl Coordination {
    /// In-process only, or through Redis at `redis_url` (checked here; connected on first use).
    pub fn new(redis_url: Option<&str>) -> Result<Self, String> {
        let redis = match redis_url {
            None => None,
            Some(url) => Some(Redis {
                client: redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?,
                connection: OnceCell::new(),
                gcra: redis::Script::new(GCRA),
                record_failure: redis::Script::new(RECORD_FAILURE),
                read_failures: redis::Script::new(READ_FAILURES),
            }),
        };
        Ok(Self { node: Uuid::now_v7(), redis, heard: broadcast::channel(1024).0 })
    }

    pub fn node(&self) -> Uuid {
        self.node
    }

    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// For health: where coordination happens and whether it answers.
    pub async fn check(&self) -> Result<String, String> {
        let Some(redis) = &self.redis else { return Ok("in-process (one node)".to_owned()) };
        let info = redis.client.get_connection_info();
        let at = format!("redis at {}", info.addr());
        let mut connection = tokio::time::timeout(Duration::from_secs(2), redis.connection())
            .await
            .map_err(|_| format!("{at}: no answer within 2 s"))?
            .map_err(|e| format!("{at}: {e}"))?;
        let pong: Result<String, _> =
            tokio::time::timeout(Duration::from_secs(2), redis::cmd("PING").query_async(&mut connection))
                .await
                .map_err(|_| format!("{at}: no answer within 2 s"))?;
        pong.map(|_| at.clone()).map_err(|e| format!("{at}: {e}"))
    }

    /// Tells every node (this one included).
    pub async fn publish(&self, signal: &Signal) -> Result<(), String> {
        let envelope = Envelope { from: self.node, signal: signal.clone() };
        let Some(redis) = &self.redis else {
            let _ = self.heard.send(envelope);
            return Ok(());
        };
        let payload = serde_json::to_string(&envelope).map_err(|e| e.to_string())?;
        let mut connection = redis.connection().await.map_err(|e| e.to_string())?;
        redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Signals as they are heard from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.heard.subscribe()
    }

    /// Relays the Redis channel to [`Self::subscribe`]rs until the process ends, resubscribing
    /// after a lost connection. `subscribed` runs each time the channel is (re)joined: whatever
    /// was sent while this node was not listening is lost, so that is when it catches up.
    /// Without Redis there is nothing to relay.
    pub async fn relay(&self, subscribed: impl Fn() + Send) {
        let Some(redis) = &self.redis else { return };
        loop {
            if let Err(error) = self.relay_once(redis, &subscribed).await {
                tracing::warn!(%error, "lost the Redis signal channel; resubscribing in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn relay_once(&self, redis: &Redis, subscribed: &impl Fn()) -> Result<(), redis::RedisError> {
        use futures_util::StreamExt;
        let mut pubsub = redis.client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        subscribed();
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let payload: String = message.get_payload()?;
            match serde_json::from_str::<Envelope>(&payload) {
                Ok(envelope) => {
                    let _ = self.heard.send(envelope);
                }
                // A newer node's signal this one does not know: ignore it.
                Err(error) => tracing::debug!(%error, "unknown signal"),
            }
        }
        Err(redis::RedisError::from((redis::ErrorKind::Io, "the subscription ended")))
    }

    /// Counts one request of `key` against `count` per `period`, across all nodes. None without
    /// Redis (the caller counts in process).
    pub async fn count(&self, key: &str, count: u32, period: Duration) -> Option<Result<SharedCount, String>> {
        let redis = self.redis.as_ref()?;
        Some(redis.count(key, count, period).await.map_err(|e| e.to_string()))
    }
}

/// Failure counters shared by all nodes (None without Redis: the caller keeps its own).
impl Coordination {
    pub async fn failures(&self, keys: &[String]) -> Option<Result<Vec<Failures>, String>> {
        let redis = self.redis.as_ref()?;
        let read = async {
            let mut connection = redis.connection().await?;
            let mut call = redis.read_failures.prepare_invoke();
            for key in keys {
                call.key(format!("lectern:fail:{key}"));
            }
            let flat: Vec<i64> = call.invoke_async(&mut connection).await?;
            Ok::<_, redis::RedisError>(
                flat.chunks(2)
                    .map(|pair| Failures {
                        count: u32::try_from(pair[0].max(0)).unwrap_or(u32::MAX),
                        since_last: Duration::from_millis(
                            u64::try_from(pair.get(1).copied().unwrap_or(0).max(0)).unwrap_or(0),
                        ),
                    })
                    .collect(),
            )
        };
        Some(read.await.map_err(|e| e.to_string()))
    }

    pub async fn record_failure(&self, keys: &[String], window: Duration) -> Option<Result<(), String>> {
        let redis = self.redis.as_ref()?;
        let record = async {
            let mut connection = redis.connection().await?;
            let mut call = redis.record_failure.prepare_invoke();
            for key in keys {
                call.key(format!("lectern:fail:{key}"));
            }
            call.arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX));
            call.invoke_async::<i64>(&mut connection).await.map(|_| ())
        };
        Some(record.await.map_err(|e| e.to_string()))
    }

    pub async fn forget_failures(&self, key: &str) -> Option<Result<(), String>> {
        let redis = self.redis.as_ref()?;
        let forget = async {
            let mut connection = redis.connection().await?;
            redis::cmd("DEL").arg(format!("lectern:fail:{key}")).query_async::<i64>(&mut connection).await.map(|_| ())
        };
        Some(forget.await.map_err(|e| e.to_string()))
    }
}

impl Redis {
    async fn connection(&self) -> redis::RedisResult<redis::aio::ConnectionManager> {
        // Fail fast when Redis is away (the caller reports it); a connection once made
        // reconnects by itself.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        self.connection.get_or_try_init(|| self.client.get_connection_manager_with_config(config)).await.cloned()
    }

    async fn count(&self, key: &str, count: u32, period: Duration) -> redis::RedisResult<SharedCount> {
        let interval_ms = (period.as_millis() / u128::from(count.max(1))).max(1);
        let mut connection = self.connection().await?;
        let (allowed, remaining, reset_ms): (i64, i64, i64) = self
            .gcra
            .key(format!("lectern:rl:{key}"))
            .arg(u64::try_from(interval_ms).unwrap_or(u64::MAX))
            .arg(count)
            .invoke_async(&mut connection)
            .await?;
        Ok(SharedCount {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset: Duration::from_millis(u64::try_from(reset_ms.max(0)).unwrap_or(0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_url() -> Option<String> {
        crate::engines::test_servers::url("LECTERN_TEST_REDIS_URL")
    }

    #[tokio::test]
    async fn in_process_signals_reach_this_node_only() {
        let local = Coordination::new(None).unwrap();
        let mut heard = local.subscribe();
        let signal = Signal::CancelTurn { message_id: Uuid::now_v7() };
        local.publish(&signal).await.unwrap();
        assert_eq!(heard.recv().await.unwrap(), Envelope { from: local.node(), signal });
        assert!(local.count("k", 5, Duration::from_secs(60)).await.is_none(), "counted in process");
        assert_eq!(local.check().await.unwrap(), "in-process (one node)");
    }

    #[tokio::test]
    async fn signals_reach_every_node_through_redis() {
        let Some(url) = redis_url() else { return };
        let nodes: Vec<std::sync::Arc<Coordination>> =
            (0..3).map(|_| std::sync::Arc::new(Coordination::new(Some(&url)).unwrap())).collect();
        let mut heard: Vec<_> = nodes.iter().map(|n| n.subscribe()).collect();
        for node in &nodes {
            let node = node.clone();
            tokio::spawn(async move { node.relay(|| ()).await });
        }
        let signal = Signal::TenantLimitsChanged { tenant_id: Uuid::now_v7() };
        // The relays subscribe asynchronously: publish until every node has heard it once.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for receiver in &mut heard {
            loop {
                nodes[0].publish(&signal).await.unwrap();
                match tokio::time::timeout(Duration::from_millis(200), receiver.recv()).await {
                    Ok(got) => {
                        assert_eq!(got.unwrap(), Envelope { from: nodes[0].node(), signal: signal.clone() });
                        break;
                    }
                    Err(_) => assert!(tokio::time::Instant::now() < deadline, "a node never heard the signal"),
                }
            }
        }
        assert!(nodes[1].check().await.unwrap().starts_with("redis at "));
    }

    #[tokio::test]
    async fn a_shared_limit_is_counted_once_across_nodes() {
        let Some(url) = redis_url() else { return };
        let nodes: Vec<Coordination> = (0..3).map(|_| Coordination::new(Some(&url)).unwrap()).collect();
        let key = format!("test:{}", Uuid::now_v7());
        let mut allowed = Vec::new();
        for i in 0..9 {
            let counted = nodes[i % 3].count(&key, 5, Duration::from_secs(60)).await.unwrap().unwrap();
            allowed.push((counted.allowed, counted.remaining));
            if !counted.allowed {
                assert!(counted.reset > Duration::from_secs(5), "{counted:?}");
            }
        }
        assert_eq!(
            allowed,
            [(true, 4), (true, 3), (true, 2), (true, 1), (true, 0), (false, 0), (false, 0), (false, 0), (false, 0)]
        );
        let other = nodes[0].count(&format!("{key}-b"), 5, Duration::from_secs(60)).await.unwrap().unwrap();
        assert!(other.allowed, "limits are per key");
        let failures = [format!("{key}-account"), format!("{key}-ip")];
        nodes[0].record_failure(&failures, Duration::from_secs(60)).await.unwrap().unwrap();
        nodes[1].record_failure(&failures[..1], Duration::from_secs(60)).await.unwrap().unwrap();
        let seen = nodes[2].failures(&failures).await.unwrap().unwrap();
        assert_eq!(seen.iter().map(|f| f.count).collect::<Vec<_>>(), [2, 1], "failures counted across nodes");
        assert!(seen[0].since_last < Duration::from_secs(5));
        nodes[2].forget_failures(&failures[0]).await.unwrap().unwrap();
        assert_eq!(nodes[0].failures(&failures).await.unwrap().unwrap()[0].count, 0);
        let broken = Coordination::new(Some("redis://127.0.0.1:1/")).unwrap();
        assert!(broken.count(&key, 5, Duration::from_secs(60)).await.unwrap().is_err(), "an error, not a panic");
        assert!(broken.check().await.is_err());
    }
}
