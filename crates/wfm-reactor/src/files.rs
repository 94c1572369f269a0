//! Files and directories the daemon creates are private: directories 0700, the store and
//! the file sink's output 0600 (contract, hostile input: they hold every agent's presence
//! and schedule, personal data).
//!
//! The modes are set explicitly after creation (`chmod`), not only asked of `open`/`mkdir`,
//! whose modes the process umask can still change; files and directories that already
//! existed are left as the operator made them.

use std::io;
use std::path::Path;

/// Mode of directories the daemon creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files the daemon creates.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, each one created here with [`DIR_MODE`].
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    match builder.create(dir) {
        Ok(()) => set_mode(dir, DIR_MODE),
        // Another task created it meanwhile: it is not ours to change.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the parent directories (private) and, when it does not exist yet, the file
/// itself with [`FILE_MODE`]. Returns whether the file was created.
pub fn create_private_file(path: &Path) -> io::Result<bool> {
    if let Some(dir) = path.parent() {
        create_private_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    match options.open(path) {
        Ok(file) => {
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(FILE_MODE))?;
            drop(file);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_parts_are_private_existing_ones_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = tmp.path().join("a/b/f.db");
        assert!(create_private_file(&file).unwrap());
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(tmp.path()), 0o755, "an existing directory is not changed");
        assert!(!create_private_file(&file).unwrap(), "second call finds it");
    }
}
