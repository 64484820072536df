//! Reading the files a user names (deployment files, themes) without trusting them: only
//! a regular file is opened (a FIFO with no writer would block forever, `/dev/zero` would
//! never end), and never more than a stated number of bytes is read.

use std::io::Read;
use std::path::Path;

/// Reads the regular file at `path`, refusing anything else and anything larger than
/// `limit` bytes. The error is one line, without the path (the caller names the file).
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    check(&meta, limit)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    // The path may have been replaced between the two looks: check what was opened.
    check(&file.metadata().map_err(|e| format!("cannot read: {e}"))?, limit)?;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn check(meta: &std::fs::Metadata, limit: u64) -> Result<(), String> {
    if !meta.is_file() {
        return Err(format!("cannot read: {}, not a regular file", kind(meta)));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

fn too_large(limit: u64) -> String {
    if limit >= 1 << 20 {
        format!("cannot read: larger than the limit of {} MiB", limit >> 20)
    } else {
        format!("cannot read: larger than the limit of {limit} bytes")
    }
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

/// [`read_file`] for UTF-8 text; the error names the file.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let bytes = read_file(path, limit).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_directories_and_large_files() {
        let e = read_file(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e, "cannot read: a character device, not a regular file");
        let e = read_file(Path::new("."), 1024).unwrap_err();
        assert_eq!(e, "cannot read: a directory, not a regular file");
        let e = read_file(Path::new("Cargo.toml"), 10).unwrap_err();
        assert!(e.contains("larger than the limit"), "{e}");
        assert!(read_file(Path::new("Cargo.toml"), 1 << 20).is_ok());
    }
}
