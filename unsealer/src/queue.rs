//! The work queue, with client-go's workqueue guarantees: a key waits in the queue at most
//! once, a key being worked on is never handed to a second worker (an add meanwhile marks it to
//! run again when the first finishes), and failed keys come back after a per-key exponential
//! backoff (5 ms doubling to 1000 s) until `--max-unseal-retries`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// A SealedSecret's `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Key {
    /// A key.
    pub fn new(namespace: &str, name: &str) -> Key {
        Key { namespace: namespace.to_string(), name: name.to_string() }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Default)]
struct State {
    ready: VecDeque<Key>,
    queued: HashSet<Key>,
    active: HashSet<Key>,
    again: HashSet<Key>,
    failures: HashMap<Key, u32>,
    closed: bool,
}

/// The queue; cheap to share behind an `Arc`.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

/// The first retry waits this long; each next one twice as long.
const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest wait between retries.
const MAX_DELAY: Duration = Duration::from_secs(1000);

impl Queue {
    /// An empty queue.
    pub fn new() -> Arc<Queue> {
        Arc::new(Queue::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` (no-op when it already waits; deferred when a worker has it).
    pub fn add(&self, key: Key) {
        let mut s = self.lock();
        if s.closed || s.queued.contains(&key) {
            return;
        }
        if s.active.contains(&key) {
            s.again.insert(key);
            return;
        }
        s.queued.insert(key.clone());
        s.ready.push_back(key);
        drop(s);
        self.wake.notify_one();
    }

    /// Queues `key` after `delay` (needs a tokio runtime).
    pub fn add_after(self: &Arc<Self>, key: Key, delay: Duration) {
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(key);
        });
    }

    /// The next key to work on, marked as taken; `None` once the queue is closed.
    pub async fn next(&self) -> Option<Key> {
        loop {
            let notified = self.wake.notified();
            {
                let mut s = self.lock();
                if s.closed {
                    return None;
                }
                if let Some(key) = s.ready.pop_front() {
                    s.queued.remove(&key);
                    s.active.insert(key.clone());
                    if !s.ready.is_empty() {
                        self.wake.notify_one();
                    }
                    return Some(key);
                }
            }
            notified.await;
        }
    }

    /// The next key when one waits now, marked as taken (for draining the queue in tests and
    /// tools).
    pub fn try_next(&self) -> Option<Key> {
        let mut s = self.lock();
        let key = s.ready.pop_front()?;
        s.queued.remove(&key);
        s.active.insert(key.clone());
        Some(key)
    }

    /// The worker is finished with `key`; it is queued again if it was added meanwhile.
    pub fn done(&self, key: &Key) {
        let mut s = self.lock();
        s.active.remove(key);
        if s.again.remove(key) && !s.closed && s.queued.insert(key.clone()) {
            s.ready.push_back(key.clone());
            drop(s);
            self.wake.notify_one();
        }
    }

    /// Clears `key`'s failure count (after a success, or when giving up).
    pub fn forget(&self, key: &Key) {
        self.lock().failures.remove(key);
    }

    /// Records a failure of `key` and says how long to wait before retrying it, or `None`
    /// when it has failed more than `max_retries` times (then its count is cleared, so the
    /// next event starts afresh, as upstream).
    pub fn backoff(&self, key: &Key, max_retries: u32) -> Option<Duration> {
        let mut s = self.lock();
        let n = s.failures.entry(key.clone()).or_insert(0);
        if *n >= max_retries {
            s.failures.remove(key);
            return None;
        }
        let delay = BASE_DELAY.saturating_mul(1u32 << (*n).min(30)).min(MAX_DELAY);
        *n += 1;
        Some(delay)
    }

    /// Keys waiting (not counting those being worked on).
    pub fn len(&self) -> usize {
        self.lock().ready.len()
    }

    /// Whether no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops handing out keys; workers waiting in [`Queue::next`] get `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: &str) -> Key {
        Key::new("ns", n)
    }

    #[tokio::test]
    async fn a_key_waits_once_and_is_never_handed_out_twice() {
        let q = Queue::new();
        q.add(k("a"));
        q.add(k("a"));
        q.add(k("b"));
        assert_eq!(q.len(), 2);
        let first = q.next().await.unwrap();
        assert_eq!(first, k("a"));
        // Added again while a worker has it: deferred, not handed to a second worker.
        q.add(k("a"));
        assert_eq!(q.next().await.unwrap(), k("b"));
        assert!(q.is_empty());
        q.done(&first);
        assert_eq!(q.next().await.unwrap(), k("a"), "re-queued after the first worker finished");
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        let q = Queue::new();
        let delays: Vec<_> = (0..3).map(|_| q.backoff(&k("a"), 3)).collect();
        assert_eq!(
            delays,
            [Some(Duration::from_millis(5)), Some(Duration::from_millis(10)), Some(Duration::from_millis(20))]
        );
        assert_eq!(q.backoff(&k("a"), 3), None, "gives up after max retries");
        assert_eq!(q.backoff(&k("a"), 3), Some(Duration::from_millis(5)), "the next event starts afresh");
        q.forget(&k("a"));
        assert_eq!(q.backoff(&k("a"), 3), Some(Duration::from_millis(5)));
        let q = Queue::new();
        let mut last = Duration::ZERO;
        for _ in 0..40 {
            last = q.backoff(&k("b"), 100).unwrap();
        }
        assert_eq!(last, MAX_DELAY);
    }

    #[tokio::test]
    async fn close_releases_waiting_workers() {
        let q = Queue::new();
        let waiter = {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.next().await })
        };
        tokio::task::yield_now().await;
        q.close();
        assert_eq!(waiter.await.unwrap(), None);
    }
}
