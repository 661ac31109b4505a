//! [`RecentPages`]: the pages kept for signed records, bounded in number, bytes and age.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use zeroize::Zeroizing;

/// How long a page is kept after it was received.
pub(crate) const LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Most pages kept (the oldest goes first).
pub(crate) const MAX_PAGES: usize = 16;
/// Most bytes kept, all pages together (the oldest go first).
pub(crate) const MAX_BYTES: usize = 32 * 1024 * 1024;

/// One kept page.
#[derive(Debug, Clone)]
pub(crate) struct RecentPage {
    /// Random, 32 hex digits: what the own page's form names it by.
    pub(crate) id: String,
    /// The URL it was loaded from.
    pub(crate) url: String,
    /// Its Content-Type as sent.
    pub(crate) content_type: String,
    /// When its last byte arrived.
    pub(crate) received: SystemTime,
    /// The body as the server sent it (content coding removed); wiped when the last
    /// holder drops it.
    pub(crate) bytes: Arc<Zeroizing<Vec<u8>>>,
}

/// The recently received pages of configured sites.
#[derive(Debug, Default)]
pub(crate) struct RecentPages {
    pages: Mutex<VecDeque<(Instant, RecentPage)>>,
}

impl RecentPages {
    /// Keeps a page received now (dropping expired ones, and the oldest beyond the bounds).
    pub(crate) fn keep(&self, url: String, content_type: String, bytes: Zeroizing<Vec<u8>>) {
        let Ok(id) = crate::random::random_hex(16) else { return };
        let page = RecentPage { id, url, content_type, received: SystemTime::now(), bytes: Arc::new(bytes) };
        tracing::info!(len = page.bytes.len(), "page kept for a signed record");
        let mut pages = self.pages();
        prune(&mut pages, Instant::now());
        pages.push_back((Instant::now(), page));
        while pages.len() > MAX_PAGES || pages.iter().map(|(_, p)| p.bytes.len()).sum::<usize>() > MAX_BYTES {
            pages.pop_front();
        }
    }

    /// The pages kept, newest first.
    pub(crate) fn list(&self) -> Vec<RecentPage> {
        let mut pages = self.pages();
        prune(&mut pages, Instant::now());
        pages.iter().rev().map(|(_, page)| page.clone()).collect()
    }

    /// The page `id`, while it is kept.
    pub(crate) fn get(&self, id: &str) -> Option<RecentPage> {
        let mut pages = self.pages();
        prune(&mut pages, Instant::now());
        pages.iter().find(|(_, page)| page.id == id).map(|(_, page)| page.clone())
    }

    fn pages(&self) -> MutexGuard<'_, VecDeque<(Instant, RecentPage)>> {
        // Every update is one push or pop: a poisoned lock holds a whole queue.
        self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn prune(pages: &mut VecDeque<(Instant, RecentPage)>, now: Instant) {
    while pages.front().is_some_and(|(at, _)| now.duration_since(*at) >= LIFETIME) {
        pages.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_bounded() {
        let store = RecentPages::default();
        for n in 0..MAX_PAGES + 3 {
            store.keep(format!("https://a.example/{n}"), "text/html".into(), Zeroizing::new(vec![b'x'; 10]));
        }
        let list = store.list();
        assert_eq!(list.len(), MAX_PAGES);
        assert_eq!(list[0].url, format!("https://a.example/{}", MAX_PAGES + 2), "newest first");
        assert!(store.get(&list[0].id).is_some() && store.get("0").is_none());

        store.keep("https://a.example/big".into(), "text/html".into(), Zeroizing::new(vec![0; MAX_BYTES - 5]));
        let list = store.list();
        assert_eq!(list.len(), 1, "the older pages made room");
        assert!(list.iter().map(|p| p.bytes.len()).sum::<usize>() <= MAX_BYTES);

        let old = Instant::now().checked_sub(LIFETIME).unwrap();
        store.pages().front_mut().unwrap().0 = old;
        assert!(store.list().is_empty(), "expired");
    }
}
