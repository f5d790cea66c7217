//! Group commit: many writers wait for one durable commit instead of each paying for its own.
//!
//! A writer adds its data (uncommitted) and then asks for a commit. One thread runs the commits:
//! it takes every request that arrived, commits once, and answers them all. A commit that
//! answers a request always starts after that request arrived, so it covers the writer's data.
//! With one writer this is a commit per write, as before; with many, the cost (fsyncs, segment
//! flushes, reader reloads) is shared by all writes that arrive while a commit runs.

use std::sync::mpsc;

use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<(), String>>;

pub struct GroupCommit {
    /// Always Some until drop.
    requests: Option<mpsc::Sender<Reply>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the committing thread. Dropping the `GroupCommit` stops it (after the commit
    /// in progress) and waits for it.
    pub fn start(name: &str, commit: impl Fn() -> Result<(), String> + Send + 'static) -> std::io::Result<Self> {
        let (requests, inbox) = mpsc::channel::<Reply>();
        let index = name.to_owned();
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            while let Ok(first) = inbox.recv() {
                let mut waiting = vec![first];
                waiting.extend(inbox.try_iter());
                let outcome = commit();
                crate::platform::telemetry::metrics::group_commit(&index, waiting.len());
                for reply in waiting {
                    let _ = reply.send(outcome.clone());
                }
            }
        })?;
        Ok(Self { requests: Some(requests), thread: Some(thread) })
    }

    /// Returns once a commit that started after this call has finished.
    pub async fn commit(&self) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        let requests = self.requests.as_ref().ok_or_else(|| "the index is closing".to_owned())?;
        requests.send(reply).map_err(|_| "the committing thread has stopped".to_owned())?;
        answer.await.map_err(|_| "the committing thread has stopped".to_owned())?
    }
}

/// Stops the thread and waits for it, so that what its commit function holds (an index
/// writer and its lock file) is released when the owner is dropped, not some time later.
impl Drop for GroupCommit {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn concurrent_writers_share_commits_and_each_sees_its_data_committed() {
        let written = Arc::new(AtomicUsize::new(0));
        let committed = Arc::new(AtomicUsize::new(0));
        let commits = Arc::new(AtomicUsize::new(0));
        let (w, c, n) = (written.clone(), committed.clone(), commits.clone());
        let group = Arc::new(
            GroupCommit::start("test-commit", move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                c.store(w.load(Ordering::SeqCst), Ordering::SeqCst);
                n.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .unwrap(),
        );
        let writers: Vec<_> = (0..50)
            .map(|_| {
                let (group, written, committed) = (group.clone(), written.clone(), committed.clone());
                tokio::spawn(async move {
                    let mine = written.fetch_add(1, Ordering::SeqCst) + 1;
                    group.commit().await.unwrap();
                    assert!(committed.load(Ordering::SeqCst) >= mine, "the answering commit covers my write");
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let commits = commits.load(Ordering::SeqCst);
        assert!((1..50).contains(&commits), "50 writers, {commits} commits");
    }

    #[tokio::test]
    async fn a_failed_commit_is_reported_to_every_writer_it_answers() {
        let group = GroupCommit::start("test-fail", || Err("disk full".to_owned())).unwrap();
        assert_eq!(group.commit().await, Err("disk full".to_owned()));
    }
}
