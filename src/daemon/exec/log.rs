//! An application's bounded log: its stdout and stderr go straight to `APP.log`, opened
//! with `O_APPEND` and handed to the process, so the output needs no agent in between and
//! keeps flowing while the agent restarts. The agent bounds it by copy-and-truncate: when
//! the file passes the limit its last `limit` bytes become `APP.log.1` (replacing the
//! previous one) and the file is truncated; the application's appends then start again at
//! offset 0. At most `2 x limit` bytes are kept, plus what the application writes between
//! two checks.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Opens (creating) the log for appending, readable by owner and group only.
pub(super) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).mode(0o640).open(path)
}

/// The previous generation's path: `APP.log.1`.
pub(super) fn rotated(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    PathBuf::from(s)
}

/// Rotates `path` when it is larger than `limit` bytes; true when it did.
pub(super) fn rotate_if_needed(path: &Path, limit: u64) -> io::Result<bool> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    if len <= limit {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - limit))?;
    let mut tail = Vec::with_capacity(limit.min(16 << 20) as usize);
    Read::by_ref(&mut file).take(limit).read_to_end(&mut tail)?;
    let old = rotated(path);
    let tmp = {
        let mut s = old.as_os_str().to_owned();
        s.push(".tmp");
        PathBuf::from(s)
    };
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o640)
        .open(&tmp)?;
    out.write_all(&tail)?;
    drop(out);
    std::fs::rename(&tmp, &old)?;
    file.set_len(0)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_past_its_limit_keeps_its_tail_in_one_older_file() {
        let dir = std::env::temp_dir().join(format!("hactl-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.log");
        let mut f = open_append(&path).unwrap();
        f.write_all(&[b'a'; 100]).unwrap();
        assert!(!rotate_if_needed(&path, 100).unwrap());
        f.write_all(b"0123456789").unwrap();
        assert!(rotate_if_needed(&path, 100).unwrap());
        let old = std::fs::read(rotated(&path)).unwrap();
        assert_eq!(old.len(), 100);
        assert!(old.ends_with(b"0123456789"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        // The writer's appends go to the start of the truncated file.
        f.write_all(b"next").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"next");
        assert!(!rotate_if_needed(&dir.join("missing.log"), 10).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
