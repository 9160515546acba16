//! State snapshots: loaded at start, written atomically (temp file + rename), debounced.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::state::{DeliveryStatus, State};
use crate::{Sandbox, SandboxError};

pub fn load(path: &Path) -> Result<Option<State>, SandboxError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut st: State = serde_json::from_slice(&bytes)
        .map_err(|e| SandboxError::StateFile(format!("{}: {e}", path.display())))?;
    // Requests that were running when the snapshot was taken never finished.
    st.idempotency.retain(|_, r| r.response.is_some());
    for d in st.deliveries.iter_mut() {
        if d.status == DeliveryStatus::Delivering {
            d.status = DeliveryStatus::Pending;
        }
    }
    st.rebuild_due();
    st.deliveries_queued = true;
    Ok(Some(st))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes a snapshot now if anything changed since the last one.
pub async fn save(sb: &Sandbox) -> std::io::Result<()> {
    let Some(path) = sb.shared.config.state_file.clone() else {
        return Ok(());
    };
    let _guard = sb.shared.persist_lock.lock().await;
    let bytes = {
        let mut st = sb.shared.state.lock();
        if !st.dirty && path.exists() {
            return Ok(());
        }
        st.dirty = false;
        serde_json::to_vec(&*st).map_err(std::io::Error::other)?
    };
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = temp_path(&path);
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?;
    if result.is_err() {
        // Try again at the next change.
        sb.shared.state.lock().dirty = true;
    }
    result
}

/// Waits for changes, lets them settle for the debounce delay, writes a snapshot.
pub async fn run_persister(sb: Sandbox) {
    let mut stop = sb.shared.stop.subscribe();
    let debounce = sb.shared.config.persist_debounce;
    loop {
        tokio::select! {
            _ = sb.shared.persist_notify.notified() => {}
            _ = stop.changed() => break,
        }
        tokio::select! {
            _ = tokio::time::sleep(debounce) => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = save(&sb).await {
            tracing::error!(error = %e, "writing the sandbox state file failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
