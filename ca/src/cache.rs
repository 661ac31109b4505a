//! A small size- and age-bounded cache (first in, first out) for minted server configs.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `capacity` entries, each at most `max_age` old. Eviction is FIFO: the cache
/// holds one entry per intercepted host, so recency tracking would buy nothing.
#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    capacity: usize,
    max_age: Duration,
    inner: Mutex<Inner<K, V>>,
}

#[derive(Debug)]
struct Inner<K, V> {
    map: HashMap<K, (Instant, V)>,
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(capacity: usize, max_age: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            max_age,
            inner: Mutex::new(Inner { map: HashMap::new(), order: VecDeque::new() }),
        }
    }

    /// The fresh entry for `key`, if any.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let inner = self.lock();
        let (born, value) = inner.map.get(key)?;
        (born.elapsed() < self.max_age).then(|| value.clone())
    }

    /// Inserts or replaces `key`, evicting the oldest entries beyond capacity.
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut inner = self.lock();
        if inner.map.insert(key.clone(), (Instant::now(), value)).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.map.remove(&oldest);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock cannot leave the map inconsistent (every
        // mutation is a single insert/remove), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_beyond_capacity() {
        let cache = BoundedCache::new(2, Duration::from_secs(60));
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.insert("c", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"c"), Some(3));
    }

    #[test]
    fn stale_entries_are_not_returned() {
        let cache = BoundedCache::new(2, Duration::ZERO);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), None);
    }
}
